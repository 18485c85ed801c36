// MULTI, EXEC, DISCARD, WATCH, UNWATCH: see transaction.h.

#include "commands/transaction.h"

#include <string>
#include <string_view>
#include <vector>

#include "commands/dispatch.h"
#include "commands/reply_status.h"
#include "protocol/errors.h"

namespace tally::commands {
namespace {

using protocol::CommandArgs;
using protocol::CommandContext;
using protocol::ErrorCode;
using protocol::ReplySink;
namespace flags = protocol::flags;
namespace errors = protocol::errors;

// Passes every reply through to `inner`, noting whether the command's reply
// is an error (its first value), for the command statistics.
class NotingSink final : public ReplySink {
 public:
  explicit NotingSink(ReplySink& inner) : inner_(inner) {}
  bool replied_error() const { return first_was_error_; }

  void SendSimple(std::string_view text) override { Note(false), inner_.SendSimple(text); }
  void SendError(ErrorCode code, std::string_view message) override { Note(true), inner_.SendError(code, message); }
  void SendError(const protocol::Error& error) override { Note(true), inner_.SendError(error); }
  void SendInteger(int64_t value) override { Note(false), inner_.SendInteger(value); }
  void SendBulk(std::string_view bytes) override { Note(false), inner_.SendBulk(bytes); }
  void SendNull() override { Note(false), inner_.SendNull(); }
  void SendArray(size_t length) override { Note(false), inner_.SendArray(length); }
  void SendNullArray() override { Note(false), inner_.SendNullArray(); }
  void SendMap(size_t pairs) override { Note(false), inner_.SendMap(pairs); }
  void SendPush(size_t length) override { Note(false), inner_.SendPush(length); }
  void SendDouble(double value) override { Note(false), inner_.SendDouble(value); }

