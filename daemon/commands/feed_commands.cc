// The changefeed, the audit trail and the alert log (docs/changefeed.md,
// docs/quotas.md): CHANGES.READ, CHANGES.INFO, AUDIT.READ and EVENTS.READ. Records get their seqs at compaction, so a
// change is readable after the next compaction (compaction_interval_ms).
//
// Replies are flat, typed arrays, so the HTTP layer can map each row to an
// object by position:
//   CHANGES.READ -> [next-seq, [[seq, owner, key, interval, period, value], ...]]
//                   (a delete: period "*" and value nil; interval "*" = every cell)
//   AUDIT.READ   -> [next-seq, [[seq, time-ms, actor, command, owner, key, details-json], ...]]
//   EVENTS.READ  -> [next-seq, [[seq, alert-json], ...]]

#include <limits>
#include <string>
#include <vector>

#include "commands/alert_json.h"
#include "commands/context.h"
#include "commands/registry.h"
#include "commands/reply_status.h"
#include "core/calendar.h"
#include "core/feeds.h"
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

// The reads of the audit trail and the alert log: since-seq, then options
// in any order, each once. Filters name the record's fields: AUDIT.READ's
// OWNER KEY ACTOR COMMAND, EVENTS.READ's OWNER FEATURE (the record's key)
// KIND (its command).
constexpr std::string_view kAuditSyntax =
    "since-seq [COUNT n] [REV] [BEFORE seq] [OWNER o] [KEY k] [ACTOR a] [COMMAND c] [SCAN n]";
constexpr std::string_view kEventsSyntax =
    "since-seq [COUNT n] [REV] [BEFORE seq] [OWNER o] [FEATURE f] [KIND k] [SCAN n]";
constexpr int64_t kDefaultScan = 10000;
constexpr int64_t kMaxScan = 100000;

struct RecordReadForm {
  std::string_view command;  // "AUDIT.READ"
  std::string_view syntax;
  std::string_view expected;  // the options, for "unknown option"
  // Filter words and the field each sets.
  std::initializer_list<std::pair<std::string_view, std::string core::RecordFilter::*>> filters;
};

const RecordReadForm kAuditForm{"AUDIT.READ",
                                kAuditSyntax,
                                "COUNT, REV, BEFORE, OWNER, KEY, ACTOR, COMMAND or SCAN",
                                {{"OWNER", &core::RecordFilter::owner},
                                 {"KEY", &core::RecordFilter::key},
                                 {"ACTOR", &core::RecordFilter::actor},
                                 {"COMMAND", &core::RecordFilter::command}}};
const RecordReadForm kEventsForm{"EVENTS.READ",
                                 kEventsSyntax,
                                 "COUNT, REV, BEFORE, OWNER, FEATURE, KIND or SCAN",
                                 {{"OWNER", &core::RecordFilter::owner},
                                  {"FEATURE", &core::RecordFilter::key},
                                  {"KIND", &core::RecordFilter::command}}};

std::string Upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

bool ParseBounded(std::string_view option, std::string_view text, int64_t low, int64_t high, int64_t* out,
                  ReplySink& reply) {
  if (!protocol::ParseInt64(text, out)) {
    reply.SendError(errors::NotAnInteger(option, text));
    return false;
  }
  if (*out < low || *out > high) {
    reply.SendError(errors::OutOfRange(option, low, high));
    return false;
  }
  return true;
}

// args of an AUDIT.READ or EVENTS.READ into `query`; false (error sent,
// nothing read) on anything else.
bool ParseRecordRead(const RecordReadForm& form, CommandArgs args, core::RecordQuery* query, ReplySink& reply) {
  int64_t since = 0;
  if (!protocol::ParseInt64(args[1], &since) || since < 0) {
    reply.SendError(errors::InvalidSince("since"));
    return false;
  }
  query->since = static_cast<uint64_t>(since);
  query->limit = kDefaultCount;
  query->max_examined = kDefaultScan;
  std::vector<std::string_view> seen;
  for (size_t i = 2; i < args.size(); ++i) {
    std::string_view word;
    const std::string upper = Upper(args[i]);
    for (std::string_view option : {"COUNT", "REV", "BEFORE", "SCAN"}) {
      if (upper == option) word = option;
    }
    std::string core::RecordFilter::*filter = nullptr;
    for (const auto& [name, field] : form.filters) {
      if (upper == name) {
        word = name;
        filter = field;
      }
    }
    if (word.empty()) {
      reply.SendError(errors::UnknownOption(args[i], form.expected));
      return false;
    }
    for (std::string_view earlier : seen) {
      if (earlier == word) {
        reply.SendError(errors::UnexpectedArgument(args[i], form.command, form.syntax));
        return false;
      }
    }
    seen.push_back(word);
    if (word == "REV") {
      query->newest_first = true;
      continue;
    }
    if (i + 1 >= args.size() || (filter != nullptr && args[i + 1].empty())) {
      reply.SendError(errors::OptionNeedsValue(word, word == "COUNT" || word == "SCAN" ? "n"
                                                     : word == "BEFORE"                ? "seq"
                                                                                       : "value"));
      return false;
    }
    std::string_view value = args[++i];
    int64_t n = 0;
    if (word == "COUNT") {
      if (!ParseBounded("COUNT", value, 1, kMaxCount, &n, reply)) return false;
      query->limit = static_cast<size_t>(n);
    } else if (word == "SCAN") {
      if (!ParseBounded("SCAN", value, 1, kMaxScan, &n, reply)) return false;
      query->max_examined = static_cast<size_t>(n);
    } else if (word == "BEFORE") {
      if (!ParseBounded("BEFORE", value, 1, std::numeric_limits<int64_t>::max(), &n, reply)) return false;
      query->before = static_cast<uint64_t>(n);
    } else {
      // Commands are upper case (CTR.RESET); COMMAND matches them in any case.
      query->filter.*filter = word == "COMMAND" ? Upper(value) : std::string(value);
    }
  }
  return true;
}

