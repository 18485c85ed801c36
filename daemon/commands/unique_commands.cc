// Distinct counts per owner (docs/metering.md "Distinct counts"): UNIQ.ADD
// and UNIQ.COUNT over core/uniques.h. Names, intervals, periods and event
// times are parsed exactly as the owner-counter commands parse them
// (counter_args.cc), so a period CTR.GET or CTR.SUM accepts names the same
// cells here. Handlers parse and validate every argument first, then call
// one engine op.

#include <string_view>
#include <tuple>
#include <vector>

#include "commands/counter_commands.h"
#include "commands/registry.h"
#include "core/uniques.h"

namespace tally::commands {
namespace {

using namespace counter;
using protocol::ErrorCode;
namespace errors = protocol::errors;
namespace flags = protocol::flags;

constexpr std::string_view kAddSyntax = "owner key member [member ...] [AT unix-ms]";
constexpr std::string_view kCountSyntax = "owner key interval [period | FROM period TO period]";

// UNIQ.ADD <owner> <key> <member> [<member> ...] [AT <unix-ms>]
// A trailing `AT <unix-ms>` is the event time, not two members, whenever at
// least one member stands before it (so a member spelled AT must not be the
// second-to-last argument).
void UniqAdd(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  if (!CheckOwnerKey(args, reply)) return;
  const int64_t now = ctx.engine.clock().NowMs();
  int64_t at = now;
  CommandArgs members = args.subspan(3);
  if (members.size() >= 3 && EqualsIgnoreCase(members[members.size() - 2], "AT")) {
    if (!ParseInteger("AT", members.back(), &at, reply)) return;
    if (!CheckEventTime(ctx, "AT", at, now, reply)) return;
    members = members.first(members.size() - 2);
  }
  if (members.size() > core::UniquesModule::kMaxMembers) {
    return reply.SendError(
        errors::ListSize("argument", "member", 1, core::UniquesModule::kMaxMembers, "members", members.size()));
  }
  auto result = ctx.engine.uniques().Add(args[1], args[2], members, at);
  if (!result.ok()) return SendOpError(reply, result);
  reply.SendInteger(result.value ? 1 : 0);
}

// UNIQ.COUNT <owner> <key> <interval> [<period> | FROM <period> TO <period>]
// One period (default current; total has one cell), or the union of an
// inclusive range of periods.
void UniqCount(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  if (!CheckOwnerKey(args, reply)) return;
  auto interval = ParseIntervalArg("interval", args[3], reply);
  if (!interval) return;
  const std::optional<core::TimeZone> owner_zone = OwnerZone(ctx, args[1], reply);
  if (!owner_zone) return;
  const core::TimeZone& zone = *owner_zone;
  const int64_t now = ctx.engine.clock().NowMs();
  core::PeriodId from = core::PeriodOf(*interval, now, zone);
  core::PeriodId to = from;
  if (args.size() == 5) {
    auto period = ParsePeriodArg("period", *interval, args[4], zone, now, reply);
    if (!period) return;
    from = to = *period;
  } else if (args.size() > 5) {
    std::optional<std::string_view> from_label, to_label;
    for (size_t i = 4; i < args.size(); i += 2) {
      const bool is_from = EqualsIgnoreCase(args[i], "FROM");
      if (!is_from && !EqualsIgnoreCase(args[i], "TO")) {
        return reply.SendError((from_label && to_label)
                                   ? errors::UnexpectedArgument(args[i], "UNIQ.COUNT", kCountSyntax)
                                   : errors::UnknownOption(args[i], "FROM or TO"));
      }
      if (i + 1 >= args.size()) return reply.SendError(errors::OptionNeedsValue(is_from ? "FROM" : "TO", "period"));
      auto& label = is_from ? from_label : to_label;
      if (label) return reply.SendError(errors::UnexpectedArgument(args[i], "UNIQ.COUNT", kCountSyntax));
      label = args[i + 1];
    }
    if (!from_label || !to_label) return reply.SendError(errors::NeedsBoth("UNIQ.COUNT", "FROM", "TO"));
    if (*interval == core::Interval::kTotal) {
      return reply.SendError(errors::RangeNeedsCalendarInterval("FROM", "TO", "interval", args[3]));
    }
    auto range = ParsePeriodRange(*interval, *from_label, *to_label, zone, now, reply);
    if (!range) return;
    std::tie(from, to) = *range;
  }
  auto result = ctx.engine.uniques().Count(args[1], args[2], *interval, from, to);
  if (!result.ok()) return SendOpError(reply, result);
  reply.SendInteger(static_cast<int64_t>(result.value));
}

// The errors each handler can reply with (wrong_arity and, for writes,
// storage_failed come on top: protocol::DeclaredErrors).
using enum ErrorCode;
constexpr ErrorCode kAddErrors[] = {kInvalidName, kNotInteger, kInvalidTime, kOutOfRange, kStorageReadFailed};
constexpr ErrorCode kCountErrors[] = {kInvalidName, kInvalidInterval, kInvalidPeriod, kSyntax, kStorageReadFailed};

const protocol::CommandSpec kSpecs[] = {
    {"UNIQ.ADD", -4, flags::kWrite | flags::kFast, "unique", kAddSyntax,
     "Adds members to the owner's distinct count of key: the total and every interval's cell for the event time "
     "(a trailing AT unix-ms; default now). 1 if any cell's estimate may have changed, else 0. At most 10000 members.",
     UniqAdd, kAddErrors},
    {"UNIQ.COUNT", -4, flags::kReadOnly, "unique", kCountSyntax,
     "Distinct members of one cell (default: the current period), or of the union of a range of periods (FROM TO); "
     "exact below 257, else within ~0.81% (one standard error).",
     UniqCount, kCountErrors},
};

}  // namespace

std::span<const protocol::CommandSpec> UniqueCommands() { return kSpecs; }

}  // namespace tally::commands
