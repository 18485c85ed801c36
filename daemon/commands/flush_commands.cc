// FLUSHDB and FLUSHALL: remove every key of the Redis-compatible keyspace
// (strings, HyperLogLogs, hashes, sorted sets) in one atomic step. They do
// NOT touch tally's own data (counters, plans, quotas, credits, meters,
// prices, distinct counts, the changefeed): that is not Redis data, and
// frameworks run FLUSHDB to clear a cache (Laravel's `cache:clear`), which
// must never wipe billing. docs/redis.md, "FLUSHDB and FLUSHALL".

#include "commands/context.h"
#include "commands/registry.h"
#include "commands/reply_status.h"
#include "commands/transaction.h"
#include "protocol/errors.h"

namespace tally::commands {
namespace {

using protocol::CommandArgs;
using protocol::CommandContext;
using protocol::ErrorCode;
using protocol::ReplySink;
namespace errors = protocol::errors;
namespace flags = protocol::flags;

// FLUSHDB [ASYNC | SYNC] / FLUSHALL [ASYNC | SYNC]: both modes clear at
// once (the memory is given back before the reply either way). One
// kPlainFlush log entry per shard, all in one RocksDB write.
void Flush(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  if (args.size() > 2 ||
      (args.size() == 2 && !EqualsIgnoreCase(args[1], "ASYNC") && !EqualsIgnoreCase(args[1], "SYNC"))) {
    return reply.SendError(ErrorCode::kSyntax, errors::kSyntax);
  }
  if (RefuseIfLogStopped(ctx, reply)) return;
  auto result = ctx.engine.Atomically(core::kAllShards, [&] { return ctx.engine.keyspace().Flush(); });
  if (!result.ok()) return SendOpError(reply, result);
  reply.SendOk();
}

constexpr ErrorCode kFlushErrors[] = {ErrorCode::kSyntax};

const protocol::CommandSpec kSpecs[] = {
    {"FLUSHDB", -1, flags::kWrite, "server", "[ASYNC | SYNC]",
     "Removes every Redis-compatible key (strings, HyperLogLogs, hashes, sorted sets); keeps tally's counters, "
     "plans, quotas, meters and distinct counts.",
     Flush, kFlushErrors},
    {"FLUSHALL", -1, flags::kWrite, "server", "[ASYNC | SYNC]",
     "The same as FLUSHDB (tally has one database): removes every Redis-compatible key, keeps tally's own data.", Flush,
     kFlushErrors},
};

}  // namespace

std::span<const protocol::CommandSpec> FlushCommands() { return kSpecs; }

}  // namespace tally::commands