 private:
  void Note(bool error) {
    if (!noted_) first_was_error_ = error;
    noted_ = true;
  }
  ReplySink& inner_;
  bool noted_ = false;
  bool first_was_error_ = false;
};

void UnwatchAll(CommandContext& ctx) {
  for (const auto& [key, version] : ctx.client.transaction.watched) ctx.engine.keyspace().Unwatch(key);
  ctx.client.transaction.watched.clear();
}

void Multi(CommandContext& ctx, CommandArgs, ReplySink& reply) {
  TransactionState& tx = ctx.client.transaction;
  if (tx.open) return reply.SendError(ErrorCode::kTransactionState, errors::kNestedMulti);
  tx.open = true;
  tx.aborted = false;
  tx.queued.clear();
  reply.SendOk();
}

void Discard(CommandContext& ctx, CommandArgs, ReplySink& reply) {
  if (!ctx.client.transaction.open) return reply.SendError(ErrorCode::kTransactionState, errors::kDiscardWithoutMulti);
  EndTransaction(ctx);
  reply.SendOk();
}

void Watch(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  TransactionState& tx = ctx.client.transaction;
  if (tx.open) return reply.SendError(ErrorCode::kTransactionState, errors::kWatchInsideMulti);
  for (std::string_view key : args.subspan(1)) {
    bool already = false;
    for (const auto& watched : tx.watched) already = already || watched.first == key;
    if (!already) tx.watched.emplace_back(std::string(key), ctx.engine.keyspace().Watch(key));
  }
  reply.SendOk();
}

void Unwatch(CommandContext& ctx, CommandArgs, ReplySink& reply) {
  UnwatchAll(ctx);
  reply.SendOk();
}

void Exec(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  // Redis answers EXEC's wrong arity with EXECABORT (and discards any
  // transaction), not with the usual error: hence arity -1 and this check.
  if (args.size() != 1) {
    EndTransaction(ctx);
    return reply.SendError(ErrorCode::kExecAbort, std::string(errors::kExecAbortBecause) + errors::WrongArity(args[0]));
  }
  if (!ctx.client.transaction.open) return reply.SendError(ErrorCode::kTransactionState, errors::kExecWithoutMulti);
  // The transaction ends here whatever happens; its watches end after it ran.
  TransactionState tx = std::move(ctx.client.transaction);
  ctx.client.transaction = TransactionState{};
  ctx.client.transaction.watched = std::move(tx.watched);
  struct UnwatchAtEnd {
    CommandContext& ctx;
    ~UnwatchAtEnd() { UnwatchAll(ctx); }
  } unwatch_at_end{ctx};
  if (tx.aborted) return reply.SendError(ErrorCode::kExecAbort, errors::kExecAbort);

  const protocol::CommandTable& table = *ctx.server.commands;
  std::vector<std::vector<std::string_view>> calls;
  calls.reserve(tx.queued.size());
  core::ShardMask shards = 0;
  bool writes = false;
  for (const auto& argv : tx.queued) {
    std::vector<std::string_view>& call = calls.emplace_back(argv.begin(), argv.end());
    const protocol::CommandSpec* spec = table.Find(call[0]);  // resolved when queued
    shards |= ShardsTouched(*spec, call);
    writes = writes || (spec->flags & flags::kWrite);
  }
  for (const auto& [key, version] : ctx.client.transaction.watched) shards |= core::ShardSet::MaskOf(key);
  if (writes && RefuseIfLogStopped(ctx, reply)) return;
  ctx.engine.Atomically(shards, [&] {
    for (const auto& [key, version] : ctx.client.transaction.watched) {
      if (ctx.engine.keyspace().KeyChangedSince(key, version)) return reply.SendNullArray();
    }
    reply.SendArray(calls.size());
    for (const auto& call : calls) {
      NotingSink noting(reply);
      ResolveAndRun(table, ctx, CommandArgs(call.data(), call.size()), noting, [&] { return noting.replied_error(); });
    }
  });
}

constexpr ErrorCode kMultiErrors[] = {ErrorCode::kTransactionState};
constexpr ErrorCode kExecErrors[] = {ErrorCode::kTransactionState, ErrorCode::kExecAbort, ErrorCode::kDiskFull,
                                     ErrorCode::kStorageFailed};

constexpr uint32_t kControl = flags::kTransactionControl | flags::kFast | flags::kNoScript;

const protocol::CommandSpec kSpecs[] = {
    {"MULTI", 1, kControl | flags::kNoShards, "transactions", "",
     "Starts a transaction: the commands after it are queued until EXEC.", Multi, kMultiErrors},
    // EXEC is a write (it waits for the log before replying) whether or not
    // the queued commands write: it is cheap to wait, wrong not to.
    {"EXEC", -1, flags::kTransactionControl | flags::kWrite | flags::kNoScript, "transactions", "",
     "Runs the queued commands as one atomic step; nil if a watched key changed.", Exec, kExecErrors},
    {"DISCARD", 1, kControl | flags::kNoShards, "transactions", "", "Drops the queued commands and the watches.",
     Discard, kMultiErrors},
    {"WATCH", -2, kControl, "transactions", "key [key ...]", "EXEC fails (nil) if any of these keys changes before it.",
     Watch, kMultiErrors, protocol::kEveryArgKey},
    {"UNWATCH", 1, flags::kFast | flags::kNoScript | flags::kNoShards, "transactions", "", "Forgets every watched key.",
     Unwatch},
};

}  // namespace

core::ShardMask ShardsTouched(const protocol::CommandSpec& spec, CommandArgs args) {
  if (spec.flags & (flags::kNoShards | flags::kConnection)) return 0;
  if (spec.keys.first <= 0) return core::kAllShards;
  core::ShardMask shards = 0;
  protocol::ForEachKey(spec, args, [&](std::string_view key) { shards |= core::ShardSet::MaskOf(key); });
  return shards;
}

bool RefuseIfLogStopped(CommandContext& ctx, ReplySink& reply) {
  switch (ctx.engine.write_state()) {
    case storage::WriteState::kOk:
      return false;
    case storage::WriteState::kDiskFull:
      SendOpError(reply, core::OpStatus::kDiskFull);
      return true;
    case storage::WriteState::kFailed:
      SendOpError(reply, core::OpStatus::kStorageFailed);
      return true;
  }
  return false;
}

void QueueCommand(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  ctx.client.transaction.queued.emplace_back(args.begin(), args.end());
  reply.SendSimple("QUEUED");
}

void EndTransaction(CommandContext& ctx) {
  ctx.client.transaction.open = false;
  ctx.client.transaction.aborted = false;
  ctx.client.transaction.queued.clear();
  UnwatchAll(ctx);
}

std::span<const protocol::CommandSpec> TransactionCommands() { return kSpecs; }

}  // namespace tally::commands
