#pragma once
// The command table: one CommandSpec per command (name, arity, flags, summary,
// handler). Name lookup and arity checks happen here, once, before any handler
// runs, with Redis's exact error strings. The server, COMMAND, the CLI's help
// and the docs all read the same specs.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "protocol/error_codes.h"
#include "protocol/reply_sink.h"

namespace tally::protocol {

// ASCII lower case (command names, option words; Redis is ASCII-only here).
std::string AsciiLower(std::string_view text);

// Defined by the server; the protocol layer only passes it through.
struct CommandContext;

// args[0] is the command name as the client sent it.
using CommandArgs = std::span<const std::string_view>;
using CommandHandler = void (*)(CommandContext& context, CommandArgs args, ReplySink& reply);

namespace flags {
inline constexpr uint32_t kWrite = 1u << 0;       // changes state: logged, replied after the log write
inline constexpr uint32_t kReadOnly = 1u << 1;    // reads state
inline constexpr uint32_t kFast = 1u << 2;        // O(1) or O(log n)
inline constexpr uint32_t kAdmin = 1u << 3;       // server administration
inline constexpr uint32_t kConnection = 1u << 4;  // connection state only (PING, SELECT, CLIENT, ...)
inline constexpr uint32_t kNoScript = 1u << 5;
// Allowed while a RESP2 connection is subscribed (Redis's list: (P)SUBSCRIBE,
// (P)UNSUBSCRIBE, PING, QUIT, RESET); every other command is refused then.
inline constexpr uint32_t kSubscriberOk = 1u << 6;
// Runs before the client has authenticated (AUTH, HELLO, QUIT, RESET): every other
// command answers NOAUTH then, once a password is configured.
inline constexpr uint32_t kNoAuthOk = 1u << 7;
// Only the admin identity runs it (BACKUP): the reader gets NOPERM as for a write.
inline constexpr uint32_t kAdminOnly = 1u << 8;
// Touches no engine state (PING, ECHO, TIME): a transaction or script that
// calls it needs no shard for it. A command with neither this flag nor key
// positions (KeySpec) is taken to touch every shard.
inline constexpr uint32_t kNoShards = 1u << 9;
// Controls the transaction itself (MULTI, EXEC, DISCARD, WATCH, UNWATCH,
// QUIT, RESET): runs at once inside MULTI instead of being queued.
inline constexpr uint32_t kTransactionControl = 1u << 10;
}  // namespace flags

// Where a command's keys are among its arguments, as Redis's COMMAND INFO
// gives them: args[first], args[first + step], ... up to args[last] (a
// negative last counts from the end: -1 is the last argument). first = 0:
// the command takes no key. Transactions and scripts lock the shards of
// these keys (a key's shard is ShardSet::ShardOf(key)).
struct KeySpec {
  int first = 0;
  int last = 0;
  int step = 0;
};
// The common shapes.
inline constexpr KeySpec kOneKey{1, 1, 1};
inline constexpr KeySpec kEveryArgKey{1, -1, 1};    // DEL key [key ...]
inline constexpr KeySpec kKeyValuePairs{1, -1, 2};  // MSET key value [key value ...]

struct CommandSpec {
  std::string_view name;  // upper case, as documented
  int arity;              // Redis convention, name included: N = exactly N; -N = at least N
  uint32_t flags;
  std::string_view group;    // "string", "keyspace", "connection", "server", "counter", ...
  std::string_view syntax;   // arguments after the name, e.g. "key increment"
  std::string_view summary;  // one line for COMMAND DOCS, help and docs
  CommandHandler handler;
  // The error codes the handler itself can reply with. Every command can also
  // answer wrong_arity (checked before it runs), and a write storage_failed and
  // disk_full:
  // DeclaredErrors() adds those.
  std::span<const ErrorCode> errors = {};
  KeySpec keys = {};
};

// Calls visit(std::string_view key) for each key of `args` by spec.keys
// (none when it has no key positions). `args` passed the arity check.
template <typename Visit>
void ForEachKey(const CommandSpec& spec, CommandArgs args, Visit&& visit) {
  if (spec.keys.first <= 0 || spec.keys.step <= 0) return;
  const int count = static_cast<int>(args.size());
  const int last = spec.keys.last < 0 ? count + spec.keys.last : spec.keys.last;
  for (int i = spec.keys.first; i <= last && i < count; i += spec.keys.step) visit(args[i]);
}

// spec.errors, plus wrong_arity (unless any number of arguments will do:
// arity 1 or -1) and storage_failed and disk_full for a write, without repeats, in enum order.
std::vector<ErrorCode> DeclaredErrors(const CommandSpec& spec);

// Names of the flags, as COMMAND INFO and the docs show them ("write", "fast").
std::vector<std::string_view> FlagNames(uint32_t flags);

class CommandTable {
 public:
  // Adds specs (which must outlive the table). A duplicate name is a programming
  // error and aborts at start-up.
  void Register(std::span<const CommandSpec> specs);

  // Case-insensitive; nullptr when unknown.
  const CommandSpec* Find(std::string_view name) const;

  // Finds args[0] and checks arity. On failure sends the Redis error
  // ("unknown command ..." / "wrong number of arguments ...") and returns nullptr.
  // `index` (if given) receives the command's position in all(): set for a
  // found command even when its arity is wrong, kNoIndex when unknown. Front
  // ends use it to record per-command statistics without a second lookup.
  const CommandSpec* Resolve(CommandArgs args, ReplySink& reply, size_t* index = nullptr) const;

  // In registration order.
  const std::vector<const CommandSpec*>& all() const { return ordered_; }
  size_t size() const { return ordered_.size(); }

  // Position of a registered spec in all() (one hash lookup), kNoIndex if the
  // spec is not in this table.
  static constexpr size_t kNoIndex = static_cast<size_t>(-1);
  size_t IndexOf(const CommandSpec* spec) const;

  // Arity check alone, for subcommand tables.
  static bool ArityMatches(int arity, size_t arg_count) {
    return arity >= 0 ? arg_count == static_cast<size_t>(arity) : arg_count >= static_cast<size_t>(-arity);
  }

 private:
  struct NameHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  struct Entry {
    const CommandSpec* spec;
    size_t index;  // in ordered_
  };
  const Entry* FindEntry(std::string_view name) const;

  std::unordered_map<std::string, Entry, NameHash, std::equal_to<>> by_lower_name_;
  std::unordered_map<const CommandSpec*, size_t> index_of_;
  std::vector<const CommandSpec*> ordered_;
};

}  // namespace tally::protocol
