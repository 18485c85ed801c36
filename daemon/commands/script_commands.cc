// EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT: Lua scripts over the one
// command table (docs/scripts.md). The Lua side (sandbox, conversions, the
// cache, SCRIPT KILL's watch) is daemon/script/; this file runs a script
// atomically and gives redis.call the command table.
//
// Atomicity: the whole script runs inside Engine::Atomically over the shards
// of its declared KEYS (every shard when it declares none, as a standalone
// Redis lets such a script touch anything). Before each redis.call the
// command's shards (ShardsTouched) must be among the held ones, else the
// call fails naming the key: a script never reaches for a shard it does not
// hold, so no other client sees it half-done, and every log entry it
// appends reaches the disk in one RocksDB write (after kill -9 it is wholly
// there or wholly absent).

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "commands/dispatch.h"
#include "commands/registry.h"
#include "commands/transaction.h"
#include "core/shard_set.h"
#include "protocol/errors.h"
#include "protocol/resp_parser.h"
#include "script/lua_runtime.h"
#include "script/reply_value.h"
#include "script/script_cache.h"
#include "script/script_watch.h"
#include "script/sha1.h"

namespace tally::commands {
namespace {

using protocol::CommandArgs;
using protocol::CommandContext;
using protocol::ErrorCode;
using protocol::ReplySink;
using script::ReplyValue;
namespace flags = protocol::flags;

constexpr int64_t kDefaultTimeLimitMs = 5000;

// script_time_limit_ms from the running configuration (5000 when absent),
// looked up once per thread and server.
std::chrono::milliseconds TimeLimit(const ServerState& server) {
  thread_local uint64_t server_instance = 0;
  thread_local int64_t limit_ms = kDefaultTimeLimitMs;
  if (server_instance != server.instance()) {
    limit_ms = kDefaultTimeLimitMs;
    if (const ConfigSetting* setting = server.config.Find("script_time_limit_ms")) {
      if (const int64_t* value = std::get_if<int64_t>(&setting->value)) limit_ms = *value;
    }
    server_instance = server.instance();
  }
  return std::chrono::milliseconds(limit_ms);
}

// redis.call and redis.pcall: the command table, with a script's limits.
class ScriptCaller final : public script::CommandCaller {
 public:
  ScriptCaller(CommandContext& ctx, bool read_only, core::ShardMask held, script::RunningScript& running)
      : ctx_(ctx), read_only_(read_only), held_(held), running_(running) {}

  ReplyValue Call(std::span<const std::string_view> args) override {
    const protocol::CommandTable& table = *ctx_.server.commands;
    const protocol::CommandSpec* spec = table.Find(args[0]);
    // Redis's texts, in Redis's order.
    if (spec == nullptr) return ReplyValue::Error("ERR Unknown Redis command called from script");
    if (!protocol::CommandTable::ArityMatches(spec->arity, args.size())) {
      return ReplyValue::Error("ERR Wrong number of args calling Redis command from script");
    }
    if (spec->flags & flags::kNoScript) return ReplyValue::Error("ERR This Redis command is not allowed from script");
    if (spec->flags & flags::kWrite) {
      if (read_only_) return ReplyValue::Error("ERR Write commands are not allowed from read-only scripts.");
      // Killed before its first write: it stops here, having written nothing.
      if (!script::ScriptWatch::Instance().MarkWriting(running_)) {
        return ReplyValue::Error("ERR Script killed by user with SCRIPT KILL...");
      }
    }
    const core::ShardMask touched = ShardsTouched(*spec, args);
    if ((touched & ~held_) != 0) return NotHeld(*spec, args);
    script::ReplyCapture capture;
    ResolveAndRun(table, ctx_, args, capture, [&] { return capture.replied_error(); });
    return capture.Take();
  }

 private:
  // The call reaches for a shard the script does not hold.
  ReplyValue NotHeld(const protocol::CommandSpec& spec, std::span<const std::string_view> args) const {
    std::string key;
    protocol::ForEachKey(spec, args, [&](std::string_view k) {
      if (key.empty() && (core::ShardSet::MaskOf(k) & ~held_) != 0) key = std::string(k.substr(0, 128));
    });
    if (!key.empty()) {
      return ReplyValue::Error("ERR key '" + key +
                               "' is not declared in KEYS: a script may only touch the keys it declares (their "
                               "shards are locked for it); pass every key the script uses as a key argument of "
                               "EVAL, or numkeys 0 to lock every shard");
    }
    return ReplyValue::Error("ERR " + protocol::AsciiLower(spec.name) +
                             " may touch any key: a script that calls it must declare no keys (numkeys 0 locks "
                             "every shard)");
  }