// AUDIT.READ <since-seq> [COUNT n] [REV] [BEFORE seq] [OWNER o] [KEY k] [ACTOR a] [COMMAND c] [SCAN n]
void AuditRead(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  core::RecordQuery query;
  if (!ParseRecordRead(kAuditForm, args, &query, reply)) return;
  const uint64_t since = query.since;
  auto result = ctx.engine.feeds().QueryAudit(query);
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

// EVENTS.READ <since-seq> [COUNT n] [REV] [BEFORE seq] [OWNER o] [FEATURE f] [KIND k] [SCAN n]
//   -> [next-seq, [[seq, json], ...]]
void EventsRead(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  core::RecordQuery query;
  if (!ParseRecordRead(kEventsForm, args, &query, reply)) return;
  auto result = ctx.engine.feeds().QueryAlerts(query);
  if (!result.ok()) return SendOpError(reply, result);
  const core::AuditPage& page = result.value;
  if (page.cursor == core::FeedCursor::kAhead) {
    return reply.SendError(errors::CursorAhead(query.since, "alert", page.newest));
  }
  reply.SendArray(2);
  reply.SendInteger(static_cast<int64_t>(page.next));
  reply.SendArray(page.records.size());
  for (const core::AuditEntry& r : page.records) {
    reply.SendArray(2);
    reply.SendInteger(static_cast<int64_t>(r.seq));
    reply.SendBulk(AlertJson(r));
  }
}

constexpr uint32_t kRead = flags::kReadOnly;

using enum protocol::ErrorCode;
constexpr protocol::ErrorCode kReadErrors[] = {kNotInteger,   kOutOfRange,    kSyntax,
                                               kCursorTooOld, kInvalidCursor, kStorageReadFailed};
constexpr protocol::ErrorCode kInfoErrors[] = {kStorageReadFailed};
constexpr protocol::ErrorCode kEventsErrors[] = {kNotInteger, kOutOfRange, kSyntax, kInvalidCursor, kStorageReadFailed};

const protocol::CommandSpec kSpecs[] = {
    {"CHANGES.READ", -2, kRead, "feed", kReadSyntax,
     "Changed cells with seq > since-seq, in order: [next-seq, [[seq, owner, key, interval, period, value], ...]]; "
     "a delete has period \"*\" and a nil value. Visible after the next compaction.",
     ChangesRead, kReadErrors},
    {"CHANGES.INFO", 1, kRead, "feed", "",
     "The changefeed's bounds: oldest and newest readable seq, and its retention in seconds.", ChangesInfo,
     kInfoErrors},
    {"AUDIT.READ", -2, kRead, "feed", kAuditSyntax,
     "Administrative changes with seq > since-seq: [next-seq, [[seq, time-ms, actor, command, owner, key, "
     "details-json], ...]], oldest first; REV: newest first (below BEFORE). OWNER, KEY, ACTOR, COMMAND keep "
     "records whose field equals the value, or starts with it if it ends in *. At most SCAN records (default "
     "10000) are looked at per call: next-seq is where to go on (as since-seq; with REV as BEFORE, 0 at the end). "
     "Visible after the next compaction.",
     AuditRead, kReadErrors},
    {"EVENTS.READ", -2, kRead, "quota", kEventsSyntax,
     "Alerts with seq > since-seq: [next-seq, [[seq, json], ...]] (threshold, credit_depleted, hold_expired), "
     "oldest first; REV: newest first (below BEFORE). OWNER, FEATURE, KIND filter as AUDIT.READ's do, within the "
     "same SCAN budget and next-seq. Visible after the next compaction.",
     EventsRead, kEventsErrors},
};

}  // namespace

std::span<const protocol::CommandSpec> FeedCommands() { return kSpecs; }

}  // namespace tally::commands
