// The changefeed and the audit trail (docs/changefeed.md): CHANGES.READ,
// CHANGES.INFO and AUDIT.READ. Records get their seqs at compaction, so a
// change is readable after the next compaction (compaction_interval_ms).
//
// Replies are flat, typed arrays, so the HTTP layer can map each row to an
// object by position:
//   CHANGES.READ -> [next-seq, [[seq, owner, key, interval, period, value], ...]]
//                   (a delete: period "*" and value nil; interval "*" = every cell)
//   AUDIT.READ   -> [next-seq, [[seq, time-ms, actor, command, owner, key, details-json], ...]]

#include <string>

#include "commands/context.h"
#include "commands/registry.h"
#include "commands/reply_status.h"
#include "core/calendar.h"
#include "protocol/errors.h"
#include "protocol/resp_parser.h"

namespace tally::commands {
namespace {

using protocol::CommandArgs;
using protocol::CommandContext;
using protocol::ReplySink;
namespace errors = protocol::errors;
namespace flags = protocol::flags;

constexpr std::string_view kReadSyntax = "since-seq [COUNT n]";
constexpr int64_t kDefaultCount = 100;
constexpr int64_t kMaxCount = 10000;

// <since-seq> [COUNT n] of `command` (for its errors).
bool ParseFeedArgs(std::string_view command, CommandArgs args, uint64_t* since, size_t* count, ReplySink& reply) {
  int64_t value = 0;
  if (!protocol::ParseInt64(args[1], &value) || value < 0) {
    reply.SendError(errors::InvalidSince("since"));
    return false;
  }
  *since = static_cast<uint64_t>(value);
  int64_t n = kDefaultCount;
  if (args.size() > 2) {
    if (!EqualsIgnoreCase(args[2], "COUNT")) {
      reply.SendError(errors::UnknownOption(args[2], "COUNT"));
      return false;
    }
    if (args.size() == 3) {
      reply.SendError(errors::OptionNeedsValue("COUNT", "n"));
      return false;
    }
    if (args.size() > 4) {
      reply.SendError(errors::UnexpectedArgument(args[4], command, kReadSyntax));
      return false;
    }
    if (!protocol::ParseInt64(args[3], &n)) {
      reply.SendError(errors::NotAnInteger("COUNT", args[3]));
      return false;
    }
    if (n < 1 || n > kMaxCount) {
      reply.SendError(errors::OutOfRange("COUNT", 1, kMaxCount));
      return false;
    }
  }
  *count = static_cast<size_t>(n);
  return true;
}

// Sends the error for a cursor the feed cannot serve; false if it can.
bool CursorError(core::FeedCursor cursor, uint64_t since, uint64_t oldest, uint64_t newest, std::string_view what,
                 int64_t retention_ms, ReplySink& reply) {
  switch (cursor) {
    case core::FeedCursor::kOk:
      return false;
    case core::FeedCursor::kTooOld:
      reply.SendError(errors::CursorTooOld(since, what, oldest, retention_ms));
      return true;
    case core::FeedCursor::kAhead:
      reply.SendError(errors::CursorAhead(since, what, newest));
      return true;
  }
  return false;
}

// CHANGES.READ <since-seq> [COUNT n]
void ChangesRead(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  uint64_t since = 0;
  size_t count = 0;
  if (!ParseFeedArgs("CHANGES.READ", args, &since, &count, reply)) return;
  auto result = ctx.engine.feeds().ReadChanges(since, count);
  if (!result.ok()) return SendOpError(reply, result);
  const core::ChangesPage& page = result.value;
  if (CursorError(page.cursor, since, page.oldest, page.newest, "change",
                  ctx.engine.counter_options().changes_retention_ms, reply)) {
    return;
  }
  reply.SendArray(2);
  reply.SendInteger(static_cast<int64_t>(page.next));
  reply.SendArray(page.records.size());
  for (const core::ChangeEntry& r : page.records) {
    reply.SendArray(6);
    reply.SendInteger(static_cast<int64_t>(r.seq));
    reply.SendBulk(r.owner);
    reply.SendBulk(r.key);
    reply.SendBulk(r.interval ? core::IntervalName(*r.interval) : std::string_view("*"));
    if (r.value) {
      reply.SendBulk(r.period);
      reply.SendInteger(*r.value);
    } else {
      reply.SendBulk("*");
      reply.SendNull();
    }
  }
}

// CHANGES.INFO -> map: oldest, newest, retention_s
void ChangesInfo(CommandContext& ctx, CommandArgs, ReplySink& reply) {
  // An empty read reports the bounds without touching RocksDB.
  auto result = ctx.engine.feeds().ReadChanges(0, 0);
  if (!result.ok()) return SendOpError(reply, result);
  reply.SendMap(3);
  reply.SendBulk("oldest");
  reply.SendInteger(static_cast<int64_t>(result.value.oldest));
  reply.SendBulk("newest");
  reply.SendInteger(static_cast<int64_t>(result.value.newest));
  reply.SendBulk("retention_s");
  reply.SendInteger(ctx.engine.counter_options().changes_retention_ms / 1000);
}

// AUDIT.READ <since-seq> [COUNT n]
void AuditRead(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  uint64_t since = 0;
  size_t count = 0;
  if (!ParseFeedArgs("AUDIT.READ", args, &since, &count, reply)) return;
  auto result = ctx.engine.feeds().ReadAudit(since, count);
  if (!result.ok()) return SendOpError(reply, result);
  const core::AuditPage& page = result.value;
  if (CursorError(page.cursor, since, page.oldest, page.newest, "audit record", 0, reply)) return;
  reply.SendArray(2);
  reply.SendInteger(static_cast<int64_t>(page.next));
  reply.SendArray(page.records.size());
  for (const core::AuditEntry& r : page.records) {
    reply.SendArray(7);
    reply.SendInteger(static_cast<int64_t>(r.seq));
    reply.SendInteger(r.time_ms);
    reply.SendBulk(r.actor);
    reply.SendBulk(r.command);
    reply.SendBulk(r.owner);
    reply.SendBulk(r.key);
    reply.SendBulk(r.details);
  }
}

constexpr uint32_t kRead = flags::kReadOnly;

using enum protocol::ErrorCode;
constexpr protocol::ErrorCode kReadErrors[] = {kNotInteger,   kOutOfRange,    kSyntax,
                                               kCursorTooOld, kInvalidCursor, kStorageReadFailed};
constexpr protocol::ErrorCode kInfoErrors[] = {kStorageReadFailed};

const protocol::CommandSpec kSpecs[] = {
    {"CHANGES.READ", -2, kRead, "feed", kReadSyntax,
     "Changed cells with seq > since-seq, in order: [next-seq, [[seq, owner, key, interval, period, value], ...]]; "
     "a delete has period \"*\" and a nil value. Visible after the next compaction.",
     ChangesRead, kReadErrors},
    {"CHANGES.INFO", 1, kRead, "feed", "",
     "The changefeed's bounds: oldest and newest readable seq, and its retention in seconds.", ChangesInfo,
     kInfoErrors},
    {"AUDIT.READ", -2, kRead, "feed", kReadSyntax,
     "Administrative changes with seq > since-seq: [next-seq, [[seq, time-ms, actor, command, owner, key, "
     "details-json], ...]]. Visible after the next compaction.",
     AuditRead, kReadErrors},
};

}  // namespace

std::span<const protocol::CommandSpec> FeedCommands() { return kSpecs; }

}  // namespace tally::commands