  CommandContext& ctx_;
  const bool read_only_;
  const core::ShardMask held_;
  script::RunningScript& running_;
};

// The script registered with ScriptWatch and this thread marked as running
// it, for the scope of one run (also when something throws).
class ScriptScope {
 public:
  explicit ScriptScope(script::RunningScript& running) : running_(running) {
    script::ScriptWatch::Instance().Begin(running_);
    script::SetInScriptOnThisThread(true);
  }
  ~ScriptScope() {
    script::SetInScriptOnThisThread(false);
    script::ScriptWatch::Instance().End(running_);
  }
  ScriptScope(const ScriptScope&) = delete;
  ScriptScope& operator=(const ScriptScope&) = delete;

 private:
  script::RunningScript& running_;
};

// EVAL and friends: args[1] is the body (or its SHA-1), args[2] numkeys.
void RunScript(CommandContext& ctx, CommandArgs args, ReplySink& reply, bool by_sha, bool read_only) {
  int64_t numkeys = 0;
  if (!protocol::ParseInt64(args[2], &numkeys)) {
    return reply.SendError(ErrorCode::kNotInteger, protocol::errors::kNotInteger);
  }
  if (numkeys > static_cast<int64_t>(args.size()) - 3) {
    return reply.SendError(ErrorCode::kInvalidArgument, "Number of keys can't be greater than number of args");
  }
  if (numkeys < 0) return reply.SendError(ErrorCode::kInvalidArgument, "Number of keys can't be negative");

  script::LuaRuntime& runtime = script::LuaRuntime::ForThisThread();
  std::string sha;
  std::string error;
  if (by_sha) {
    sha = script::NormalizeSha(args[1]);
    if (sha.empty() || !runtime.IsCompiled(sha)) {
      std::optional<std::string> body = script::ScriptCache::Instance().Find(args[1]);
      if (!body) return reply.SendError(ErrorCode::kNoScript, protocol::errors::kNoScript);
      if (!runtime.Compile(sha, *body, &error)) return reply.SendError(ErrorCode::kScriptError, error);
    }
  } else {
    sha = script::ScriptCache::Instance().Add(args[1]);
    if (!runtime.Compile(sha, args[1], &error)) return reply.SendError(ErrorCode::kScriptError, error);
  }

  const CommandArgs keys = args.subspan(3, static_cast<size_t>(numkeys));
  const CommandArgs argv = args.subspan(3 + static_cast<size_t>(numkeys));
  core::ShardMask mask = keys.empty() ? core::kAllShards : 0;
  for (std::string_view key : keys) mask |= core::ShardSet::MaskOf(key);
  // Inside EXEC the transaction already holds its shards (all of them for
  // an EVAL: its keys depend on numkeys, so EXEC takes every shard).
  const core::ShardMask held = ctx.engine.HeldShards();
  if (held != 0 && (mask & ~held) != 0) {
    return reply.SendError(ErrorCode::kScriptError,
                           "ERR the transaction does not hold the shards of this script's keys");
  }
  // A script that may write runs only while the log takes writes: inside
  // the atomic group no write is refused, so it never half-runs.
  if (!read_only && RefuseIfLogStopped(ctx, reply)) return;

  script::RunningScript running;
  running.sha = sha;
  running.limit = TimeLimit(ctx.server);
  ScriptCaller caller(ctx, read_only, mask, running);
  const script::ScriptRun run{sha, keys, argv, &caller, &running};
  ReplyValue result;
  {
    ScriptScope scope(running);
    result = ctx.engine.Atomically(mask, [&] { return runtime.Run(run); });
  }
  script::SendReplyValue(result, reply);
}

void Eval(CommandContext& ctx, CommandArgs args, ReplySink& reply) { RunScript(ctx, args, reply, false, false); }
void EvalSha(CommandContext& ctx, CommandArgs args, ReplySink& reply) { RunScript(ctx, args, reply, true, false); }
void EvalRo(CommandContext& ctx, CommandArgs args, ReplySink& reply) { RunScript(ctx, args, reply, false, true); }
void EvalShaRo(CommandContext& ctx, CommandArgs args, ReplySink& reply) { RunScript(ctx, args, reply, true, true); }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return protocol::AsciiLower(a) == protocol::AsciiLower(b);
}

void Script(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  (void)ctx;
  const std::string sub = protocol::AsciiLower(args[1]);
  if (sub == "load" && args.size() == 3) {
    std::string error;
    const std::string sha = script::Sha1Hex(args[2]);
    if (!script::LuaRuntime::ForThisThread().Compile(sha, args[2], &error)) {
      return reply.SendError(ErrorCode::kScriptError, error);
    }
    script::ScriptCache::Instance().Add(args[2]);
    return reply.SendBulk(sha);
  }
  if (sub == "exists" && args.size() >= 3) {
    reply.SendArray(args.size() - 2);
    for (size_t i = 2; i < args.size(); ++i) reply.SendInteger(script::ScriptCache::Instance().Contains(args[i]));
    return;
  }
  if (sub == "flush" && args.size() <= 3) {
    if (args.size() == 3 && !EqualsIgnoreCase(args[2], "SYNC") && !EqualsIgnoreCase(args[2], "ASYNC")) {
      return reply.SendError(ErrorCode::kSyntax, "SCRIPT FLUSH only support SYNC|ASYNC option");
    }
    script::ScriptCache::Instance().Flush();
    return reply.SendOk();
  }
  if (sub == "kill" && args.size() == 2) {
    switch (script::ScriptWatch::Instance().Kill()) {
      case script::KillOutcome::kKilled:
        return reply.SendOk();
      case script::KillOutcome::kNotBusy:
        return reply.SendError(ErrorCode::kNotBusy, protocol::errors::kNotBusy);
      case script::KillOutcome::kUnkillable:
        return reply.SendError(ErrorCode::kUnkillable, protocol::errors::kUnkillable);
    }
  }
  if (sub == "help") {
    static const char* kHelp[] = {
        "SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "EXISTS <sha1> [<sha1> ...]",
        "    Return information about the existence of the scripts in the script cache.",
        "FLUSH [ASYNC|SYNC]",
        "    Flush the Lua scripts cache. Very dangerous on replicas.",
        "    When called without the optional mode argument, the behavior is determined by the",
        "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
        "    * ASYNC: Asynchronously flush the scripts cache.",
        "    * SYNC: Synchronously flush the scripts cache.",
        "KILL",
        "    Kill the currently executing Lua script.",
        "LOAD <script>",
        "    Load a script into the scripts cache without executing it.",
        "HELP",
        "    Print this help.",
    };
    reply.SendArray(std::size(kHelp));
    for (const char* line : kHelp) reply.SendSimple(line);
    return;
  }
  if (sub == "load" || sub == "exists" || sub == "flush" || sub == "kill") {
    return reply.SendError(ErrorCode::kWrongArity, protocol::errors::WrongArity("script|" + sub));
  }
  reply.SendError(ErrorCode::kUnknownSubcommand, protocol::errors::UnknownSubcommand(args[1], "SCRIPT"));
}

using enum ErrorCode;
constexpr ErrorCode kEvalErrors[] = {kNotInteger, kInvalidArgument, kScriptError, kBusy};
constexpr ErrorCode kEvalShaErrors[] = {kNotInteger, kInvalidArgument, kScriptError, kNoScript, kBusy};
constexpr ErrorCode kScriptErrors[] = {kWrongArity, kSyntax, kUnknownSubcommand, kScriptError, kNotBusy, kUnkillable};

constexpr uint32_t kEvalFlags = flags::kWrite | flags::kNoScript;
constexpr uint32_t kEvalRoFlags = flags::kReadOnly | flags::kNoScript;
constexpr std::string_view kEvalSyntax = "script numkeys [key ...] [arg ...]";
constexpr std::string_view kEvalShaSyntax = "sha1 numkeys [key ...] [arg ...]";

// keys = {}: a script's keys are its first numkeys arguments after numkeys,
// which a KeySpec cannot say; RunScript locks their shards itself.
const protocol::CommandSpec kSpecs[] = {
    {"EVAL", -3, kEvalFlags, "scripting", kEvalSyntax,
     "Runs a Lua script atomically over the shards of its KEYS (every shard with numkeys 0).", Eval, kEvalErrors},
    {"EVALSHA", -3, kEvalFlags, "scripting", kEvalShaSyntax,
     "Runs a cached script by its SHA-1 (NOSCRIPT if it is not cached).", EvalSha, kEvalShaErrors},
    {"EVAL_RO", -3, kEvalRoFlags, "scripting", kEvalSyntax,
     "EVAL of a script that only reads (write commands fail in it).", EvalRo, kEvalErrors},
    {"EVALSHA_RO", -3, kEvalRoFlags, "scripting", kEvalShaSyntax,
     "EVALSHA of a script that only reads (write commands fail in it).", EvalShaRo, kEvalShaErrors},
    {"SCRIPT", -2, flags::kNoScript | flags::kNoShards, "scripting",
     "LOAD script | EXISTS sha1 [sha1 ...] | FLUSH [ASYNC | SYNC] | KILL | HELP",
     "The script cache (LOAD, EXISTS, FLUSH) and stopping a running script (KILL).", Script, kScriptErrors},
};

}  // namespace

std::span<const protocol::CommandSpec> ScriptCommands() { return kSpecs; }

}  // namespace tally::commands
