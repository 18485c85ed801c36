// Metering with cost (docs/metering.md): METER.RECORD and PRICE.SET, GET,
// DEL, LIST. Handlers check every argument before the one engine op they
// call, so bad input changes nothing. Money is text on the wire, parsed and
// printed exactly (core/money.h: micro-units, never floating point).
//
// METER.RECORD replies a map:
//   {allowed, duplicate, cost, currency, refused}
//   cost      the event's cost as a decimal string ("0.0045"); "0" for a duplicate
//   refused   nil, or (CONSUME refused) {measure, amount, shortfall, <usage of its feature>}

#include <string>
#include <vector>

#include "commands/context.h"
#include "commands/counter_commands.h"
#include "commands/registry.h"
#include "commands/reply_status.h"
#include "commands/usage_reply.h"
#include "core/metering.h"
#include "core/money.h"
#include "protocol/errors.h"

namespace tally::commands {
namespace {

using protocol::CommandArgs;
using protocol::CommandContext;
using protocol::Error;
using protocol::ErrorCode;
using protocol::ReplySink;
namespace errors = protocol::errors;
namespace flags = protocol::flags;

constexpr std::string_view kRecordSyntax =
    "owner event-type measure value [measure value ...] [ID event-id] [AT unix-ms] [CONSUME]";

// A price's name is the counter it prices: <event-type>.<measure>.
bool CheckPriceName(std::string_view name, ReplySink& reply) {
  if (!core::ValidPriceName(name)) {
    reply.SendError(Error(ErrorCode::kInvalidName,
                          "invalid price name '" + std::string(name) +
                              "': use <event-type>.<measure>, e.g. chat.tokens (1-64 characters each of A-Z a-z "
                              "0-9 _ - :, and . in the event type; not the type 'cost')"));
    return false;
  }
  return true;
}

bool ParseMoney(std::string_view argument, std::string_view text, int64_t* out, ReplySink& reply) {
  const core::ParsedDecimal parsed = core::ParseDecimal(text, core::kMoneyScale);
  if (!parsed.ok()) {
    reply.SendError(Error(
        ErrorCode::kInvalidArgument,
        "invalid " + std::string(argument) + ": " + core::DecimalErrorMessage(*parsed.error, text, core::kMoneyScale)));
    return false;
  }
  *out = parsed.scaled;
  return true;
}

// ---- prices -------------------------------------------------------------------

// PRICE.SET <name> <price> [BY actor] -> 1 replaced, 0 new
void PriceSet(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  std::string_view actor;
  if (!counter::TakeActor(ctx, &args, 3, &actor, reply)) return;
  if (args.size() > 3)
    return reply.SendError(errors::UnexpectedArgument(args[3], "PRICE.SET", "name price [BY actor]"));
  if (!CheckPriceName(args[1], reply)) return;
  int64_t price = 0;
  if (!ParseMoney("price", args[2], &price, reply)) return;
  if (price <= 0) {
    return reply.SendError(Error(ErrorCode::kInvalidArgument,
                                 "price must be more than 0 (PRICE.DEL removes a price): got " + std::string(args[2])));
  }
  auto result = ctx.engine.metering().SetPrice(args[1], price, {actor, "PRICE.SET"});
  if (!result.ok()) return SendOpError(reply, result);
  reply.SendInteger(result.value ? 1 : 0);
}

// PRICE.GET <name> -> the price as a decimal string, or nil
void PriceGet(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  if (!CheckPriceName(args[1], reply)) return;
  auto price = ctx.engine.metering().GetPrice(args[1]);
  if (!price) return reply.SendNull();
  reply.SendBulk(core::FormatDecimal(*price, core::kMoneyScale));
}

// PRICE.DEL <name> [BY actor] -> 1 removed, 0 none
void PriceDel(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  std::string_view actor;
  if (!counter::TakeActor(ctx, &args, 2, &actor, reply)) return;
  if (args.size() > 2) return reply.SendError(errors::UnexpectedArgument(args[2], "PRICE.DEL", "name [BY actor]"));
  if (!CheckPriceName(args[1], reply)) return;
  auto result = ctx.engine.metering().DeletePrice(args[1], {actor, "PRICE.DEL"});
  if (!result.ok()) return SendOpError(reply, result);
  reply.SendInteger(result.value ? 1 : 0);
}

// PRICE.LIST -> {name: price, ...}
void PriceList(CommandContext& ctx, CommandArgs, ReplySink& reply) {
  const auto prices = ctx.engine.metering().ListPrices();
  reply.SendMap(prices.size());
  for (const auto& [name, price] : prices) {
    reply.SendBulk(name);
    reply.SendBulk(core::FormatDecimal(price, core::kMoneyScale));
  }
}

// ---- events -------------------------------------------------------------------

bool IsOptionWord(std::string_view word) {
  return EqualsIgnoreCase(word, "ID") || EqualsIgnoreCase(word, "AT") || EqualsIgnoreCase(word, "CONSUME");
}

// METER.RECORD <owner> <event-type> <measure> <value> [<measure> <value> ...] [ID id] [AT unix-ms] [CONSUME]
void MeterRecord(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  core::MeterEvent event;
  if (!counter::CheckName("owner", args[1], reply)) return;
  event.owner = args[1];
  if (!core::ValidEventType(args[2])) {
    return reply.SendError(Error(
        ErrorCode::kInvalidName,
        "invalid event-type '" + std::string(args[2]) + "': use 1-64 characters of A-Z a-z 0-9 _ - : . (not 'cost')"));
  }
  event.type = args[2];
  const int64_t max = ctx.engine.quotas_options().max_amount;
  size_t i = 3;
  for (; i < args.size() && !IsOptionWord(args[i]); i += 2) {
    const std::string_view measure = args[i];
    if (!core::ValidMeasure(measure)) {
      return reply.SendError(Error(ErrorCode::kInvalidName, "invalid measure '" + std::string(measure) +
                                                                "': use 1-64 characters of A-Z a-z 0-9 _ - :"));
    }
    if (i + 1 >= args.size()) return reply.SendError(errors::OptionNeedsValue(measure, "value"));
    for (const core::Measure& seen : event.measures) {
      if (seen.name == measure) {
        return reply.SendError(Error(ErrorCode::kSyntax, "measure '" + std::string(measure) + "' given twice"));
      }
    }
    int64_t value = 0;
    if (!counter::ParseInteger("value", args[i + 1], &value, reply)) return;
    if (value < 0 || value > max) return reply.SendError(errors::OutOfRange("value", 0, max));
    if (event.measures.size() == core::kMaxMeasures) {
      return reply.SendError(
          Error(ErrorCode::kSyntax, "at most " + std::to_string(core::kMaxMeasures) + " measures per event"));
    }
    event.measures.push_back({measure, value});
  }
  if (event.measures.empty())
    return reply.SendError(errors::UnexpectedArgument(args[i], "METER.RECORD", kRecordSyntax));
  bool id_given = false, at_given = false;
  for (; i < args.size(); ++i) {
    const std::string_view option = counter::OptionName(args[i], {"ID", "AT", "CONSUME"});
    const bool repeated =
        (option == "ID" && id_given) || (option == "AT" && at_given) || (option == "CONSUME" && event.consume);
    if (option.empty() || repeated)
      return reply.SendError(errors::UnexpectedArgument(args[i], "METER.RECORD", kRecordSyntax));
    if (option == "CONSUME") {
      event.consume = true;
      continue;
    }
    if (i + 1 >= args.size())
      return reply.SendError(errors::OptionNeedsValue(option, counter::OptionPlaceholder(option)));
    const std::string_view value = args[++i];
    if (option == "ID") {
      if (!core::ValidEventId(value)) return reply.SendError(errors::InvalidEventId("ID", value));
      event.id = value;
      id_given = true;
    } else {
      int64_t at = 0;
      if (!counter::ParseInteger("AT", value, &at, reply)) return;
      if (!counter::CheckEventTime(ctx, "AT", at, ctx.engine.clock().NowMs(), reply)) return;
      event.at_ms = at;
      at_given = true;
    }
  }
  auto result = ctx.engine.metering().Record(event);
  if (!result.ok()) {
    if (result.status == core::OpStatus::kOverflow) {
      return reply.SendError(Error(ErrorCode::kOverflow,
                                   "the event's cost, or one of its counters, would overflow "
                                   "64 bits: nothing was recorded"));
    }
    return SendOpError(reply, result);
  }
  const core::MeterResult& r = result.value;
  ctx.client.last_write_duplicate = r.duplicate;
  reply.SendMap(5);
  reply.SendBulk("allowed");
  reply.SendInteger(r.allowed ? 1 : 0);
  reply.SendBulk("duplicate");
  reply.SendInteger(r.duplicate ? 1 : 0);
  reply.SendBulk("cost");
  reply.SendBulk(core::FormatDecimal(r.cost, core::kMoneyScale));
  reply.SendBulk("currency");
  reply.SendBulk(ctx.engine.metering().currency());
  reply.SendBulk("refused");
  if (r.allowed) return reply.SendNull();
  reply.SendMap(3 + kUsagePairs);
  reply.SendBulk("measure");
  reply.SendBulk(r.refused_measure);
  reply.SendBulk("amount");
  reply.SendInteger(r.refused_amount);
  reply.SendBulk("shortfall");
  reply.SendInteger(r.shortfall);
  SendUsagePairs(r.usage, reply);
}

constexpr uint32_t kWrite = flags::kWrite | flags::kFast;
constexpr uint32_t kRead = flags::kReadOnly | flags::kFast;

using enum protocol::ErrorCode;
constexpr ErrorCode kPriceSetErrors[] = {kInvalidName, kInvalidArgument, kInvalidActor, kSyntax};
constexpr ErrorCode kPriceNameErrors[] = {kInvalidName};
constexpr ErrorCode kPriceDelErrors[] = {kInvalidName, kInvalidActor, kSyntax};
constexpr ErrorCode kRecordErrors[] = {kInvalidName, kNotInteger, kOutOfRange, kInvalidId,        kInvalidTime,
                                       kIdConflict,  kOverflow,   kSyntax,     kStorageReadFailed};

const protocol::CommandSpec kSpecs[] = {
    {"METER.RECORD", -5, kWrite, "metering", kRecordSyntax,
     "Records an event: adds each measure to the owner's counter <event-type>.<measure> and the event's cost (sum of "
     "value x price) to `cost` and `cost.<event-type>` (micro-units), all or nothing, in one log entry. CONSUME: "
     "also consumes the quota of every measure the owner's plan limits; if one does not fit, nothing is recorded "
     "(allowed 0, refused names it). ID: a retry counts once (duplicate 1).",
     MeterRecord, kRecordErrors},
    {"PRICE.SET", -3, kWrite, "metering", "name price [BY actor]",
     "Sets the price of one unit of <event-type>.<measure> as a decimal in the currency (at most 6 decimal places, "
     "e.g. 0.000002): 1 if it replaced a price, 0 if new. Applies to events recorded from now on. Audited.",
     PriceSet, kPriceSetErrors},
    {"PRICE.GET", 2, kRead, "metering", "name", "The price as a decimal string, or nil.", PriceGet, kPriceNameErrors},
    {"PRICE.DEL", -2, kWrite, "metering", "name [BY actor]",
     "Removes a price: 1, or 0 if there was none. Later events of the measure cost nothing. Audited.", PriceDel,
     kPriceDelErrors},
    {"PRICE.LIST", 1, kRead, "metering", "", "Every price, as a map of name to decimal string.", PriceList},
};

}  // namespace

std::span<const protocol::CommandSpec> MeterCommands() { return kSpecs; }

}  // namespace tally::commands
