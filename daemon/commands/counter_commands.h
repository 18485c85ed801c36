#pragma once
// Private to the owner-counter commands (docs/counters.md): the handlers of
// the command table in counter_commands.cc and the argument parsing they
// share (counter_args.cc). Handlers parse and validate every argument first,
// so bad input changes nothing; then they call one engine op and render its
// result. Errors name the argument as the command's syntax does ("delta",
// "AT", "COUNT"), so the HTTP routes can say their own field names instead.
//
// Files: counter_args.cc (shared parsing), counter_read_commands.cc (GET,
// ALL, MGET, HISTORY, SUM, TOP, OWNERS, CELLS), counter_write_commands.cc
// (INCRBY, INCR, DECRBY, ADJUST, SET, RESET, RECOUNT, DEL, OWNER.TZ),
// counter_commands.cc (the table).

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "commands/context.h"
#include "commands/reply_status.h"
#include "core/calendar.h"
#include "protocol/errors.h"

namespace tally::commands::counter {

using core::Interval;
using core::PeriodId;
using protocol::CommandArgs;
using protocol::CommandContext;
using protocol::ReplySink;

// Syntaxes, shared by the command table and the errors that quote them.
inline constexpr std::string_view kIncrBySyntax = "owner key delta [AT unix-ms] [ID event-id]";
inline constexpr std::string_view kIncrSyntax = "owner key [AT unix-ms] [ID event-id]";
inline constexpr std::string_view kGetSyntax = "owner key [interval [period]]";
inline constexpr std::string_view kAllSyntax = "owner [interval [period]]";
inline constexpr std::string_view kSetSyntax = "owner key value [interval [period]] [BY actor]";
inline constexpr std::string_view kResetSyntax = "owner key [interval [period]] [BY actor]";
inline constexpr std::string_view kDelSyntax = "owner key [interval] [BY actor]";
inline constexpr std::string_view kHistorySyntax = "owner key interval count [FROM period] [WITHSTART]";
inline constexpr std::string_view kSumSyntax = "owner key interval [FROM period TO period]";
inline constexpr std::string_view kTopSyntax =
    "key interval [period | FROM period TO period] [OFFSET n] [LIMIT n] [PREFIX owner-prefix]";
inline constexpr std::string_view kAdjustSyntax = "owner key delta [AT unix-ms] [ID event-id] [BY actor]";
inline constexpr std::string_view kRecountSyntax =
    "owner key (interval period value [period value ...] | CELLS interval period value [interval period value ...]) "
    "[BY actor]";
inline constexpr std::string_view kOwnerTzSyntax = "owner [timezone]";

// Largest page of the listing commands (COUNT, LIMIT, HISTORY's count).
inline constexpr int64_t kMaxPage = 10000;
// Largest OFFSET of CTR.TOP: its heap holds offset + limit owners.
inline constexpr int64_t kMaxTopOffset = 1'000'000;

// ---- argument parsing (counter_args.cc) ----

// The error naming the argument, or nullopt and *out set. For arguments
// whose error gets context before it is sent (one cell of CELLS).
std::optional<protocol::Error> ReadInterval(std::string_view argument, std::string_view text, Interval* out);
std::optional<protocol::Error> ReadPeriod(std::string_view argument, Interval interval, std::string_view text,
                                          const core::TimeZone& zone, int64_t now, PeriodId* out);
std::optional<protocol::Error> ReadInteger(std::string_view argument, std::string_view text, int64_t* out);

// The same, sending the error: each false / nullopt below has sent it.
// The owner's time zone; nullopt (the error sent) if its stored settings
// cannot be read.
std::optional<core::TimeZone> OwnerZone(CommandContext& ctx, std::string_view owner, ReplySink& reply);

bool CheckName(std::string_view argument, std::string_view name, ReplySink& reply);
// args[1] (owner) and args[2] (key).
bool CheckOwnerKey(CommandArgs args, ReplySink& reply);
std::optional<Interval> ParseIntervalArg(std::string_view argument, std::string_view text, ReplySink& reply);
std::optional<PeriodId> ParsePeriodArg(std::string_view argument, Interval interval, std::string_view text,
                                       const core::TimeZone& zone, int64_t now, ReplySink& reply);
// FROM <from_label> TO <to_label> as the first and last period ids of
// `interval`; nullopt (the error sent) if either is not a period or the
// range ends before it starts.
std::optional<std::pair<PeriodId, PeriodId>> ParsePeriodRange(Interval interval, std::string_view from_label,
                                                              std::string_view to_label, const core::TimeZone& zone,
                                                              int64_t now, ReplySink& reply);
// [<interval> [<period>]] starting at args[index]; defaults: total, current.
bool ParseCellArgs(CommandContext& ctx, CommandArgs args, size_t index, std::string_view owner, Interval* interval,
                   PeriodId* period, ReplySink& reply);
bool ParseInteger(std::string_view argument, std::string_view text, int64_t* value, ReplySink& reply);
// An event time within [now - max_backdate, now + max_future_skew].
bool CheckEventTime(CommandContext& ctx, std::string_view argument, int64_t at, int64_t now, ReplySink& reply);
// The optional trailing `BY <actor>` of the administrative commands (SET,
// RESET, RECOUNT, DEL), who is named in the audit trail. It is taken off the
// end of `args` only when at least `min_args` arguments (the command's
// arity) stand before it, so it can never be mistaken for an interval, period
// or value (none of which can be "BY"). Without BY the actor is the client's
// name (CLIENT SETNAME), else its address.
bool TakeActor(CommandContext& ctx, CommandArgs* args, size_t min_args, std::string_view* actor, ReplySink& reply);
// The option word `word` names, spelled as in `options` (upper case); "" if none.
std::string_view OptionName(std::string_view word, std::initializer_list<std::string_view> options);
// What follows an option word in the syntax ("COUNT n").
std::string_view OptionPlaceholder(std::string_view option);
// The one owner prefix that PREFIX p and TYPE t select together; nullopt
// when they contradict each other (no owner can match both).
std::optional<std::string> OwnerPrefix(std::string_view prefix, std::string_view type);

// ---- handlers (counter_read_commands.cc) ----

void CtrGet(CommandContext& ctx, CommandArgs args, ReplySink& reply);
void CtrAll(CommandContext& ctx, CommandArgs args, ReplySink& reply);
void CtrMGet(CommandContext& ctx, CommandArgs args, ReplySink& reply);
void CtrHistory(CommandContext& ctx, CommandArgs args, ReplySink& reply);
void CtrSum(CommandContext& ctx, CommandArgs args, ReplySink& reply);
void CtrTop(CommandContext& ctx, CommandArgs args, ReplySink& reply);
void CtrOwners(CommandContext& ctx, CommandArgs args, ReplySink& reply);
void CtrCells(CommandContext& ctx, CommandArgs args, ReplySink& reply);

// ---- handlers (counter_write_commands.cc) ----

void CtrIncrBy(CommandContext& ctx, CommandArgs args, ReplySink& reply);
void CtrIncr(CommandContext& ctx, CommandArgs args, ReplySink& reply);
void CtrDecrBy(CommandContext& ctx, CommandArgs args, ReplySink& reply);
void CtrSet(CommandContext& ctx, CommandArgs args, ReplySink& reply);
void CtrReset(CommandContext& ctx, CommandArgs args, ReplySink& reply);
void CtrRecount(CommandContext& ctx, CommandArgs args, ReplySink& reply);
void CtrAdjust(CommandContext& ctx, CommandArgs args, ReplySink& reply);
void CtrDel(CommandContext& ctx, CommandArgs args, ReplySink& reply);
void OwnerTz(CommandContext& ctx, CommandArgs args, ReplySink& reply);

}  // namespace tally::commands::counter
