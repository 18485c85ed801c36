// The argument parsing the owner-counter commands share (counter_commands.h):
// names, intervals, periods, integers, event times (AT), the actor (BY) and
// option words. Each check sends its own error, naming the argument as the
// command's syntax spells it.

#include <string>

#include "commands/counter_commands.h"
#include "protocol/resp_parser.h"

namespace tally::commands::counter {

namespace errors = protocol::errors;

bool CheckName(std::string_view argument, std::string_view name, ReplySink& reply) {
  if (core::ValidName(name)) return true;
  reply.SendError(errors::InvalidName(argument, name));
  return false;
}

bool CheckOwnerKey(CommandArgs args, ReplySink& reply) {
  return CheckName("owner", args[1], reply) && CheckName("key", args[2], reply);
}

std::optional<protocol::Error> ReadInterval(std::string_view argument, std::string_view text, Interval* out) {
  auto interval = core::ParseInterval(text);
  if (!interval) return errors::UnknownInterval(argument, text);
  *out = *interval;
  return std::nullopt;
}

std::optional<protocol::Error> ReadPeriod(std::string_view argument, Interval interval, std::string_view text,
                                          const core::TimeZone& zone, int64_t now, PeriodId* out) {
  std::string error;
  if (!core::ParsePeriod(interval, text, zone, now, out, &error)) return errors::InvalidPeriod(argument, error);
  return std::nullopt;
}

std::optional<protocol::Error> ReadInteger(std::string_view argument, std::string_view text, int64_t* out) {
  if (!protocol::ParseInt64(text, out)) return errors::NotAnInteger(argument, text);
  return std::nullopt;
}

std::optional<Interval> ParseIntervalArg(std::string_view argument, std::string_view text, ReplySink& reply) {
  Interval interval;
  if (auto error = ReadInterval(argument, text, &interval)) {
    reply.SendError(*error);
    return std::nullopt;
  }
  return interval;
}

std::optional<PeriodId> ParsePeriodArg(std::string_view argument, Interval interval, std::string_view text,
                                       const core::TimeZone& zone, int64_t now, ReplySink& reply) {
  PeriodId period = 0;
  if (auto error = ReadPeriod(argument, interval, text, zone, now, &period)) {
    reply.SendError(*error);
    return std::nullopt;
  }
  return period;
}

std::optional<std::pair<PeriodId, PeriodId>> ParsePeriodRange(Interval interval, std::string_view from_label,
                                                              std::string_view to_label, const core::TimeZone& zone,
                                                              int64_t now, ReplySink& reply) {
  auto first = ParsePeriodArg("FROM", interval, from_label, zone, now, reply);
  if (!first) return std::nullopt;
  auto last = ParsePeriodArg("TO", interval, to_label, zone, now, reply);
  if (!last) return std::nullopt;
  if (*first > *last) {
    reply.SendError(errors::RangeReversed("FROM", from_label, "TO", to_label));
    return std::nullopt;
  }
  return std::pair(*first, *last);
}

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
  auto error = ReadInteger(argument, text, value);
  if (error) reply.SendError(*error);
  return !error;
}

// Plausible unix *seconds* (2001-09-09 .. 5138-11-16) that, read as
// milliseconds, fall in January 1970 .. March 1973: the mistake PHP's
// time() or Python's int(time.time()) makes.
namespace {
bool LooksLikeSeconds(int64_t at) { return at >= 1'000'000'000 && at < 100'000'000'000; }
}  // namespace

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

// The option word `word` names, spelled as in `options` (upper case); "" if none.
std::string_view OptionName(std::string_view word, std::initializer_list<std::string_view> options) {
  for (std::string_view option : options) {
    if (EqualsIgnoreCase(word, option)) return option;
  }
  return {};
}

// What follows an option word in the syntax ("COUNT n").
std::string_view OptionPlaceholder(std::string_view option) {
  if (option == "COUNT" || option == "LIMIT" || option == "OFFSET") return "n";
  if (option == "FROM" || option == "TO") return "period";
  if (option == "CURSOR") return "cursor";
  if (option == "PREFIX") return "owner-prefix";
  if (option == "TYPE") return "owner-type";
  if (option == "KEY") return "key";
  if (option == "INTERVAL") return "interval";
  if (option == "PERIOD") return "period";
  return "value";
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

}  // namespace tally::commands::counter
