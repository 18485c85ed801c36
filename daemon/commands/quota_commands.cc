// Plans, quotas and credits (docs/quotas.md): PLAN.*, QUOTA.* and CREDIT.*
// (the alert log's EVENTS.READ is with the other feeds, feed_commands.cc). Handlers parse and check every argument
// before the one engine op they call, so bad input changes nothing; names
// and times are checked with the counters' helpers (counter_commands.h).
//
// Replies are maps, so the HTTP routes show them as JSON objects:
//   usage     {feature, used, limit, remaining, credits, held, overage, period, resets_at}
//             (limit and remaining nil = unlimited; resets_at nil = never)
//   decision  {allowed, duplicate, <usage>, sources: [{source, amount}], shortfall}
//             (source "plan" = the plan's allowance, else a grant id)

#include <nlohmann/json.hpp>

#include <set>
#include <string>
#include <vector>

#include "commands/context.h"
#include "commands/counter_commands.h"
#include "commands/plan_json.h"
#include "commands/registry.h"
#include "commands/reply_status.h"
#include "commands/usage_reply.h"
#include "core/quotas.h"
#include "protocol/errors.h"
#include "protocol/resp_parser.h"

namespace tally::commands {
namespace {

using protocol::CommandArgs;
using protocol::CommandContext;
using protocol::Error;
using protocol::ErrorCode;
using protocol::ReplySink;
namespace errors = protocol::errors;
namespace flags = protocol::flags;
using counter::CheckName;
using counter::ParseInteger;

constexpr std::string_view kConsumeSyntax = "owner feature amount [ID event-id] [AT unix-ms]";
constexpr std::string_view kReleaseSyntax = "owner feature amount [ID event-id]";
constexpr std::string_view kReserveSyntax = "owner feature amount [TTL ms] [ID reservation-id]";
constexpr std::string_view kGrantSyntax =
    "owner feature amount [EXPIRES unix-ms | IN duration] [PRIORITY p] [REASON text] [BY actor] [ID grant-id]";
constexpr std::string_view kAssignSyntax = "owner plan [ANCHOR yyyy-mm-dd]";

// Options after the fixed arguments: each word once, each with one value
// (or none, for flags). False (error sent) on an unknown or repeated word or
// a missing value.
struct Options {
  std::vector<std::pair<std::string_view, std::string_view>> given;
  std::optional<std::string_view> Get(std::string_view name) const {
    for (const auto& [option, value] : given) {
      if (option == name) return value;
    }
    return std::nullopt;
  }
};
bool ParseOptions(CommandArgs args, size_t from, std::string_view command, std::string_view syntax,
                  std::initializer_list<std::string_view> with_value,
                  std::initializer_list<std::string_view> flag_words, Options* out, ReplySink& reply) {
  for (size_t i = from; i < args.size(); ++i) {
    std::string_view option = counter::OptionName(args[i], with_value);
    const bool is_flag = option.empty() && !counter::OptionName(args[i], flag_words).empty();
    if (is_flag) option = counter::OptionName(args[i], flag_words);
    if (option.empty()) {
      reply.SendError(errors::UnexpectedArgument(args[i], command, syntax));
      return false;
    }
    if (out->Get(option)) {
      reply.SendError(errors::UnexpectedArgument(args[i], command, syntax));
      return false;
    }
    if (is_flag) {
      out->given.emplace_back(option, "");
      continue;
    }
    if (i + 1 >= args.size()) {
      reply.SendError(errors::OptionNeedsValue(option, "value"));
      return false;
    }
    out->given.emplace_back(option, args[++i]);
  }
  return true;
}

bool ParseAmount(CommandContext& ctx, std::string_view argument, std::string_view text, int64_t* amount,
                 ReplySink& reply) {
  if (!ParseInteger(argument, text, amount, reply)) return false;
  const int64_t max = ctx.engine.quotas_options().max_amount;
  if (*amount < 1 || *amount > max) {
    reply.SendError(errors::OutOfRange(argument, 1, max));
    return false;
  }
  return true;
}

bool CheckFeature(std::string_view feature, ReplySink& reply) {
  if (!core::IsValidPlanName(feature)) {
    reply.SendError(Error(ErrorCode::kInvalidName, "invalid feature '" + std::string(feature) +
                                                       "': use 1-64 characters of A-Z a-z 0-9 _ - . :"));
    return false;
  }
  return true;
}

bool CheckId(std::string_view argument, std::string_view id, ReplySink& reply) {
  if (!core::ValidEventId(id)) {
    reply.SendError(errors::InvalidEventId(argument, id));
    return false;
  }
  return true;
}

void SendSources(const core::DrawPlan& plan, ReplySink& reply) {
  reply.SendBulk("sources");
  reply.SendArray(plan.draws.size());
  for (const core::Draw& draw : plan.draws) {
    reply.SendMap(2);
    reply.SendBulk("source");
    reply.SendBulk(draw.grant.empty() ? std::string_view("plan") : std::string_view(draw.grant));
    reply.SendBulk("amount");
    reply.SendInteger(draw.amount);
  }
}

// A decision: allowed, duplicate, the usage, the sources and the shortfall
// (+ released for RELEASE, reservation and expires_at for RESERVE).
void SendDecision(const core::QuotaDecision& d, bool release, bool reserve, ReplySink& reply) {
  reply.SendMap(kUsagePairs + 4 + (release ? 1 : 0) + (reserve ? 2 : 0));
  reply.SendBulk("allowed");
  reply.SendInteger(d.allowed ? 1 : 0);
  reply.SendBulk("duplicate");
  reply.SendInteger(d.duplicate ? 1 : 0);
  SendUsagePairs(d.usage, reply);
  SendSources(d.plan, reply);
  reply.SendBulk("shortfall");
  reply.SendInteger(d.plan.shortfall);
  if (release) {
    reply.SendBulk("released");
    reply.SendInteger(d.released);
  }
  if (reserve) {
    reply.SendBulk("reservation");
    if (d.reservation.empty()) {
      reply.SendNull();
    } else {
      reply.SendBulk(d.reservation);
    }
    reply.SendBulk("expires_at");
    if (d.expires_ms != 0) {
      reply.SendInteger(d.expires_ms);
    } else {
      reply.SendNull();
    }
  }
}

// ---- plans --------------------------------------------------------------------

// A JSON text parsed strictly: a key repeated in one object is an error.
std::optional<nlohmann::json> ParseStrictJson(std::string_view text, std::string* error) {
  std::vector<std::set<std::string>> keys;
  std::string duplicate;
  auto check = [&](int, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    using Event = nlohmann::json::parse_event_t;
    if (event == Event::object_start) keys.emplace_back();
    if (event == Event::object_end && !keys.empty()) keys.pop_back();
    if (event == Event::key && !keys.empty() && !keys.back().insert(parsed.get<std::string>()).second &&
        duplicate.empty()) {
      duplicate = parsed.get<std::string>();
    }
    return true;
  };
  try {
    nlohmann::json value = nlohmann::json::parse(text.begin(), text.end(), check);
    if (!duplicate.empty()) {
      *error = "duplicate key '" + duplicate + "'";
      return std::nullopt;
    }
    return value;
  } catch (const nlohmann::json::exception& e) {
    *error = "not valid JSON";
    return std::nullopt;
  }
}

bool CheckPlanName(std::string_view name, ReplySink& reply) {
  if (!core::IsValidPlanName(name)) {
    reply.SendError(Error(ErrorCode::kInvalidName,
                          "invalid plan '" + std::string(name) + "': use 1-64 characters of A-Z a-z 0-9 _ - . :"));
    return false;
  }
  return true;
}

// PLAN.SET <plan> <json> [BY actor]
void PlanSet(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  std::string_view actor;
  if (!counter::TakeActor(ctx, &args, 3, &actor, reply)) return;
  if (args.size() > 3) return reply.SendError(errors::UnexpectedArgument(args[3], "PLAN.SET", "plan json [BY actor]"));
  if (!CheckPlanName(args[1], reply)) return;
  std::string error;
  std::optional<nlohmann::json> body = ParseStrictJson(args[2], &error);
  core::Plan plan;
  if (!body || !PlanFromJson(std::string(args[1]), *body, &plan, &error)) {
    return reply.SendError(Error(ErrorCode::kInvalidPlan, "invalid plan '" + std::string(args[1]) + "': " + error));
  }
  auto result = ctx.engine.quotas().SetPlan(std::move(plan), {actor, "PLAN.SET"});
  if (!result.ok()) return SendOpError(reply, result);
  reply.SendOk();
}

// PLAN.GET <plan> -> the plan's JSON, or nil
void PlanGet(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  if (!CheckPlanName(args[1], reply)) return;
  auto plan = ctx.engine.quotas().GetPlan(args[1]);
  if (!plan) return reply.SendNull();
  reply.SendBulk(PlanToJson(*plan).dump());
}

// PLAN.LIST -> [name, ...]
void PlanList(CommandContext& ctx, CommandArgs, ReplySink& reply) {
  auto plans = ctx.engine.quotas().ListPlans();
  reply.SendArray(plans.size());
  for (const auto& plan : plans) reply.SendBulk(plan->name);
}

// PLAN.DEL <plan> [BY actor] -> 1 deleted, 0 no such plan
void PlanDel(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  std::string_view actor;
  if (!counter::TakeActor(ctx, &args, 2, &actor, reply)) return;
  if (args.size() > 2) return reply.SendError(errors::UnexpectedArgument(args[2], "PLAN.DEL", "plan [BY actor]"));
  if (!CheckPlanName(args[1], reply)) return;
  auto result = ctx.engine.quotas().DeletePlan(args[1], {actor, "PLAN.DEL"});
  if (!result.ok()) return SendOpError(reply, result);
  reply.SendInteger(result.value ? 1 : 0);
}

// PLAN.ASSIGN <owner> <plan> [ANCHOR yyyy-mm-dd] [BY actor]
void PlanAssign(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  std::string_view actor;
  if (!counter::TakeActor(ctx, &args, 3, &actor, reply)) return;
  if (!CheckName("owner", args[1], reply) || !CheckPlanName(args[2], reply)) return;
  Options options;
  if (!ParseOptions(args, 3, "PLAN.ASSIGN", kAssignSyntax, {"ANCHOR"}, {}, &options, reply)) return;
  std::optional<core::CivilDate> anchor;
  if (auto text = options.Get("ANCHOR")) {
    anchor = core::ParseCivilDate(*text);
    if (!anchor) {
      return reply.SendError(Error(ErrorCode::kInvalidArgument,
                                   "invalid ANCHOR '" + std::string(*text) + "': expected a date yyyy-mm-dd"));
    }
  }
  auto result = ctx.engine.quotas().Assign(args[1], args[2], anchor, {actor, "PLAN.ASSIGN"});
  if (!result.ok()) return SendOpError(reply, result);
  reply.SendOk();
}

// PLAN.OF <owner> -> plan name, or nil
void PlanOf(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  if (!CheckName("owner", args[1], reply)) return;
  auto result = ctx.engine.quotas().PlanOf(args[1]);
  if (!result.ok()) return SendOpError(reply, result);
  if (result.value.plan.empty()) return reply.SendNull();
  reply.SendBulk(result.value.plan);
}

// ---- quotas -------------------------------------------------------------------

// owner feature amount, checked.
bool ParseQuotaHead(CommandContext& ctx, CommandArgs args, core::QuotaRequest* request, ReplySink& reply) {
  if (!CheckName("owner", args[1], reply) || !CheckFeature(args[2], reply)) return false;
  request->owner = args[1];
  request->feature = args[2];
  return ParseAmount(ctx, "amount", args[3], &request->amount, reply);
}

// QUOTA.CHECK <owner> <feature> [amount]
void QuotaCheck(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  if (args.size() > 4) {
    return reply.SendError(errors::UnexpectedArgument(args[4], "QUOTA.CHECK", "owner feature [amount]"));
  }
  core::QuotaRequest request;
  if (!CheckName("owner", args[1], reply) || !CheckFeature(args[2], reply)) return;
  request.owner = args[1];
  request.feature = args[2];
  request.amount = 1;
  if (args.size() == 4 && !ParseAmount(ctx, "amount", args[3], &request.amount, reply)) return;
  auto result = ctx.engine.quotas().Check(request);
  if (!result.ok()) return SendOpError(reply, result);
  SendDecision(result.value, false, false, reply);
}

// QUOTA.CONSUME <owner> <feature> <amount> [ID event-id] [AT unix-ms]
void QuotaConsume(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  core::QuotaRequest request;
  if (!ParseQuotaHead(ctx, args, &request, reply)) return;
  Options options;
  if (!ParseOptions(args, 4, "QUOTA.CONSUME", kConsumeSyntax, {"ID", "AT"}, {}, &options, reply)) return;
  if (auto id = options.Get("ID")) {
    if (!CheckId("ID", *id, reply)) return;
    request.id = *id;
  }
  if (auto at = options.Get("AT")) {
    int64_t at_ms = 0;
    if (!ParseInteger("AT", *at, &at_ms, reply)) return;
    if (!counter::CheckEventTime(ctx, "AT", at_ms, ctx.engine.clock().NowMs(), reply)) return;
    request.at_ms = at_ms;
  }
  auto result = ctx.engine.quotas().Consume(request);
  if (!result.ok()) return SendOpError(reply, result);
  ctx.client.last_write_duplicate = result.value.duplicate;
  SendDecision(result.value, false, false, reply);
}

// QUOTA.RELEASE <owner> <feature> <amount> [ID event-id]
void QuotaRelease(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  core::QuotaRequest request;
  if (!ParseQuotaHead(ctx, args, &request, reply)) return;
  Options options;
  if (!ParseOptions(args, 4, "QUOTA.RELEASE", kReleaseSyntax, {"ID"}, {}, &options, reply)) return;
  if (auto id = options.Get("ID")) {
    if (!CheckId("ID", *id, reply)) return;
    request.id = *id;
  }
  auto result = ctx.engine.quotas().Release(request);
  if (!result.ok()) return SendOpError(reply, result);
  SendDecision(result.value, true, false, reply);
}

// QUOTA.USAGE <owner> [feature] -> [usage, ...]
void QuotaUsage(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  if (args.size() > 3) return reply.SendError(errors::UnexpectedArgument(args[3], "QUOTA.USAGE", "owner [feature]"));
  if (!CheckName("owner", args[1], reply)) return;
  std::string_view feature;
  if (args.size() == 3) {
    if (!CheckFeature(args[2], reply)) return;
    feature = args[2];
  }
  auto result = ctx.engine.quotas().Usage(args[1], feature);
  if (!result.ok()) return SendOpError(reply, result);
  reply.SendArray(result.value.size());
  for (const core::FeatureUsage& usage : result.value) {
    reply.SendMap(kUsagePairs);
    SendUsagePairs(usage, reply);
  }
}

// QUOTA.RESERVE <owner> <feature> <amount> [TTL ms] [ID reservation-id]
void QuotaReserve(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  core::QuotaRequest request;
  if (!ParseQuotaHead(ctx, args, &request, reply)) return;
  Options options;
  if (!ParseOptions(args, 4, "QUOTA.RESERVE", kReserveSyntax, {"TTL", "ID"}, {}, &options, reply)) return;
  if (auto id = options.Get("ID")) {
    if (!CheckId("ID", *id, reply)) return;
    request.id = *id;
  }
  if (auto ttl = options.Get("TTL")) {
    if (!ParseInteger("TTL", *ttl, &request.ttl_ms, reply)) return;
    const int64_t max = ctx.engine.quotas_options().max_hold_ttl_ms;
    if (request.ttl_ms < 1 || request.ttl_ms > max) return reply.SendError(errors::OutOfRange("TTL", 1, max));
  }
  auto result = ctx.engine.quotas().Reserve(request);
  if (!result.ok()) return SendOpError(reply, result);
  SendDecision(result.value, false, true, reply);
}

void SendCommit(const core::CommitDecision& d, ReplySink& reply) {
  reply.SendMap(kUsagePairs + 6);
  reply.SendBulk("applied");
  reply.SendInteger(d.outcome.applied ? 1 : 0);
  reply.SendBulk("state");
  reply.SendBulk(d.outcome.state ? core::HoldStateName(*d.outcome.state) : std::string_view("unknown"));
  reply.SendBulk("consumed");
  reply.SendInteger(d.outcome.consumed);
  reply.SendBulk("released");
  reply.SendInteger(d.outcome.released);
  reply.SendBulk("shortfall");
  reply.SendInteger(d.outcome.shortfall);
  reply.SendBulk("reservation_feature");
  reply.SendBulk(d.feature);
  SendUsagePairs(d.usage, reply);
}

bool CheckReservation(CommandArgs args, ReplySink& reply) {
  return CheckName("owner", args[1], reply) && CheckId("reservation", args[2], reply);
}

// QUOTA.COMMIT <owner> <reservation> <actual>
void QuotaCommit(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  if (!CheckReservation(args, reply)) return;
  int64_t actual = 0;
  if (!ParseInteger("actual", args[3], &actual, reply)) return;
  const int64_t max = ctx.engine.quotas_options().max_amount;
  if (actual < 0 || actual > max) return reply.SendError(errors::OutOfRange("actual", 0, max));
  auto result = ctx.engine.quotas().Commit(args[1], args[2], actual);
  if (!result.ok()) return SendOpError(reply, result);
  SendCommit(result.value, reply);
}

// QUOTA.CANCEL <owner> <reservation>
void QuotaCancel(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  if (!CheckReservation(args, reply)) return;
  auto result = ctx.engine.quotas().Cancel(args[1], args[2]);
  if (!result.ok()) return SendOpError(reply, result);
  SendCommit(result.value, reply);
}

// ---- credits ------------------------------------------------------------------

// CREDIT.GRANT <owner> <feature> <amount> [EXPIRES unix-ms | IN duration] [PRIORITY p] [REASON text] [BY actor]
// [ID grant-id] -> grant id
void CreditGrant(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  core::GrantRequest request;
  if (!CheckName("owner", args[1], reply) || !CheckFeature(args[2], reply)) return;
  request.owner = args[1];
  request.feature = args[2];
  if (!ParseAmount(ctx, "amount", args[3], &request.amount, reply)) return;
  Options options;
  if (!ParseOptions(args, 4, "CREDIT.GRANT", kGrantSyntax, {"EXPIRES", "IN", "PRIORITY", "REASON", "BY", "ID"}, {},
                    &options, reply)) {
    return;
  }
  const int64_t now = ctx.engine.clock().NowMs();
  if (options.Get("EXPIRES") && options.Get("IN")) {
    return reply.SendError(Error(ErrorCode::kSyntax, "give EXPIRES or IN, not both"));
  }
  if (auto expires = options.Get("EXPIRES")) {
    int64_t at = 0;
    if (!ParseInteger("EXPIRES", *expires, &at, reply)) return;
    if (at <= now) {
      return reply.SendError(Error(ErrorCode::kInvalidTime, "EXPIRES " + std::string(*expires) +
                                                                " is not in the future (unix milliseconds; now is " +
                                                                std::to_string(now) + ")"));
    }
    request.expires_ms = at;
  }
  if (auto in = options.Get("IN")) {
    std::string error;
    request.lifetime = core::ParseDuration(*in, &error);
    if (!request.lifetime) return reply.SendError(Error(ErrorCode::kInvalidArgument, "invalid IN: " + error));
  }
  if (auto priority = options.Get("PRIORITY")) {
    if (!ParseInteger("PRIORITY", *priority, &request.priority, reply)) return;
    if (request.priority < -1000000 || request.priority > 1000000) {
      return reply.SendError(errors::OutOfRange("PRIORITY", -1000000, 1000000));
    }
  }
  if (auto reason = options.Get("REASON")) {
    if (!core::ValidActor(*reason)) {
      return reply.SendError(Error(ErrorCode::kInvalidArgument,
                                   "invalid REASON: use 1-128 printable ASCII characters (spaces allowed inside)"));
    }
    request.reason = *reason;
  }
  std::string_view actor = ctx.client.name.empty() ? std::string_view(ctx.client.address) : ctx.client.name;
  if (auto by = options.Get("BY")) {
    if (!core::ValidActor(*by)) return reply.SendError(errors::InvalidActor("BY", *by));
    actor = *by;
  }
  if (!core::ValidActor(actor)) actor = "unknown";
  request.actor = actor;
  if (auto id = options.Get("ID")) {
    if (!CheckId("ID", *id, reply)) return;
    request.id = *id;
  }
  auto result = ctx.engine.quotas().GrantCredit(request);
  if (!result.ok()) return SendOpError(reply, result);
  reply.SendBulk(result.value.grant);
}

void SendGrant(const core::GrantView& view, ReplySink& reply) {
  const core::Grant& g = view.grant;
  reply.SendMap(14);
  reply.SendBulk("grant");
  reply.SendBulk(g.id);
  reply.SendBulk("feature");
  reply.SendBulk(view.feature);
  reply.SendBulk("amount");
  reply.SendInteger(g.amount);
  reply.SendBulk("left");
  reply.SendInteger(g.left);
  reply.SendBulk("drawn");
  reply.SendInteger(g.drawn);
  reply.SendBulk("released");
  reply.SendInteger(g.released);
  reply.SendBulk("expired");
  reply.SendInteger(g.expired);
  reply.SendBulk("revoked");
  reply.SendInteger(g.revoked);
  reply.SendBulk("priority");
  reply.SendInteger(g.priority);
  reply.SendBulk("expires_at");
  SendLimit(reply, g.expires_ms);
  reply.SendBulk("granted_at");
  reply.SendInteger(g.granted_ms);
  reply.SendBulk("reason");
  reply.SendBulk(g.reason);
  reply.SendBulk("by");
  reply.SendBulk(g.actor);
  reply.SendBulk("state");
  reply.SendBulk(g.ending == core::Grant::Ending::kLive      ? "live"
                 : g.ending == core::Grant::Ending::kExpired ? "expired"
                                                             : "revoked");
}

// CREDIT.LIST <owner> [feature] [ALL]
void CreditList(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  if (!CheckName("owner", args[1], reply)) return;
  bool all = false;
  std::string_view feature;
  for (size_t i = 2; i < args.size(); ++i) {
    if (EqualsIgnoreCase(args[i], "ALL") && !all) {
      all = true;
    } else if (i == 2 && core::IsValidPlanName(args[i])) {
      feature = args[i];
    } else {
      return reply.SendError(errors::UnexpectedArgument(args[i], "CREDIT.LIST", "owner [feature] [ALL]"));
    }
  }
  auto result = ctx.engine.quotas().ListCredits(args[1], feature, all);
  if (!result.ok()) return SendOpError(reply, result);
  reply.SendArray(result.value.size());
  for (const core::GrantView& view : result.value) SendGrant(view, reply);
}

// CREDIT.REVOKE <owner> <grant> [BY actor] -> units written off
void CreditRevoke(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  std::string_view actor;
  if (!counter::TakeActor(ctx, &args, 3, &actor, reply)) return;
  if (args.size() > 3) {
    return reply.SendError(errors::UnexpectedArgument(args[3], "CREDIT.REVOKE", "owner grant-id [BY actor]"));
  }
  if (!CheckName("owner", args[1], reply) || !CheckId("grant-id", args[2], reply)) return;
  auto result = ctx.engine.quotas().Revoke(args[1], args[2], {actor, "CREDIT.REVOKE"});
  if (!result.ok()) return SendOpError(reply, result);
  reply.SendInteger(result.value);
}

// CREDIT.LEDGER <owner> [grant-id] -> [{seq, time, kind, feature, grant, amount, by}, ...]
void CreditLedger(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  if (args.size() > 3) {
    return reply.SendError(errors::UnexpectedArgument(args[3], "CREDIT.LEDGER", "owner [grant-id]"));
  }
  if (!CheckName("owner", args[1], reply)) return;
  std::string_view grant;
  if (args.size() == 3) {
    if (!CheckId("grant-id", args[2], reply)) return;
    grant = args[2];
  }
  auto result = ctx.engine.quotas().Ledger(args[1], grant);
  if (!result.ok()) return SendOpError(reply, result);
  reply.SendArray(result.value.size());
  for (const core::LedgerRow& row : result.value) {
    reply.SendMap(7);
    reply.SendBulk("seq");
    reply.SendInteger(static_cast<int64_t>(row.index));
    reply.SendBulk("time");
    reply.SendInteger(row.time_ms);
    reply.SendBulk("kind");
    reply.SendBulk(row.kind);
    reply.SendBulk("feature");
    reply.SendBulk(row.feature);
    reply.SendBulk("grant");
    reply.SendBulk(row.grant);
    reply.SendBulk("amount");
    reply.SendInteger(row.amount);
    reply.SendBulk("by");
    reply.SendBulk(row.actor);
  }
}

constexpr uint32_t kWrite = flags::kWrite | flags::kFast;
constexpr uint32_t kRead = flags::kReadOnly | flags::kFast;

using enum protocol::ErrorCode;
constexpr ErrorCode kPlanSetErrors[] = {kInvalidName, kInvalidPlan, kInvalidActor, kSyntax};
constexpr ErrorCode kPlanNameErrors[] = {kInvalidName};
constexpr ErrorCode kPlanDelErrors[] = {kInvalidName, kPlanInUse, kInvalidActor, kSyntax};
constexpr ErrorCode kAssignErrors[] = {kInvalidName,  kUnknownPlan, kInvalidArgument,
                                       kInvalidActor, kSyntax,      kStorageReadFailed};
constexpr ErrorCode kQuotaErrors[] = {kInvalidName,    kNotInteger, kOutOfRange,       kNoPlan,
                                      kUnknownFeature, kSyntax,     kStorageReadFailed};
constexpr ErrorCode kConsumeErrors[] = {kInvalidName, kNotInteger, kOutOfRange, kNoPlan, kUnknownFeature,   kInvalidId,
                                        kInvalidTime, kIdConflict, kOverflow,   kSyntax, kStorageReadFailed};
constexpr ErrorCode kCommitErrors[] = {kInvalidName, kInvalidId,          kNotInteger,
                                       kOutOfRange,  kUnknownReservation, kStorageReadFailed};
constexpr ErrorCode kGrantErrors[] = {kInvalidName,  kNotInteger, kOutOfRange, kInvalidTime, kInvalidArgument,
                                      kInvalidActor, kInvalidId,  kIdConflict, kSyntax,      kStorageReadFailed};
constexpr ErrorCode kCreditReadErrors[] = {kInvalidName, kInvalidId, kSyntax, kStorageReadFailed};
constexpr ErrorCode kRevokeErrors[] = {kInvalidName,  kInvalidId, kUnknownGrant,
                                       kInvalidActor, kSyntax,    kStorageReadFailed};

const protocol::CommandSpec kSpecs[] = {
    {"PLAN.SET", -3, kWrite, "quota", "plan json [BY actor]",
     "Creates or replaces a plan: {\"features\": {name: {limit, period, overage, alerts}}}. Owners on it use the new "
     "definition from their next request and keep their usage. Audited.",
     PlanSet, kPlanSetErrors},
    {"PLAN.GET", 2, kRead, "quota", "plan", "The plan's JSON, or nil.", PlanGet, kPlanNameErrors},
    {"PLAN.LIST", 1, kRead, "quota", "", "The names of every plan.", PlanList},
    {"PLAN.DEL", -2, kWrite, "quota", "plan [BY actor]",
     "Deletes a plan: 1, or 0 if there was none. Refused while owners are on it. Audited.", PlanDel, kPlanDelErrors},
    {"PLAN.ASSIGN", -3, kWrite, "quota", "owner plan [ANCHOR yyyy-mm-dd] [BY actor]",
     "Puts the owner on a plan, keeping the usage of the current periods. ANCHOR: monthly, quarterly and yearly "
     "limits reset on that day of the month (29-31 clamp to the month's end). Audited.",
     PlanAssign, kAssignErrors},
    {"PLAN.OF", 2, kRead, "quota", "owner", "The owner's plan, or nil.", PlanOf, kPlanNameErrors},
    {"QUOTA.CHECK", -3, kRead, "quota", "owner feature [amount]",
     "A dry run of a consume of amount (default 1): allowed, the figures, and the sources it would draw from.",
     QuotaCheck, kQuotaErrors},
    {"QUOTA.CONSUME", -4, kWrite, "quota", kConsumeSyntax,
     "Consumes amount if it fits the limit and credits (all or nothing): allowed 1 with the sources drawn, or "
     "allowed 0 and nothing changed. ID: a retry counts once (duplicate 1).",
     QuotaConsume, kConsumeErrors},
    {"QUOTA.RELEASE", -4, kWrite, "quota", kReleaseSyntax,
     "Gives back up to amount of this period's usage to the sources it came from, newest draw first; never below 0.",
     QuotaRelease, kConsumeErrors},
    {"QUOTA.USAGE", -2, kRead, "quota", "owner [feature]",
     "For each feature of the owner's plan (and each it has credits for): used, limit, remaining, credits, held, "
     "overage, period, resets_at.",
     QuotaUsage, kQuotaErrors},
    {"QUOTA.RESERVE", -4, kWrite, "quota", kReserveSyntax,
     "Holds amount until committed, cancelled or TTL ms pass (default 300000): the reply's reservation, or allowed "
     "0 if it does not fit.",
     QuotaReserve, kConsumeErrors},
    {"QUOTA.COMMIT", 4, kWrite, "quota", "owner reservation actual",
     "Consumes actual from a hold: below the hold frees the rest; above it draws the extra if it fits (else by the "
     "overage policy). A second commit, or one after cancel or expiry, changes nothing (applied 0).",
     QuotaCommit, kCommitErrors},
    {"QUOTA.CANCEL", 3, kWrite, "quota", "owner reservation",
     "Frees a hold; after a commit, cancel or expiry it changes nothing (applied 0).", QuotaCancel, kCommitErrors},
    {"CREDIT.GRANT", -4, kWrite, "quota", kGrantSyntax,
     "Grants credits for a feature: the grant id. Drawn after the lower PRIORITY, the soonest expiry, the oldest. "
     "IN: 30d, 1mo, 1y, ... Audited.",
     CreditGrant, kGrantErrors},
    {"CREDIT.LIST", -2, kRead, "quota", "owner [feature] [ALL]",
     "The owner's live grants (ALL: also expired and revoked ones) with amount, left, drawn, released, expired, "
     "revoked.",
     CreditList, kCreditReadErrors},
    {"CREDIT.REVOKE", -3, kWrite, "quota", "owner grant-id [BY actor]",
     "Writes off the unused rest of a grant: the units revoked (0 if it had ended). Audited.", CreditRevoke,
     kRevokeErrors},
    {"CREDIT.LEDGER", -2, kRead, "quota", "owner [grant-id]",
     "Every grant, draw, release, expiry and revoke of the owner's credits, oldest first.", CreditLedger,
     kCreditReadErrors},
};

}  // namespace

std::span<const protocol::CommandSpec> QuotaCommands() { return kSpecs; }

}  // namespace tally::commands
