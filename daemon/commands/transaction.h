#pragma once
// Redis transactions: MULTI queues commands, EXEC runs them as one atomic
// step, DISCARD drops them, WATCH makes EXEC fail (a nil reply) when a
// watched key changed since. The commands' specs are in transaction.cc.
//
// EXEC runs the queued commands inside Engine::Atomically over the shards
// they touch (ShardsTouched): no other client sees a state between two of
// them, and every log entry they append reaches the disk in one RocksDB
// write, so after a crash the transaction is wholly there or wholly absent.
// As in Redis, a command that fails while running (WRONGTYPE, a bad value)
// answers its error inside EXEC's reply and the others still run; one
// refused while queuing (unknown, wrong arity, NOPERM) aborts the whole
// transaction (EXECABORT).

#include <span>
#include <string_view>

#include "commands/context.h"
#include "core/shard_set.h"
#include "protocol/command_table.h"

namespace tally::commands {

// The shards a call touches: its keys' shards (spec.keys); none for a
// command that touches no engine state (kNoShards, kConnection); every shard
// for any other command (it may read or write anywhere).
core::ShardMask ShardsTouched(const protocol::CommandSpec& spec, protocol::CommandArgs args);

// Called by the dispatcher while the client is inside MULTI, for a command
// that passed resolution and access checks and is not a transaction control
// (kTransactionControl): queues a copy of `args` and replies QUEUED.
void QueueCommand(protocol::CommandContext& ctx, protocol::CommandArgs args, protocol::ReplySink& reply);

// Drops the client's transaction and watches (RESET, the connection closing).
void EndTransaction(protocol::CommandContext& ctx);

// Before an atomic group that writes (EXEC, a script, MSET): true, with
// the disk_full or storage_failed error sent, when the log takes no writes
// now. Checked once for the group: inside it no op is refused for the log's
// sake (core/shard_set.h), so a group never half-runs.
bool RefuseIfLogStopped(protocol::CommandContext& ctx, protocol::ReplySink& reply);

// Runs fn() atomically over the shards of `keys` (Engine::Atomically), or
// directly when they all live on one shard (its op locks it anyway).
template <typename Keys, typename Fn>
void AtomicallyOverKeys(protocol::CommandContext& ctx, const Keys& keys, Fn&& fn) {
  core::ShardMask shards = 0;
  for (std::string_view key : keys) shards |= core::ShardSet::MaskOf(key);
  if ((shards & (shards - 1)) == 0) return fn();
  ctx.engine.Atomically(shards, fn);
}

std::span<const protocol::CommandSpec> TransactionCommands();

}  // namespace tally::commands
