#pragma once
// Running one command, the same way for every front end: resolve the name and
// arity in the CommandTable, run the handler, record the call in the
// thread's ThreadStats. RespSession::Execute and the HTTP routes both call
// ResolveAndRun, so /metrics and INFO count both front ends alike.

#include <chrono>
#include <cstdint>

#include "commands/context.h"
#include "commands/transaction.h"
#include "protocol/command_table.h"
#include "protocol/errors.h"
#include "script/script_watch.h"

namespace tally::commands {

// Resolves args[0], runs its handler on `reply` and records the call in
// ctx.stats: RecordRejected for an unknown command or a wrong number of
// arguments (the error is already on `reply`), else RecordCommand with the
// handler's execution time (one steady_clock read before, one after; a
// write's wait for the log comes later and is not included) and
// `replied_error()`, asked right after the handler. Returns the spec that
// ran, nullptr if refused.
template <typename RepliedError>
const protocol::CommandSpec* ResolveAndRun(const protocol::CommandTable& table, protocol::CommandContext& ctx,
                                           protocol::CommandArgs args, protocol::ReplySink& reply,
                                           RepliedError&& replied_error) {
  size_t index = 0;
  const protocol::CommandSpec* spec = table.Resolve(args, reply, &index);
  // Inside MULTI, a command refused before it could be queued makes EXEC
  // discard the whole transaction (Redis's EXECABORT).
  auto refuse = [&] {
    ctx.stats.RecordRejected(index);
    if (ctx.client.transaction.open) [[unlikely]]
      ctx.client.transaction.aborted = true;
    return nullptr;
  };
  if (spec == nullptr) return refuse();
  // Access control (commands/access.h): nothing but AUTH, HELLO, QUIT and RESET
  // before the password, nothing that writes (or is admin-only) for the reader.
  if (ctx.client.identity == Identity::kNone && !(spec->flags & protocol::flags::kNoAuthOk)) {
    reply.SendError(protocol::ErrorCode::kNoAuth, protocol::errors::kNoAuth);
    return refuse();
  }
  if (ctx.client.identity == Identity::kReader &&
      (spec->flags & (protocol::flags::kWrite | protocol::flags::kAdminOnly))) {
    reply.SendError(protocol::ErrorCode::kNoPerm,
                    protocol::errors::NoPermission(IdentityName(ctx.client.identity), spec->name));
    return refuse();
  }
  // Redis's subscribed context: a RESP2 connection's replies and messages
  // share one stream, so only the commands whose replies a subscriber can
  // tell from messages run (RESP3 marks messages as pushes and lifts this).
  if (ctx.client.subscriptions() > 0 && ctx.client.protocol_version == 2 &&
      !(spec->flags & protocol::flags::kSubscriberOk)) {
    reply.SendError(protocol::ErrorCode::kPubSubContext, protocol::errors::PubSubContext(spec->name));
    return refuse();
  }
  // A script past script_time_limit_ms (script/script_watch.h): Redis's BUSY
  // for everyone else, but SCRIPT KILL and the connection commands. One
  // relaxed load while no script is past its limit.
  if (script::ScriptBusy()) [[unlikely]] {
    if (!script::InScriptOnThisThread() && !(spec->flags & protocol::flags::kConnection) &&
        !(spec->name == "SCRIPT" && args.size() == 2 && protocol::AsciiLower(args[1]) == "kill")) {
      reply.SendError(protocol::ErrorCode::kBusy, protocol::errors::kBusy);
      return refuse();
    }
  }
  // MULTI ... EXEC: queued, not run (commands/transaction.h).
  if (ctx.client.transaction.open && !(spec->flags & protocol::flags::kTransactionControl)) [[unlikely]] {
    QueueCommand(ctx, args, reply);
    return nullptr;
  }
  const auto started = std::chrono::steady_clock::now();
  spec->handler(ctx, args, reply);
  const auto elapsed = std::chrono::steady_clock::now() - started;
  ctx.stats.RecordCommand(index, static_cast<uint64_t>(std::chrono::nanoseconds(elapsed).count()), replied_error());
  return spec;
}

// The calling thread's statistics slot in `server`, taken on the thread's
// first call (ServerState::AddThreadStats) and reused after. For threads that
// do not own a slot otherwise: the HTTP server's I/O threads (a fixed pool,
// so a fixed number of slots). Not for short-lived threads: each would add
// a slot that is never released. A thread caches one ServerState's slot: a
// thread that alternates between two ServerStates (tests) takes a new slot
// at each switch.
inline ThreadStats& HttpThreadStats(ServerState& server) {
  thread_local uint64_t server_instance = 0;
  thread_local ThreadStats* stats = nullptr;
  if (stats == nullptr || server_instance != server.instance()) {
    stats = &server.AddThreadStats();
    server_instance = server.instance();
  }
  return *stats;
}

}  // namespace tally::commands
