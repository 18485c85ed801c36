// The owner-counter reads (docs/counters.md "Reading"): CTR.GET, ALL, MGET,
// HISTORY, SUM, TOP, OWNERS and CELLS. None of them creates an owner, a key
// or a counter.

#include <string>
#include <tuple>
#include <vector>

#include "commands/counter_commands.h"

namespace tally::commands::counter {

namespace errors = protocol::errors;

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

// CTR.HISTORY <owner> <key> <interval> <count> [FROM <period>] [WITHSTART]
void CtrHistory(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  if (!CheckOwnerKey(args, reply)) return;
  auto interval = ParseIntervalArg("interval", args[3], reply);
  if (!interval) return;
  if (*interval == Interval::kTotal) return reply.SendError(errors::NotACalendarInterval("interval", args[3]));
  int64_t count = 0;
  if (!ParseInteger("count", args[4], &count, reply)) return;
  if (count < 1 || count > kMaxPage) return reply.SendError(errors::OutOfRange("count", 1, kMaxPage));
  std::optional<std::string_view> from_label;
  bool with_start = false;
  for (size_t i = 5; i < args.size(); ++i) {
    std::string_view option = OptionName(args[i], {"FROM", "WITHSTART"});
    if (option.empty()) return reply.SendError(errors::UnknownOption(args[i], "FROM or WITHSTART"));
    if ((option == "FROM" && from_label) || (option == "WITHSTART" && with_start)) {
      return reply.SendError(errors::UnexpectedArgument(args[i], "CTR.HISTORY", kHistorySyntax));
    }
    if (option == "WITHSTART") {
      with_start = true;
      continue;
    }
    if (++i >= args.size()) return reply.SendError(errors::OptionNeedsValue("FROM", "period"));
    from_label = args[i];
  }
  const std::optional<core::TimeZone> owner_zone = OwnerZone(ctx, args[1], reply);
  if (!owner_zone) return;
  const core::TimeZone& zone = *owner_zone;
  const int64_t now = ctx.engine.clock().NowMs();
  PeriodId newest = core::PeriodOf(*interval, now, zone);
  if (from_label) {
    auto period = ParsePeriodArg("FROM", *interval, *from_label, zone, now, reply);
    if (!period) return;
    newest = *period;
  }
  PeriodId oldest = core::StepPeriod(*interval, newest, -(count - 1), zone);
  auto result = ctx.engine.counters().ReadRange(args[1], args[2], *interval, oldest, newest);
  if (!result.ok()) return SendOpError(reply, result);
  reply.SendArray(result.value.size());
  for (auto it = result.value.rbegin(); it != result.value.rend(); ++it) {
    reply.SendArray(with_start ? 3 : 2);
    reply.SendBulk(core::PeriodLabel(*interval, it->first, zone));
    reply.SendInteger(it->second);
    if (with_start) reply.SendInteger(core::PeriodStartMs(*interval, it->first, zone));
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
  auto range = ParsePeriodRange(*interval, *from_label, *to_label, zone, now, reply);
  if (!range) return;
  auto result = ctx.engine.counters().SumCells(args[1], args[2], *interval, range->first, range->second);
  if (!result.ok()) return SendOpError(reply, result);
  reply.SendInteger(result.value);
}

// CTR.TOP <key> <interval> [<period> | FROM <period> TO <period>] [OFFSET n] [LIMIT n] [PREFIX owner-prefix]
void CtrTop(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  if (!CheckName("key", args[1], reply)) return;
  auto interval = ParseIntervalArg("interval", args[2], reply);
  if (!interval) return;
  const std::initializer_list<std::string_view> kOptions = {"FROM", "TO", "OFFSET", "LIMIT", "PREFIX"};
  // Periods of the daemon's zone: day and longer ids are local dates, the
  // same dates in every owner's zone (core::TopQuery).
  const int64_t now = ctx.engine.clock().NowMs();
  const core::TimeZone& zone = ctx.engine.counter_options().default_time_zone;
  size_t index = 3;
  std::optional<PeriodId> period;
  if (index < args.size() && OptionName(args[index], kOptions).empty()) {
    period = ParsePeriodArg("period", *interval, args[index++], zone, now, reply);
    if (!period) return;
  }
  std::optional<std::string_view> from_label, to_label;
  int64_t offset = 0;
  int64_t limit = 10;
  std::string_view prefix;
  for (; index < args.size(); index += 2) {
    std::string_view option = OptionName(args[index], kOptions);
    if (option.empty()) return reply.SendError(errors::UnknownOption(args[index], "FROM, TO, OFFSET, LIMIT or PREFIX"));
    if (index + 1 >= args.size()) {
      return reply.SendError(errors::OptionNeedsValue(option, OptionPlaceholder(option)));
    }
    std::string_view value = args[index + 1];
    if (option == "FROM") {
      from_label = value;
    } else if (option == "TO") {
      to_label = value;
    } else if (option == "OFFSET") {
      if (!ParseInteger("OFFSET", value, &offset, reply)) return;
      if (offset < 0 || offset > kMaxTopOffset) return reply.SendError(errors::OutOfRange("OFFSET", 0, kMaxTopOffset));
    } else if (option == "LIMIT") {
      if (!ParseInteger("LIMIT", value, &limit, reply)) return;
      if (limit < 1 || limit > kMaxPage) return reply.SendError(errors::OutOfRange("LIMIT", 1, kMaxPage));
    } else {
      prefix = value;
    }
  }
  if (from_label.has_value() != to_label.has_value()) {
    return reply.SendError(errors::NeedsBoth("CTR.TOP", "FROM", "TO"));
  }
  if (period && from_label) return reply.SendError(errors::NotTogether("period", "FROM"));
  PeriodId from = period.value_or(core::PeriodOf(*interval, now, zone));
  PeriodId to = from;
  if (from_label) {
    if (*interval == Interval::kTotal) {
      return reply.SendError(errors::RangeNeedsCalendarInterval("FROM", "TO", "interval", args[2]));
    }
    auto range = ParsePeriodRange(*interval, *from_label, *to_label, zone, now, reply);
    if (!range) return;
    std::tie(from, to) = *range;
  }
  auto ranked = ctx.engine.counters().Top(
      core::TopQuery{args[1], *interval, from, to, static_cast<size_t>(offset), static_cast<size_t>(limit), prefix});
  if (!ranked.ok()) return SendOpError(reply, ranked);
  reply.SendArray(ranked.value.size());
  for (const auto& entry : ranked.value) {
    reply.SendArray(2);
    reply.SendBulk(entry.owner);
    reply.SendInteger(entry.value);
  }
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

}  // namespace tally::commands::counter
