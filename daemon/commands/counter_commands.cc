// Owner counters (docs/counters.md): CTR.INCRBY/INCR/DECRBY, GET, ALL, MGET,
// SET, RESET, RECOUNT, DEL, HISTORY, SUM, TOP, OWNERS, CELLS and OWNER.TZ.
// Handlers parse and validate every argument first, so bad input changes
// nothing; then they call one engine op and render its result. Errors name
// the argument as the command's syntax does ("delta", "AT", "COUNT"), so the
// HTTP routes can say their own field names instead.

#include <climits>
#include <initializer_list>
#include <optional>
#include <string>

#include "commands/context.h"
#include "commands/registry.h"
#include "commands/reply_status.h"
#include "core/calendar.h"
#include "protocol/errors.h"
#include "protocol/resp_parser.h"

namespace tally::commands {
namespace {

using core::Interval;
using core::PeriodId;
using protocol::CommandArgs;
using protocol::CommandContext;
using protocol::ErrorCode;
using protocol::ReplySink;
namespace errors = protocol::errors;
namespace flags = protocol::flags;

// Syntaxes, shared by the command table and the errors that quote them.
constexpr std::string_view kIncrBySyntax = "owner key delta [AT unix-ms] [ID event-id]";
constexpr std::string_view kIncrSyntax = "owner key [AT unix-ms] [ID event-id]";
constexpr std::string_view kGetSyntax = "owner key [interval [period]]";
constexpr std::string_view kAllSyntax = "owner [interval [period]]";
constexpr std::string_view kSetSyntax = "owner key value [interval [period]] [BY actor]";
constexpr std::string_view kResetSyntax = "owner key [interval [period]] [BY actor]";
constexpr std::string_view kDelSyntax = "owner key [interval] [BY actor]";
constexpr std::string_view kHistorySyntax = "owner key interval count [FROM period]";
constexpr std::string_view kSumSyntax = "owner key interval [FROM period TO period]";
constexpr std::string_view kOwnerTzSyntax = "owner [timezone]";

constexpr int64_t kMaxPage = 10000;

bool CheckName(std::string_view argument, std::string_view name, ReplySink& reply) {
  if (core::ValidName(name)) return true;
  reply.SendError(errors::InvalidName(argument, name));
  return false;
}

bool CheckOwnerKey(CommandArgs args, ReplySink& reply) {
  return CheckName("owner", args[1], reply) && CheckName("key", args[2], reply);
}

std::optional<Interval> ParseIntervalArg(std::string_view argument, std::string_view text, ReplySink& reply) {
  auto interval = core::ParseInterval(text);
  if (!interval) reply.SendError(errors::UnknownInterval(argument, text));
  return interval;
}

std::optional<PeriodId> ParsePeriodArg(std::string_view argument, Interval interval, std::string_view text,
                                       const core::TimeZone& zone, int64_t now, ReplySink& reply) {
  PeriodId period = 0;
  std::string error;
  if (!core::ParsePeriod(interval, text, zone, now, &period, &error)) {
    reply.SendError(errors::InvalidPeriod(argument, error));
    return std::nullopt;
  }
  return period;
}

// The owner's time zone; nullopt (the error sent) if its stored settings
// cannot be read.
std::optional<core::TimeZone> OwnerZone(CommandContext& ctx, std::string_view owner, ReplySink& reply) {
  auto zone = ctx.engine.owners().TimeZoneOf(owner);
  if (!zone.ok()) {
    SendOpError(reply, zone);
    return std::nullopt;
  }
  return zone.value;
}

// [<interval> [<period>]] starting at args[index]; defaults: total, current.
bool ParseCellArgs(CommandContext& ctx, CommandArgs args, size_t index, std::string_view owner, Interval* interval,
                   PeriodId* period, ReplySink& reply) {
  *interval = Interval::kTotal;
  *period = 0;
  if (index >= args.size()) return true;
  auto parsed = ParseIntervalArg("interval", args[index], reply);
  if (!parsed) return false;
  *interval = *parsed;
  const int64_t now = ctx.engine.clock().NowMs();
  const std::optional<core::TimeZone> owner_zone = OwnerZone(ctx, owner, reply);
  if (!owner_zone) return false;
  const core::TimeZone& zone = *owner_zone;
  if (index + 1 >= args.size()) {
    *period = core::PeriodOf(*interval, now, zone);
    return true;
  }
  auto p = ParsePeriodArg("period", *interval, args[index + 1], zone, now, reply);
  if (!p) return false;
  *period = *p;
  return true;
}

bool ParseInteger(std::string_view argument, std::string_view text, int64_t* value, ReplySink& reply) {
  if (protocol::ParseInt64(text, value)) return true;
  reply.SendError(errors::NotAnInteger(argument, text));
  return false;
}

// Plausible unix *seconds* (2001-09-09 .. 5138-11-16) that, read as
// milliseconds, fall in January 1970 .. March 1973: the mistake PHP's
// time() or Python's int(time.time()) makes.
bool LooksLikeSeconds(int64_t at) { return at >= 1'000'000'000 && at < 100'000'000'000; }

// An event time within [now - max_backdate, now + max_future_skew]; false (error sent) if not.
bool CheckEventTime(CommandContext& ctx, std::string_view argument, int64_t at, int64_t now, ReplySink& reply) {
  if (at < now - ctx.server.config.max_backdate_ms) {
    reply.SendError(LooksLikeSeconds(at) ? errors::TimeLooksLikeSeconds(argument, at)
                                         : errors::TimeTooOld(argument, at, ctx.server.config.max_backdate_ms));
    return false;
  }
  if (at > now + ctx.server.config.max_future_skew_ms) {
    reply.SendError(errors::TimeTooNew(argument, at, ctx.server.config.max_future_skew_ms));
    return false;
  }
  return true;
}

// CTR.INCRBY <owner> <key> <delta> [AT ts] [ID event-id] (and INCR, DECRBY)
void IncrementGeneric(CommandContext& ctx, CommandArgs args, ReplySink& reply, std::optional<int64_t> fixed_delta,
                      bool negate) {
  if (!CheckOwnerKey(args, reply)) return;
  size_t index = 3;
  int64_t delta = fixed_delta.value_or(0);
  if (!fixed_delta) {
    if (!ParseInteger("delta", args[3], &delta, reply)) return;
    if (negate) {
      if (delta == LLONG_MIN) return reply.SendError(ErrorCode::kOverflow, errors::kOverflow);
      delta = -delta;
    }
    index = 4;
  }
  const int64_t now = ctx.engine.clock().NowMs();
  int64_t at = now;
  bool at_given = false;
  std::string_view event_id;
  for (; index < args.size(); index += 2) {
    const bool is_at = EqualsIgnoreCase(args[index], "AT");
    if (!is_at && !EqualsIgnoreCase(args[index], "ID")) {
      return reply.SendError(errors::UnknownOption(args[index], "AT or ID"));
    }
    if (index + 1 >= args.size()) {
      return reply.SendError(is_at ? errors::OptionNeedsValue("AT", "unix-ms")
                                   : errors::OptionNeedsValue("ID", "event-id"));
    }
    if (is_at) {
      if (!ParseInteger("AT", args[index + 1], &at, reply)) return;
      if (!CheckEventTime(ctx, "AT", at, now, reply)) return;
      at_given = true;  // part of the event id's fingerprint (a retry without AT stays a duplicate)
    } else {
      event_id = args[index + 1];
      if (!core::ValidEventId(event_id)) return reply.SendError(errors::InvalidEventId("ID", event_id));
    }
  }
  auto result = ctx.engine.counters().Increment({args[1], args[2], delta, at, event_id, at_given});
  if (!result.ok()) return SendOpError(reply, result);
  ctx.client.last_write_duplicate = result.value.duplicate;
  reply.SendInteger(result.value.total);
}

void CtrIncrBy(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  IncrementGeneric(ctx, args, reply, std::nullopt, false);
}
void CtrIncr(CommandContext& ctx, CommandArgs args, ReplySink& reply) { IncrementGeneric(ctx, args, reply, 1, false); }
void CtrDecrBy(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  IncrementGeneric(ctx, args, reply, std::nullopt, true);
}

// CTR.GET <owner> <key> [<interval> [<period>]]
void CtrGet(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  if (!CheckOwnerKey(args, reply)) return;
  if (args.size() > 5) return reply.SendError(errors::UnexpectedArgument(args[5], "CTR.GET", kGetSyntax));
  Interval interval;
  PeriodId period;
  if (!ParseCellArgs(ctx, args, 3, args[1], &interval, &period, reply)) return;
  auto result = ctx.engine.counters().ReadCell(args[1], args[2], interval, period);
  if (!result.ok()) return SendOpError(reply, result);
  reply.SendInteger(result.value);
}

// CTR.ALL <owner> [<interval> [<period>]]
void CtrAll(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  if (!CheckName("owner", args[1], reply)) return;
  if (args.size() > 4) return reply.SendError(errors::UnexpectedArgument(args[4], "CTR.ALL", kAllSyntax));
  Interval interval;
  PeriodId period;
  if (!ParseCellArgs(ctx, args, 2, args[1], &interval, &period, reply)) return;
  auto result = ctx.engine.counters().ReadOwnerCells(args[1], interval, period);
  if (!result.ok()) return SendOpError(reply, result);
  reply.SendArray(result.value.size() * 2);
  for (const auto& [key, value] : result.value) {
    reply.SendBulk(key);
    reply.SendInteger(value);
  }
}

// CTR.MGET <key> <interval> <period> <owner> [<owner> ...]
void CtrMGet(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  if (!CheckName("key", args[1], reply)) return;
  auto interval = ParseIntervalArg("interval", args[2], reply);
  if (!interval) return;
  const int64_t now = ctx.engine.clock().NowMs();
  std::vector<PeriodId> periods;
  for (size_t i = 4; i < args.size(); ++i) {
    if (!CheckName("owner", args[i], reply)) return;
    // Each owner's own time zone decides which period the label names.
    const std::optional<core::TimeZone> zone = OwnerZone(ctx, args[i], reply);
    if (!zone) return;
    auto period = ParsePeriodArg("period", *interval, args[3], *zone, now, reply);
    if (!period) return;
    periods.push_back(*period);
  }
  reply.SendArray(periods.size());
  for (size_t i = 4; i < args.size(); ++i) {
    auto result = ctx.engine.counters().ReadCell(args[i], args[1], *interval, periods[i - 4]);
    reply.SendInteger(result.ok() ? result.value : 0);
  }
}

// The optional trailing `BY <actor>` of the administrative commands (SET,
// RESET, RECOUNT, DEL), who is named in the audit trail. It is taken off the
// end of `args` only when at least `min_args` arguments (the command's
// arity) stand before it, so it can never be mistaken for an interval, period
// or value (none of which can be "BY"). Without BY the actor is the client's
// name (CLIENT SETNAME), else its address. False (error sent) for a bad actor.
bool TakeActor(CommandContext& ctx, CommandArgs* args, size_t min_args, std::string_view* actor, ReplySink& reply) {
  if (args->size() >= min_args + 2 && EqualsIgnoreCase((*args)[args->size() - 2], "BY")) {
    *actor = args->back();
    if (!core::ValidActor(*actor)) {
      reply.SendError(errors::InvalidActor("BY", *actor));
      return false;
    }
    *args = args->first(args->size() - 2);
    return true;
  }
  if (args->size() >= min_args + 1 && EqualsIgnoreCase(args->back(), "BY")) {
    reply.SendError(errors::ActorMissing("BY"));
    return false;
  }
  if (core::ValidActor(ctx.client.name)) {
    *actor = ctx.client.name;
  } else if (core::ValidActor(ctx.client.address)) {
    *actor = ctx.client.address;
  } else {
    *actor = "unknown";
  }
  return true;
}

void AssignOne(CommandContext& ctx, CommandArgs args, size_t cell_index, int64_t value, const core::AuditInfo& audit,
               ReplySink& reply) {
  Interval interval;
  PeriodId period;
  if (!ParseCellArgs(ctx, args, cell_index, args[1], &interval, &period, reply)) return;
  auto result = ctx.engine.counters().AssignCells(args[1], args[2], {{interval, period, value}}, &audit);
  if (!result.ok()) return SendOpError(reply, result);
  reply.SendOk();
}

// CTR.SET <owner> <key> <value> [<interval> [<period>]] [BY <actor>]
void CtrSet(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  std::string_view actor;
  if (!TakeActor(ctx, &args, 4, &actor, reply)) return;
  if (!CheckOwnerKey(args, reply)) return;
  if (args.size() > 6) return reply.SendError(errors::UnexpectedArgument(args[6], "CTR.SET", kSetSyntax));
  int64_t value = 0;
  if (!ParseInteger("value", args[3], &value, reply)) return;
  AssignOne(ctx, args, 4, value, {actor, "CTR.SET"}, reply);
}

// CTR.RESET <owner> <key> [<interval> [<period>]] [BY <actor>]
void CtrReset(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  std::string_view actor;
  if (!TakeActor(ctx, &args, 3, &actor, reply)) return;
  if (!CheckOwnerKey(args, reply)) return;
  if (args.size() > 5) return reply.SendError(errors::UnexpectedArgument(args[5], "CTR.RESET", kResetSyntax));
  AssignOne(ctx, args, 3, 0, {actor, "CTR.RESET"}, reply);
}

// CTR.RECOUNT <owner> <key> <interval> <period> <value> [<period> <value> ...] [BY <actor>]
void CtrRecount(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  std::string_view actor;
  if (!TakeActor(ctx, &args, 6, &actor, reply)) return;
  if (!CheckOwnerKey(args, reply)) return;
  if ((args.size() - 4) % 2 != 0) return reply.SendError(ErrorCode::kWrongArity, errors::WrongArity(args[0]));
  auto interval = ParseIntervalArg("interval", args[3], reply);
  if (!interval) return;
  const std::optional<core::TimeZone> owner_zone = OwnerZone(ctx, args[1], reply);
  if (!owner_zone) return;
  const core::TimeZone& zone = *owner_zone;
  const int64_t now = ctx.engine.clock().NowMs();
  std::vector<core::CellAssignment> cells;
  for (size_t i = 4; i + 1 < args.size(); i += 2) {
    auto period = ParsePeriodArg("period", *interval, args[i], zone, now, reply);
    if (!period) return;
    int64_t value = 0;
    if (!ParseInteger("value", args[i + 1], &value, reply)) return;
    cells.push_back({*interval, *period, value});
  }
  const core::AuditInfo audit{actor, "CTR.RECOUNT"};
  auto result = ctx.engine.counters().AssignCells(args[1], args[2], cells, &audit);
  if (!result.ok()) return SendOpError(reply, result);
  reply.SendOk();
}

// CTR.DEL <owner> <key> [<interval>] [BY <actor>]
void CtrDel(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  std::string_view actor;
  if (!TakeActor(ctx, &args, 3, &actor, reply)) return;
  if (!CheckOwnerKey(args, reply)) return;
  if (args.size() > 4) return reply.SendError(errors::UnexpectedArgument(args[4], "CTR.DEL", kDelSyntax));
  std::optional<Interval> interval;
  if (args.size() == 4) {
    interval = ParseIntervalArg("interval", args[3], reply);
    if (!interval) return;
  }
  const core::AuditInfo audit{actor, "CTR.DEL"};
  auto result = ctx.engine.counters().DeleteCells(args[1], args[2], interval, &audit);
  if (!result.ok()) return SendOpError(reply, result);
  reply.SendInteger(result.value);
}

// CTR.HISTORY <owner> <key> <interval> <count> [FROM <period>]
void CtrHistory(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  if (!CheckOwnerKey(args, reply)) return;
  auto interval = ParseIntervalArg("interval", args[3], reply);
  if (!interval) return;
  if (*interval == Interval::kTotal) return reply.SendError(errors::NotACalendarInterval("interval", args[3]));
  int64_t count = 0;
  if (!ParseInteger("count", args[4], &count, reply)) return;
  if (count < 1 || count > kMaxPage) return reply.SendError(errors::OutOfRange("count", 1, kMaxPage));
  if (args.size() > 5 && !EqualsIgnoreCase(args[5], "FROM")) {
    return reply.SendError(errors::UnknownOption(args[5], "FROM"));
  }
  if (args.size() == 6) return reply.SendError(errors::OptionNeedsValue("FROM", "period"));
  if (args.size() > 7) return reply.SendError(errors::UnexpectedArgument(args[7], "CTR.HISTORY", kHistorySyntax));
  const std::optional<core::TimeZone> owner_zone = OwnerZone(ctx, args[1], reply);
  if (!owner_zone) return;
  const core::TimeZone& zone = *owner_zone;
  const int64_t now = ctx.engine.clock().NowMs();
  PeriodId newest = core::PeriodOf(*interval, now, zone);
  if (args.size() == 7) {
    auto period = ParsePeriodArg("FROM", *interval, args[6], zone, now, reply);
    if (!period) return;
    newest = *period;
  }
  PeriodId oldest = core::StepPeriod(*interval, newest, -(count - 1), zone);
  auto result = ctx.engine.counters().ReadRange(args[1], args[2], *interval, oldest, newest);
  if (!result.ok()) return SendOpError(reply, result);
  reply.SendArray(result.value.size());
  for (auto it = result.value.rbegin(); it != result.value.rend(); ++it) {
    reply.SendArray(2);
    reply.SendBulk(core::PeriodLabel(*interval, it->first, zone));
    reply.SendInteger(it->second);
  }
}

// CTR.SUM <owner> <key> <interval> [FROM <period> TO <period>]
void CtrSum(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  if (!CheckOwnerKey(args, reply)) return;
  auto interval = ParseIntervalArg("interval", args[3], reply);
  if (!interval) return;
  const std::optional<core::TimeZone> owner_zone = OwnerZone(ctx, args[1], reply);
  if (!owner_zone) return;
  const core::TimeZone& zone = *owner_zone;
  const int64_t now = ctx.engine.clock().NowMs();
  if (args.size() == 4) {
    // No range: every period of the interval that holds a value.
    auto result = ctx.engine.counters().SumCells(args[1], args[2], *interval, std::nullopt, std::nullopt);
    if (!result.ok()) return SendOpError(reply, result);
    return reply.SendInteger(result.value);
  }
  std::optional<std::string_view> from_label, to_label;
  for (size_t i = 4; i < args.size(); i += 2) {
    const bool is_from = EqualsIgnoreCase(args[i], "FROM");
    if (!is_from && !EqualsIgnoreCase(args[i], "TO")) {
      return reply.SendError((from_label && to_label) ? errors::UnexpectedArgument(args[i], "CTR.SUM", kSumSyntax)
                                                      : errors::UnknownOption(args[i], "FROM or TO"));
    }
    if (i + 1 >= args.size()) return reply.SendError(errors::OptionNeedsValue(is_from ? "FROM" : "TO", "period"));
    auto& label = is_from ? from_label : to_label;
    if (label) return reply.SendError(errors::UnexpectedArgument(args[i], "CTR.SUM", kSumSyntax));
    label = args[i + 1];
  }
  if (!from_label || !to_label) return reply.SendError(errors::NeedsBoth("CTR.SUM", "FROM", "TO"));
  auto from = ParsePeriodArg("FROM", *interval, *from_label, zone, now, reply);
  if (!from) return;
  auto to = ParsePeriodArg("TO", *interval, *to_label, zone, now, reply);
  if (!to) return;
  if (*from > *to) return reply.SendError(errors::RangeReversed("FROM", *from_label, "TO", *to_label));
  auto result = ctx.engine.counters().SumCells(args[1], args[2], *interval, *from, *to);
  if (!result.ok()) return SendOpError(reply, result);
  reply.SendInteger(result.value);
}

// CTR.TOP <key> <interval> [<period>] [LIMIT n] [PREFIX owner-prefix]
void CtrTop(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  if (!CheckName("key", args[1], reply)) return;
  auto interval = ParseIntervalArg("interval", args[2], reply);
  if (!interval) return;
  const int64_t now = ctx.engine.clock().NowMs();
  const core::TimeZone& zone = ctx.engine.counter_options().default_time_zone;
  PeriodId period = core::PeriodOf(*interval, now, zone);
  size_t index = 3;
  if (index < args.size() && !EqualsIgnoreCase(args[index], "LIMIT") && !EqualsIgnoreCase(args[index], "PREFIX")) {
    auto parsed = ParsePeriodArg("period", *interval, args[index], zone, now, reply);
    if (!parsed) return;
    period = *parsed;
    ++index;
  }
  int64_t limit = 10;
  std::string_view prefix;
  for (; index < args.size(); index += 2) {
    const bool is_limit = EqualsIgnoreCase(args[index], "LIMIT");
    if (!is_limit && !EqualsIgnoreCase(args[index], "PREFIX")) {
      return reply.SendError(errors::UnknownOption(args[index], "LIMIT or PREFIX"));
    }
    if (index + 1 >= args.size()) {
      return reply.SendError(is_limit ? errors::OptionNeedsValue("LIMIT", "n")
                                      : errors::OptionNeedsValue("PREFIX", "owner-prefix"));
    }
    if (is_limit) {
      if (!ParseInteger("LIMIT", args[index + 1], &limit, reply)) return;
      if (limit < 1 || limit > kMaxPage) return reply.SendError(errors::OutOfRange("LIMIT", 1, kMaxPage));
    } else {
      prefix = args[index + 1];
    }
  }
  auto ranked = ctx.engine.counters().Top(args[1], *interval, period, static_cast<size_t>(limit), prefix);
  if (!ranked.ok()) return SendOpError(reply, ranked);
  reply.SendArray(ranked.value.size());
  for (const auto& entry : ranked.value) {
    reply.SendArray(2);
    reply.SendBulk(entry.owner);
    reply.SendInteger(entry.value);
  }
}

// The option word `word` names, spelled as in `options` (upper case); "" if none.
std::string_view OptionName(std::string_view word, std::initializer_list<std::string_view> options) {
  for (std::string_view option : options) {
    if (EqualsIgnoreCase(word, option)) return option;
  }
  return {};
}

// What follows an option word in the syntax ("COUNT n").
std::string_view OptionPlaceholder(std::string_view option) {
  if (option == "COUNT") return "n";
  if (option == "CURSOR") return "cursor";
  if (option == "PREFIX") return "owner-prefix";
  if (option == "TYPE") return "owner-type";
  if (option == "KEY") return "key";
  if (option == "INTERVAL") return "interval";
  if (option == "PERIOD") return "period";
  return "value";
}

// CTR.OWNERS [PREFIX p] [CURSOR c] [COUNT n]; cursor "0" starts and ends.
void CtrOwners(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  std::string_view prefix, cursor;
  int64_t count = 100;
  for (size_t i = 1; i < args.size(); i += 2) {
    std::string_view option = OptionName(args[i], {"PREFIX", "CURSOR", "COUNT"});
    if (option.empty()) return reply.SendError(errors::UnknownOption(args[i], "PREFIX, CURSOR or COUNT"));
    if (i + 1 >= args.size()) return reply.SendError(errors::OptionNeedsValue(option, OptionPlaceholder(option)));
    if (option == "PREFIX") {
      prefix = args[i + 1];
    } else if (option == "CURSOR") {
      cursor = args[i + 1] == "0" ? std::string_view() : args[i + 1];
    } else {
      if (!ParseInteger("COUNT", args[i + 1], &count, reply)) return;
      if (count < 1 || count > kMaxPage) return reply.SendError(errors::OutOfRange("COUNT", 1, kMaxPage));
    }
  }
  auto listed = ctx.engine.owners().List(prefix, cursor, static_cast<size_t>(count));
  if (!listed.ok()) return SendOpError(reply, listed);
  const core::OwnersPage& page = listed.value;
  reply.SendArray(2);
  reply.SendBulk(page.next_cursor.empty() ? std::string_view("0") : std::string_view(page.next_cursor));
  reply.SendArray(page.owners.size());
  for (const std::string& owner : page.owners) reply.SendBulk(owner);
}

// OWNER.TZ <owner> [<iana-name>]
void OwnerTz(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  if (!CheckName("owner", args[1], reply)) return;
  if (args.size() > 3) return reply.SendError(errors::UnexpectedArgument(args[3], "OWNER.TZ", kOwnerTzSyntax));
  if (args.size() == 2) {
    const std::optional<core::TimeZone> zone = OwnerZone(ctx, args[1], reply);
    if (zone) reply.SendBulk(zone->name());
    return;
  }
  auto zone = core::TimeZone::Find(args[2]);
  if (!zone) return reply.SendError(errors::UnknownTimeZone("timezone", args[2]));
  auto result = ctx.engine.owners().SetTimeZone(args[1], *zone);
  if (!result.ok()) return SendOpError(reply, result);
  reply.SendOk();
}

// The one owner prefix that PREFIX p and TYPE t select together; nullopt
// when they contradict each other (no owner can match both).
std::optional<std::string> OwnerPrefix(std::string_view prefix, std::string_view type) {
  if (type.empty()) return std::string(prefix);
  std::string typed = std::string(type) + ":";
  if (typed.starts_with(prefix)) return typed;
  if (prefix.starts_with(typed)) return std::string(prefix);
  return std::nullopt;
}

// CTR.CELLS [PREFIX p] [TYPE t] [KEY k] [INTERVAL i [PERIOD p]] [CURSOR c] [COUNT n]
// -> [next-cursor, [[owner, key, interval, period, value], ...]]; COUNT owners per page.
void CtrCells(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  std::string_view prefix, type, key, cursor, period_label;
  std::optional<Interval> interval;
  int64_t count = 100;
  for (size_t i = 1; i < args.size(); i += 2) {
    std::string_view option = OptionName(args[i], {"PREFIX", "TYPE", "KEY", "INTERVAL", "PERIOD", "CURSOR", "COUNT"});
    if (option.empty()) {
      return reply.SendError(errors::UnknownOption(args[i], "PREFIX, TYPE, KEY, INTERVAL, PERIOD, CURSOR or COUNT"));
    }
    if (i + 1 >= args.size()) return reply.SendError(errors::OptionNeedsValue(option, OptionPlaceholder(option)));
    std::string_view value = args[i + 1];
    if (option == "PREFIX") {
      prefix = value;
    } else if (option == "TYPE") {
      if (!CheckName("TYPE", value, reply)) return;
      type = value;
    } else if (option == "KEY") {
      if (!CheckName("KEY", value, reply)) return;
      key = value;
    } else if (option == "INTERVAL") {
      interval = ParseIntervalArg("INTERVAL", value, reply);
      if (!interval) return;
    } else if (option == "PERIOD") {
      period_label = value;
    } else if (option == "CURSOR") {
      cursor = value == "0" ? std::string_view() : value;
    } else {
      if (!ParseInteger("COUNT", value, &count, reply)) return;
      if (count < 1 || count > kMaxPage) return reply.SendError(errors::OutOfRange("COUNT", 1, kMaxPage));
    }
  }
  if (!period_label.empty() && !interval) return reply.SendError(errors::Needs("PERIOD", "INTERVAL"));
  const int64_t now = ctx.engine.clock().NowMs();
  if (!period_label.empty() && *interval != Interval::kTotal) {
    // Check the label once up front (in the daemon's zone), so a bad one is
    // an error even on an empty page; each owner's own zone decides below.
    if (!ParsePeriodArg("PERIOD", *interval, period_label, ctx.engine.counter_options().default_time_zone, now,
                        reply)) {
      return;
    }
  }
  auto owner_prefix = OwnerPrefix(prefix, type);
  core::OwnersPage page;
  if (owner_prefix) {
    auto listed = ctx.engine.owners().List(*owner_prefix, cursor, static_cast<size_t>(count));
    if (!listed.ok()) return SendOpError(reply, listed);
    page = std::move(listed.value);
  }
  struct Row {
    std::string_view owner;
    core::CellRow cell;
    std::string period;
  };
  std::vector<Row> rows;
  for (const std::string& owner : page.owners) {
    const std::optional<core::TimeZone> owner_zone = OwnerZone(ctx, owner, reply);
    if (!owner_zone) return;
    const core::TimeZone& zone = *owner_zone;
    core::CellFilter filter{key, interval, std::nullopt};
    if (!period_label.empty()) {
      filter.period = 0;
      if (*interval != Interval::kTotal) {
        filter.period = ParsePeriodArg("PERIOD", *interval, period_label, zone, now, reply);
        if (!filter.period) return;
      }
    }
    auto cells = ctx.engine.counters().OwnerCells(owner, filter);
    if (!cells.ok()) return SendOpError(reply, cells);
    for (core::CellRow& cell : cells.value) {
      std::string label = core::PeriodLabel(cell.interval, cell.period, zone);
      rows.push_back({owner, std::move(cell), std::move(label)});
    }
  }
  reply.SendArray(2);
  reply.SendBulk(page.next_cursor.empty() ? std::string_view("0") : std::string_view(page.next_cursor));
  reply.SendArray(rows.size());
  for (const Row& row : rows) {
    reply.SendArray(5);
    reply.SendBulk(row.owner);
    reply.SendBulk(row.cell.key);
    reply.SendBulk(core::IntervalName(row.cell.interval));
    reply.SendBulk(row.period);
    reply.SendInteger(row.cell.value);
  }
}

constexpr uint32_t kWriteFast = flags::kWrite | flags::kFast;
constexpr uint32_t kRead = flags::kReadOnly;

// The errors each handler can reply with (wrong_arity and, for writes,
// storage_failed come on top: protocol::DeclaredErrors). Every one of them
// reads stored state: storage_read_failed.
using enum ErrorCode;
constexpr ErrorCode kIncrByErrors[] = {kInvalidName, kNotInteger, kOverflow,         kInvalidTime,
                                       kInvalidId,   kSyntax,     kStorageReadFailed};
constexpr ErrorCode kGetErrors[] = {kInvalidName, kInvalidInterval, kInvalidPeriod, kSyntax, kStorageReadFailed};
constexpr ErrorCode kMGetErrors[] = {kInvalidName, kInvalidInterval, kInvalidPeriod, kStorageReadFailed};
constexpr ErrorCode kSetErrors[] = {kInvalidName,  kNotInteger, kInvalidInterval,  kInvalidPeriod,
                                    kInvalidActor, kSyntax,     kStorageReadFailed};
constexpr ErrorCode kResetErrors[] = {kInvalidName,  kInvalidInterval, kInvalidPeriod,
                                      kInvalidActor, kSyntax,          kStorageReadFailed};
constexpr ErrorCode kRecountErrors[] = {kInvalidName,  kNotInteger, kInvalidInterval, kInvalidPeriod,
                                        kInvalidActor, kSyntax,     kWrongArity,      kStorageReadFailed};
constexpr ErrorCode kDelErrors[] = {kInvalidName, kInvalidInterval, kInvalidActor, kSyntax, kStorageReadFailed};
constexpr ErrorCode kHistoryErrors[] = {kInvalidName, kInvalidInterval, kInvalidPeriod,    kNotInteger,
                                        kOutOfRange,  kSyntax,          kStorageReadFailed};
constexpr ErrorCode kSumErrors[] = {kInvalidName, kInvalidInterval, kInvalidPeriod,
                                    kOverflow,    kSyntax,          kStorageReadFailed};
constexpr ErrorCode kTopErrors[] = {kInvalidName, kInvalidInterval, kInvalidPeriod,    kNotInteger,
                                    kOutOfRange,  kSyntax,          kStorageReadFailed};
constexpr ErrorCode kOwnersErrors[] = {kNotInteger, kOutOfRange, kSyntax, kStorageReadFailed};
constexpr ErrorCode kOwnerTzErrors[] = {kInvalidName, kInvalidTimezone, kSyntax, kStorageReadFailed};
constexpr ErrorCode kCellsErrors[] = {kInvalidName, kInvalidInterval, kInvalidPeriod,    kNotInteger,
                                      kOutOfRange,  kSyntax,          kStorageReadFailed};

const protocol::CommandSpec kSpecs[] = {
    {"CTR.INCRBY", -4, kWriteFast, "counter", kIncrBySyntax,
     "Adds delta to the total and to every interval's cell for the event time; replies the new total.", CtrIncrBy,
     kIncrByErrors},
    {"CTR.INCR", -3, kWriteFast, "counter", kIncrSyntax, "CTR.INCRBY with delta 1.", CtrIncr, kIncrByErrors},
    {"CTR.DECRBY", -4, kWriteFast, "counter", kIncrBySyntax, "Subtracts delta (CTR.INCRBY with -delta).", CtrDecrBy,
     kIncrByErrors},
    {"CTR.GET", -3, kRead | flags::kFast, "counter", kGetSyntax, "Value of one cell (default: total); 0 when absent.",
     CtrGet, kGetErrors},
    {"CTR.ALL", -2, kRead, "counter", kAllSyntax, "Every key of an owner with its value in one cell, sorted by key.",
     CtrAll, kGetErrors},
    {"CTR.MGET", -5, kRead, "counter", "key interval period owner [owner ...]", "One cell of a key for several owners.",
     CtrMGet, kMGetErrors},
    {"CTR.SET", -4, flags::kWrite, "counter", kSetSyntax,
     "Sets one cell (a recount); later increments add to it. Audited (AUDIT.READ).", CtrSet, kSetErrors},
    {"CTR.RESET", -3, flags::kWrite, "counter", kResetSyntax, "Sets one cell to 0. Audited.", CtrReset, kResetErrors},
    {"CTR.RECOUNT", -6, flags::kWrite, "counter", "owner key interval period value [period value ...] [BY actor]",
     "Sets several periods of one interval in one atomic step. Audited.", CtrRecount, kRecountErrors},
    {"CTR.DEL", -3, flags::kWrite, "counter", kDelSyntax,
     "Removes every cell of a counter, or every period of one interval; replies how many existed. Audited.", CtrDel,
     kDelErrors},
    {"CTR.HISTORY", -5, kRead, "counter", kHistorySyntax, "The last count periods, newest first, zeros for gaps.",
     CtrHistory, kHistoryErrors},
    {"CTR.SUM", -4, kRead, "counter", kSumSyntax, "Sum of the periods in a range (or of every stored period).", CtrSum,
     kSumErrors},
    {"CTR.TOP", -3, kRead, "counter", "key interval [period] [LIMIT n] [PREFIX owner-prefix]",
     "Owners ranked by one cell, highest first, ties by owner.", CtrTop, kTopErrors},
    {"CTR.OWNERS", -1, kRead, "counter", "[PREFIX owner-prefix] [CURSOR cursor] [COUNT n]",
     "Pages through owners in name order: [next-cursor, [owner, ...]]; cursor 0 starts and ends.", CtrOwners,
     kOwnersErrors},
    {"OWNER.TZ", -2, flags::kWrite, "counter", kOwnerTzSyntax,
     "Reads or sets the owner's time zone (applies to events from now on).", OwnerTz, kOwnerTzErrors},
    {"CTR.CELLS", -1, kRead, "counter",
     "[PREFIX owner-prefix] [TYPE owner-type] [KEY key] [INTERVAL interval [PERIOD period]] [CURSOR cursor] [COUNT n]",
     "Pages through cells that hold a value, in owner, key, interval, period order (the admin table and export).",
     CtrCells, kCellsErrors},
};

}  // namespace

std::span<const protocol::CommandSpec> CounterCommands() { return kSpecs; }

}  // namespace tally::commands
