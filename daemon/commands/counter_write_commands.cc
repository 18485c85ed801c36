// The owner-counter writes (docs/counters.md "Counting" and "Fixing
// counts"): CTR.INCRBY, INCR, DECRBY, the audited ADJUST, SET, RESET,
// RECOUNT and DEL, and OWNER.TZ.

#include <climits>
#include <string>
#include <vector>

#include "commands/counter_commands.h"

namespace tally::commands::counter {

using protocol::ErrorCode;
namespace errors = protocol::errors;

namespace {

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

void AssignOne(CommandContext& ctx, CommandArgs args, size_t cell_index, int64_t value, const core::AuditInfo& audit,
               ReplySink& reply) {
  Interval interval;
  PeriodId period;
  if (!ParseCellArgs(ctx, args, cell_index, args[1], &interval, &period, reply)) return;
  auto result = ctx.engine.counters().AssignCells(args[1], args[2], {{interval, period, value}}, &audit);
  if (!result.ok()) return SendOpError(reply, result);
  reply.SendOk();
}

}  // namespace

void CtrIncrBy(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  IncrementGeneric(ctx, args, reply, std::nullopt, false);
}

void CtrIncr(CommandContext& ctx, CommandArgs args, ReplySink& reply) { IncrementGeneric(ctx, args, reply, 1, false); }
void CtrDecrBy(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  IncrementGeneric(ctx, args, reply, std::nullopt, true);
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
// CTR.RECOUNT <owner> <key> CELLS <interval> <period> <value> [<interval> <period> <value> ...] [BY <actor>]
// Either form sets every cell in one atomic step (AssignCells: one log
// entry); every cell is parsed before anything runs, so one bad cell changes
// nothing.
void CtrRecount(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  const bool cells_form = EqualsIgnoreCase(args[3], "CELLS");
  std::string_view actor;
  if (!TakeActor(ctx, &args, cells_form ? 7 : 6, &actor, reply)) return;
  if (!CheckOwnerKey(args, reply)) return;
  const std::optional<core::TimeZone> owner_zone = OwnerZone(ctx, args[1], reply);
  if (!owner_zone) return;
  const core::TimeZone& zone = *owner_zone;
  const int64_t now = ctx.engine.clock().NowMs();
  std::vector<core::CellAssignment> cells;
  if (cells_form) {
    if (args.size() < 7 || (args.size() - 4) % 3 != 0) {
      return reply.SendError(errors::IncompleteGroups("CELLS", "interval period value", args.size() - 4));
    }
    for (size_t i = 4; i + 2 < args.size(); i += 3) {
      core::CellAssignment cell{};
      std::optional<protocol::Error> error = ReadInterval("interval", args[i], &cell.interval);
      if (!error) error = ReadPeriod("period", cell.interval, args[i + 1], zone, now, &cell.period);
      if (!error) error = ReadInteger("value", args[i + 2], &cell.value);
      if (error) return reply.SendError(errors::InListItem("cell", (i - 4) / 3 + 1, "CELLS", *error));
      cells.push_back(cell);
    }
  } else {
    if ((args.size() - 4) % 2 != 0) return reply.SendError(ErrorCode::kWrongArity, errors::WrongArity(args[0]));
    auto interval = ParseIntervalArg("interval", args[3], reply);
    if (!interval) return;
    for (size_t i = 4; i + 1 < args.size(); i += 2) {
      auto period = ParsePeriodArg("period", *interval, args[i], zone, now, reply);
      if (!period) return;
      int64_t value = 0;
      if (!ParseInteger("value", args[i + 1], &value, reply)) return;
      cells.push_back({*interval, *period, value});
    }
  }
  const core::AuditInfo audit{actor, "CTR.RECOUNT"};
  auto result = ctx.engine.counters().AssignCells(args[1], args[2], cells, &audit);
  if (!result.ok()) return SendOpError(reply, result);
  reply.SendOk();
}

// CTR.ADJUST <owner> <key> <delta> [AT <unix-ms>] [ID <event-id>] [BY <actor>]:
// a correction of the whole counter. Unlike SET, which overrides one cell,
// it moves the total and the cell of every interval for the AT time together
// (engine Adjust), so they stay consistent; unlike INCRBY it is audited. An
// ID makes a retried correction apply once, as an increment's does.
void CtrAdjust(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  std::string_view actor;
  if (!TakeActor(ctx, &args, 4, &actor, reply)) return;
  if (!CheckOwnerKey(args, reply)) return;
  int64_t delta = 0;
  if (!ParseInteger("delta", args[3], &delta, reply)) return;
  const int64_t now = ctx.engine.clock().NowMs();
  int64_t at = now;
  bool at_given = false;
  std::optional<std::string_view> event_id;
  for (size_t index = 4; index < args.size(); index += 2) {
    std::string_view option = OptionName(args[index], {"AT", "ID"});
    if (option.empty()) return reply.SendError(errors::UnknownOption(args[index], "AT or ID, or BY actor at the end"));
    if ((option == "AT" && at_given) || (option == "ID" && event_id)) {
      return reply.SendError(errors::UnexpectedArgument(args[index], "CTR.ADJUST", kAdjustSyntax));
    }
    if (index + 1 >= args.size()) {
      return reply.SendError(errors::OptionNeedsValue(option, option == "AT" ? "unix-ms" : "event-id"));
    }
    if (option == "AT") {
      if (!ParseInteger("AT", args[index + 1], &at, reply)) return;
      if (!CheckEventTime(ctx, "AT", at, now, reply)) return;
      at_given = true;
    } else {
      event_id = args[index + 1];
      if (!core::ValidEventId(*event_id)) return reply.SendError(errors::InvalidEventId("ID", *event_id));
    }
  }
  const core::AuditInfo audit{actor, "CTR.ADJUST"};
  auto result = ctx.engine.counters().Adjust({args[1], args[2], delta, at, event_id.value_or(""), at_given}, audit);
  if (!result.ok()) return SendOpError(reply, result);
  ctx.client.last_write_duplicate = result.value.duplicate;
  reply.SendInteger(result.value.total);
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

}  // namespace tally::commands::counter
