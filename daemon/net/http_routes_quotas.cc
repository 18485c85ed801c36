// The quota routes (docs/http.md "Plans, quotas and credits"): plans over
// PLAN.SET/GET/LIST/DEL, an owner's plan, usage, consumes, releases,
// reservations, credits and ledger over PLAN.ASSIGN/OF, QUOTA.* and
// CREDIT.*, and the alert log over EVENTS.READ, also as a live stream of
// server-sent events. Each handler turns its inputs into the command's argv
// and the command's reply into the route's JSON; no figure is computed here.

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "core/feeds.h"
#include "net/http_route.h"
#include "protocol/resp_parser.h"  // ParseInt64

namespace tally::net {
namespace {

namespace errors = protocol::errors;
using enum FieldSource;
using enum FieldType;

// ---- inputs many routes share ------------------------------------------------------

constexpr FieldSpec kOwner{"owner", kPath, kString, true, "owner", "the owner (percent-encoded), e.g. team:7"};
constexpr FieldSpec kPlanName{"plan", kPath, kString, true, "plan", "the plan's name, e.g. pro"};
constexpr FieldSpec kFeature{"feature", kPath, kString, true, "feature", "the feature, e.g. api_calls"};

// Times in replies: unix milliseconds as `<name>_ms` and ISO 8601 UTC as
// `<name>` (null stays null), as the counter routes give a period's start.
void SplitTime(json& object, const char* name) {
  auto it = object.find(name);
  if (it == object.end()) return;
  json ms = *it;
  *it = ms.is_number_integer() ? json(IsoUtc(ms.get<int64_t>())) : json(nullptr);
  object[std::string(name) + "_ms"] = std::move(ms);
}

// A usage map of the commands (QUOTA.USAGE, and inside decisions) for HTTP:
// allowed and duplicate as booleans, times split.
json QuotaJson(json reply) {
  for (const char* flag : {"allowed", "duplicate", "applied"}) {
    if (reply.contains(flag)) reply[flag] = reply[flag].get<int64_t>() != 0;
  }
  for (const char* time : {"resets_at", "expires_at", "granted_at", "time"}) SplitTime(reply, time);
  return reply;
}

// ---- plans ---------------------------------------------------------------------------

// A plan as stored, from PLAN.GET's JSON text.
Outcome GetPlan(RouteCall& call, const std::string& plan) {
  Outcome outcome = call.Run({"PLAN.GET", plan});
  if (outcome.error || outcome.value.is_null()) return outcome;
  outcome.value = json::parse(outcome.value.get<std::string>());
  return outcome;
}

HttpResponse ListPlans(RouteCall& call) {
  Outcome names = call.Run({"PLAN.LIST"});
  if (names.error) return *names.error;
  json plans = json::array();
  for (const json& name : names.value) {
    Outcome plan = GetPlan(call, name.get<std::string>());
    if (plan.error) return *plan.error;
    if (!plan.value.is_null()) plans.push_back(std::move(plan.value));  // deleted in between
  }
  return Json(200, {{"plans", std::move(plans)}});
}

HttpResponse UnknownPlan(RouteCall& call) {
  return call.Fail(protocol::Error(protocol::ErrorCode::kUnknownPlan,
                                   "no plan '" + call.params[0] + "' (GET /v1/plans lists the plans)"));
}

HttpResponse ReadPlan(RouteCall& call) {
  Outcome plan = GetPlan(call, call.params[0]);
  if (plan.error) return *plan.error;
  if (plan.value.is_null()) return UnknownPlan(call);
  return Json(200, plan.value);
}

HttpResponse PutPlan(RouteCall& call) {
  std::vector<std::string> argv{"PLAN.SET", call.params[0], Dump({{"features", call.body["features"]}})};
  call.AppendActor(argv);
  Outcome set = call.Run(argv);
  if (set.error) return *set.error;
  return ReadPlan(call);
}

HttpResponse DeletePlan(RouteCall& call) {
  std::vector<std::string> argv{"PLAN.DEL", call.params[0]};
  call.AppendActor(argv);
  Outcome deleted = call.Run(argv);
  if (deleted.error) return *deleted.error;
  if (deleted.value.get<int64_t>() == 0) return UnknownPlan(call);
  return Json(200, {{"plan", call.params[0]}, {"deleted", true}});
}

constexpr FieldSpec kPlanOnly[] = {kPlanName};
constexpr FieldSpec kPlanChangeFields[] = {kPlanName, kActorHeader};
constexpr FieldSpec kPutPlanFields[] = {
    kPlanName,
    {"features", kBody, kObject, true, "json",
     "{\"<feature>\": {\"limit\": n|null, \"period\": \"month\", \"overage\": \"reject\"|\"allow\", \"alerts\": [80, "
     "95, "
     "100]}, ...}"},
    kActorHeader,
};

// ---- an owner's plan and usage -----------------------------------------------------------

HttpResponse OwnerPlan(RouteCall& call) {
  Outcome plan = call.Run({"PLAN.OF", call.params[0]});
  if (plan.error) return *plan.error;
  return Json(200, {{"owner", call.params[0]}, {"plan", plan.value}});
}

HttpResponse AssignPlan(RouteCall& call) {
  std::vector<std::string> argv{"PLAN.ASSIGN", call.params[0], *call.BodyArg("plan")};
  if (auto anchor = call.BodyArg("anchor")) argv.insert(argv.end(), {"ANCHOR", *anchor});
  call.AppendActor(argv);
  Outcome assigned = call.Run(argv);
  if (assigned.error) return *assigned.error;
  return OwnerPlan(call);
}

constexpr FieldSpec kOwnerOnly[] = {kOwner};
constexpr FieldSpec kAssignFields[] = {
    kOwner,
    {"plan", kBody, kString, true, "plan", "the plan to put the owner on (its usage this period is kept)"},
    {"anchor", kBody, kString, false, "ANCHOR",
     "yyyy-mm-dd: monthly, quarterly and yearly limits reset on this day of the month (29-31 clamp to the month's "
     "end)"},
    kActorHeader,
};

HttpResponse Usage(RouteCall& call) {
  std::vector<std::string> argv{"QUOTA.USAGE", call.params[0]};
  if (auto feature = call.Query("feature")) argv.push_back(*feature);
  Outcome usage = call.Run(argv);
  if (usage.error) return *usage.error;
  json features = json::array();
  for (json& one : usage.value) features.push_back(QuotaJson(std::move(one)));
  return Json(200, {{"owner", call.params[0]}, {"usage", std::move(features)}});
}

constexpr FieldSpec kUsageFields[] = {
    kOwner,
    {"feature", kQuery, kString, false, "feature", "one feature (default: every feature of the plan and credits)"},
};

// ---- consume, check, release, reserve ------------------------------------------------------

// A decision's reply: 200 with the figures; a refused consume or reserve is
// 429 quota_exceeded with the same figures and, when the limit resets at a
// known time, Retry-After in seconds.
HttpResponse DecisionReply(RouteCall& call, json decision, bool refusal_is_error) {
  json body = QuotaJson(std::move(decision));
  body["owner"] = call.params[0];
  if (!refusal_is_error || body["allowed"].get<bool>()) return Json(200, body);
  const std::string message = "quota exceeded for '" + call.params[1] +
                              "': " + std::to_string(body["shortfall"].get<int64_t>()) +
                              " more than the limit and credits allow; nothing changed";
  const protocol::ErrorCode code = protocol::ErrorCode::kQuotaExceeded;
  body["error"] = {{"code", std::string(protocol::ErrorName(code))}, {"message", message}};
  HttpResponse response = Json(protocol::HttpStatus(code), body);
  if (body["resets_at_ms"].is_number_integer()) {
    const int64_t wait_ms = body["resets_at_ms"].get<int64_t>() - ApiEngine(call.api).clock().NowMs();
    response.headers.emplace_back("Retry-After", std::to_string(std::max<int64_t>(1, (wait_ms + 999) / 1000)));
  }
  return response;
}

HttpResponse Check(RouteCall& call) {
  Outcome decision = call.Run({"QUOTA.CHECK", call.params[0], call.params[1], call.Query("amount").value_or("1")});
  if (decision.error) return *decision.error;
  return DecisionReply(call, std::move(decision.value), false);
}

// POST …/consume, …/release, …/reserve: amount and the options the route declares.
HttpResponse QuotaWrite(RouteCall& call, const char* command, bool refusal_is_error) {
  std::vector<std::string> argv{command, call.params[0], call.params[1], *call.BodyArg("amount")};
  for (const auto& [field, word] : {std::pair{"id", "ID"}, {"at", "AT"}, {"ttl_ms", "TTL"}}) {
    if (auto value = call.BodyArg(field)) argv.insert(argv.end(), {word, *value});
  }
  Outcome decision = call.Run(argv);
  if (decision.error) return *decision.error;
  return DecisionReply(call, std::move(decision.value), refusal_is_error);
}

HttpResponse Consume(RouteCall& call) { return QuotaWrite(call, "QUOTA.CONSUME", true); }
HttpResponse Release(RouteCall& call) { return QuotaWrite(call, "QUOTA.RELEASE", false); }
HttpResponse Reserve(RouteCall& call) { return QuotaWrite(call, "QUOTA.RESERVE", true); }

constexpr FieldSpec kCheckFields[] = {
    kOwner,
    kFeature,
    {"amount", kQuery, kInteger, false, "amount", "the amount a consume would take (default 1)"},
};
constexpr FieldSpec kConsumeFields[] = {
    kOwner,
    kFeature,
    {"amount", kBody, kInteger, true, "amount", "how much to consume, 1 up to the configured maximum"},
    {"id", kBody, kString, false, "ID",
     "an event id: a retry within the dedupe window counts once (200, duplicate true); other arguments: 409 "
     "id_conflict"},
    {"at", kBody, kInteger, false, "AT", "the event time in unix milliseconds (default now)"},
};
constexpr FieldSpec kReleaseFields[] = {
    kOwner,
    kFeature,
    {"amount", kBody, kInteger, true, "amount", "how much of this period's usage to give back (never below 0)"},
    {"id", kBody, kString, false, "ID", "an event id: a retried release counts once"},
};
constexpr FieldSpec kReserveFields[] = {
    kOwner,
    kFeature,
    {"amount", kBody, kInteger, true, "amount", "how much to hold"},
    {"ttl_ms", kBody, kInteger, false, "TTL", "the hold ends by itself after this many milliseconds (default 300000)"},
    {"id", kBody, kString, false, "ID", "the reservation's id (default: generated); a retry holds once"},
};

HttpResponse EndReservation(RouteCall& call, std::vector<std::string> argv) {
  Outcome outcome = call.Run(argv);
  if (outcome.error) return *outcome.error;
  json body = QuotaJson(std::move(outcome.value));
  body["owner"] = call.params[0];
  body["reservation"] = call.params[1];
  return Json(200, body);
}

HttpResponse Commit(RouteCall& call) {
  return EndReservation(call, {"QUOTA.COMMIT", call.params[0], call.params[1], *call.BodyArg("actual")});
}
HttpResponse Cancel(RouteCall& call) { return EndReservation(call, {"QUOTA.CANCEL", call.params[0], call.params[1]}); }

constexpr FieldSpec kReservation{"reservation", kPath, kString, true, "reservation", "the reservation's id"};
constexpr FieldSpec kCommitFields[] = {
    kOwner,
    kReservation,
    {"actual", kBody, kInteger, true, "actual",
     "what was really used: below the hold frees the rest, above it draws the extra if it fits"},
};
constexpr FieldSpec kCancelFields[] = {kOwner, kReservation};

// ---- credits and the ledger --------------------------------------------------------------

json Grants(json list) {
  json grants = json::array();
  for (json& grant : list) grants.push_back(QuotaJson(std::move(grant)));
  return grants;
}

HttpResponse ListCredits(RouteCall& call) {
  std::vector<std::string> argv{"CREDIT.LIST", call.params[0]};
  if (auto feature = call.Query("feature")) argv.push_back(*feature);
  if (call.Query("all") == "true") argv.push_back("ALL");
  Outcome list = call.Run(argv);
  if (list.error) return *list.error;
  return Json(200, {{"owner", call.params[0]}, {"credits", Grants(std::move(list.value))}});
}

constexpr FieldSpec kListCreditFields[] = {
    kOwner,
    {"feature", kQuery, kString, false, "feature", "one feature's grants (default: every feature)"},
    {"all", kQuery, kBoolean, false, "ALL", "true: also expired and revoked grants (default false)"},
};

HttpResponse Grant(RouteCall& call) {
  const std::string feature = *call.BodyArg("feature");
  std::vector<std::string> argv{"CREDIT.GRANT", call.params[0], feature, *call.BodyArg("amount")};
  for (const auto& [field, word] : {std::pair{"expires_at", "EXPIRES"},
                                    {"in", "IN"},
                                    {"priority", "PRIORITY"},
                                    {"reason", "REASON"},
                                    {"id", "ID"}}) {
    if (auto value = call.BodyArg(field)) argv.insert(argv.end(), {word, *value});
  }
  call.AppendActor(argv);
  Outcome granted = call.Run(argv);
  if (granted.error) return *granted.error;
  // The grant as CREDIT.LIST shows it (ALL: it may already have ended when it expires at once after a retry).
  const std::string id = granted.value.get<std::string>();
  // The grant is applied: a list that cannot be read leaves the reply at its id.
  Outcome list = call.Run({"CREDIT.LIST", call.params[0], feature, "ALL"});
  json body{{"grant", id}};
  for (json& grant : list.error ? json::array() : list.value) {
    if (grant["grant"] == id) body = QuotaJson(std::move(grant));
  }
  body["owner"] = call.params[0];
  return Json(201, body);
}

constexpr FieldSpec kGrantFields[] = {
    kOwner,
    {"feature", kBody, kString, true, "feature", "the feature the credits are for"},
    {"amount", kBody, kInteger, true, "amount", "how many units"},
    {"expires_at", kBody, kInteger, false, "EXPIRES",
     "when the unused rest is written off, unix milliseconds in the future (default: never)"},
    {"in", kBody, kString, false, "IN",
     "or a lifetime: 30d, 12h, 1mo, 1y (month arithmetic clamps to the month's end)"},
    {"priority", kBody, kInteger, false, "PRIORITY",
     "lower is drawn first (default 0; the plan allowance is 0), -1000000 to 1000000"},
    {"reason", kBody, kString, false, "REASON", "why, for the ledger (1-128 printable characters)"},
    {"id", kBody, kString, false, "ID", "the grant's id (default: generated); a retried grant is granted once"},
    kActorHeader,
};

HttpResponse Revoke(RouteCall& call) {
  std::vector<std::string> argv{"CREDIT.REVOKE", call.params[0], call.params[1]};
  call.AppendActor(argv);
  Outcome revoked = call.Run(argv);
  if (revoked.error) return *revoked.error;
  return Json(200, {{"owner", call.params[0]}, {"grant", call.params[1]}, {"revoked", revoked.value}});
}

constexpr FieldSpec kRevokeFields[] = {
    kOwner,
    {"grant", kPath, kString, true, "grant-id", "the grant's id"},
    kActorHeader,
};

HttpResponse Ledger(RouteCall& call) {
  std::vector<std::string> argv{"CREDIT.LEDGER", call.params[0]};
  if (auto grant = call.Query("grant")) argv.push_back(*grant);
  Outcome rows = call.Run(argv);
  if (rows.error) return *rows.error;
  return Json(200, {{"owner", call.params[0]}, {"ledger", Grants(std::move(rows.value))}});
}

constexpr FieldSpec kLedgerFields[] = {
    kOwner,
    {"grant", kQuery, kString, false, "grant-id", "one grant's rows (default: every grant)"},
};

// ---- alerts ------------------------------------------------------------------------------

// EVENTS.READ's [next, [[seq, json], ...]] as the alerts' JSON objects.
json AlertList(const json& reply) {
  json alerts = json::array();
  for (const json& record : reply[1]) {
    json alert = json::parse(record[1].get<std::string>(), nullptr, false);
    if (alert.is_discarded()) alert = {{"seq", record[0]}};
    if (alert.contains("time_ms")) alert["time"] = IsoUtc(alert["time_ms"].get<int64_t>());
    alerts.push_back(std::move(alert));
  }
  return alerts;
}

json AlertsPage(const json& reply) { return {{"alerts", AlertList(reply)}, {"next", reply[0]}}; }
HttpResponse Alerts(RouteCall& call) {
  return RecordPage(call, "EVENTS.READ", {{"owner", "OWNER"}, {"feature", "FEATURE"}, {"kind", "KIND"}}, AlertsPage);
}

constexpr FieldSpec kAlertFields[] = {
    {"since", kQuery, kInteger, false, "since-seq", "only alerts after this seq (default 0: from the start)"},
    {"limit", kQuery, kInteger, false, "COUNT", "alerts per page, 1-10000 (default 100)"},
    {"order", kQuery, kEnum, false, "", "asc (default: oldest first, from since) or desc (newest first)", "asc desc"},
    {"before", kQuery, kInteger, false, "BEFORE", "only alerts before this seq: desc's next for the older page"},
    {"owner", kQuery, kString, false, "OWNER", "only this owner's alerts (a trailing * matches a prefix)"},
    {"feature", kQuery, kString, false, "FEATURE", "only this feature's alerts (a trailing * matches a prefix)"},
    {"kind", kQuery, kString, false, "KIND", "only alerts of this kind: threshold, credit_depleted, hold_expired"},
    {"scan", kQuery, kInteger, false, "SCAN", "alerts looked at per call, 1-100000 (default 10000)"},
};

// GET /v1/alerts/stream: server-sent events. Each alert is one event whose
// id is its seq, so a client that reconnects with Last-Event-ID resumes
// after the last one it saw; without it the stream starts at `since`, or
// with the alerts raised from now on. A comment line every 15 s keeps
// proxies from closing an idle stream and finds a client that left.
constexpr uint32_t kStreamPollMs = 100;
constexpr auto kStreamKeepAlive = std::chrono::seconds(15);
constexpr int kStreamPage = 100;

struct AlertStream {
  Api* api;
  const RouteSpec* route;
  HttpRequest request;
  uint64_t next = 0;  // the seq after the last one sent
  std::chrono::steady_clock::time_point last_sent;
};

bool NextAlerts(AlertStream& stream, std::string& out) {
  if (ApiEngine(*stream.api).feeds().newest_alert() > stream.next) {
    RouteCall read{*stream.api, *stream.route, stream.request, {}, {}, json::object()};
    Outcome page = read.Run({"EVENTS.READ", std::to_string(stream.next), "COUNT", std::to_string(kStreamPage)});
    if (page.error) {
      // The status line is long sent: an error event, then the end; the
      // client reconnects with Last-Event-ID.
      out += "event: error\ndata: " + page.error->body + "\n\n";
      return false;
    }
    for (const json& alert : AlertList(page.value)) {
      out += "id: " + std::to_string(alert["seq"].get<uint64_t>()) +
             "\nevent: " + alert.value("kind", std::string("alert")) + "\ndata: " + Dump(alert) + "\n\n";
    }
    stream.next = page.value[0].get<uint64_t>();
  }
  const auto now = std::chrono::steady_clock::now();
  if (!out.empty()) {
    stream.last_sent = now;
  } else if (now - stream.last_sent >= kStreamKeepAlive) {
    out += ": keep-alive\n\n";
    stream.last_sent = now;
  }
  return true;
}

HttpResponse AlertStreamRoute(RouteCall& call) {
  auto stream = std::make_shared<AlertStream>(AlertStream{&call.api, &call.route, call.request});
  std::string_view last_id = call.request.Header("last-event-id");
  std::optional<std::string> since = last_id.empty() ? call.Query("since") : std::string(last_id);
  int64_t start = 0;
  if (since && (!protocol::ParseInt64(*since, &start) || start < 0)) {
    return call.Fail(errors::InvalidSince(last_id.empty() ? "since" : "Last-Event-ID"));
  }
  stream->next = since ? static_cast<uint64_t>(start) : ApiEngine(call.api).feeds().newest_alert();
  // A cursor beyond the newest alert is refused before the stream starts, as EVENTS.READ refuses it.
  Outcome first = call.Run({"EVENTS.READ", std::to_string(stream->next), "COUNT", "1"});
  if (first.error) return *first.error;
  HttpResponse response;
  response.content_type = "text/event-stream";
  response.headers.emplace_back("Cache-Control", "no-cache");
  response.stream_poll_ms = kStreamPollMs;
  // The first piece is sent at once so that the client sees the stream open.
  auto opened = std::make_shared<bool>(false);
  response.next_chunk = [stream, opened](std::string& out) {
    if (!*opened) {
      *opened = true;
      out += ": alerts from seq " + std::to_string(stream->next) + "\n\n";
      stream->last_sent = std::chrono::steady_clock::now();
      return true;
    }
    return NextAlerts(*stream, out);
  };
  return response;
}

constexpr FieldSpec kAlertStreamFields[] = {
    {"since", kQuery, kInteger, false, "since-seq",
     "start after this seq (default: only alerts raised from now on); Last-Event-ID wins when given"},
    {"Last-Event-ID", kHeader, kString, false, "since-seq",
     "the id of the last event received: the stream resumes after it"},
};

const RouteSpec kRoutes[] = {
    {"GET", "/v1/plans", "PLAN.LIST PLAN.GET", {}, "every plan with its features", ListPlans},
    {"GET", "/v1/plans/{plan}", "PLAN.GET", kPlanOnly, "one plan (404 unknown_plan)", ReadPlan},
    {"PUT", "/v1/plans/{plan}", "PLAN.SET PLAN.GET", kPutPlanFields,
     "creates or replaces a plan; owners on it keep their usage; audited", PutPlan},
    {"DELETE", "/v1/plans/{plan}", "PLAN.DEL", kPlanChangeFields,
     "deletes a plan (409 plan_in_use while owners are on it); audited", DeletePlan},
    {"GET", "/v1/owners/{owner}/plan", "PLAN.OF", kOwnerOnly, "the owner's plan, or null", OwnerPlan},
    {"PUT", "/v1/owners/{owner}/plan", "PLAN.ASSIGN PLAN.OF", kAssignFields,
     "puts the owner on a plan, with an optional billing anchor; audited", AssignPlan},
    {"GET", "/v1/owners/{owner}/usage", "QUOTA.USAGE", kUsageFields,
     "per feature: used, limit, remaining, credits, held, overage, period, resets_at", Usage},
    {"GET", "/v1/owners/{owner}/quotas/{feature}/check", "QUOTA.CHECK", kCheckFields,
     "a dry run of a consume: allowed, the figures and the sources it would draw from", Check},
    {"POST", "/v1/owners/{owner}/quotas/{feature}/consume", "QUOTA.CONSUME", kConsumeFields,
     "consumes if it fits (all or nothing); refused: 429 quota_exceeded with the figures and Retry-After", Consume},
    {"POST", "/v1/owners/{owner}/quotas/{feature}/release", "QUOTA.RELEASE", kReleaseFields,
     "gives back this period's usage to the sources it came from, newest draw first", Release},
    {"POST", "/v1/owners/{owner}/quotas/{feature}/reserve", "QUOTA.RESERVE", kReserveFields,
     "holds an amount until commit, cancel or its TTL; refused: 429 quota_exceeded", Reserve},
    {"POST", "/v1/owners/{owner}/reservations/{reservation}/commit", "QUOTA.COMMIT", kCommitFields,
     "consumes what was really used from a hold; a second commit changes nothing (applied false)", Commit},
    {"POST", "/v1/owners/{owner}/reservations/{reservation}/cancel", "QUOTA.CANCEL", kCancelFields,
     "frees a hold; after a commit, cancel or expiry it changes nothing (applied false)", Cancel},
    {"GET", "/v1/owners/{owner}/credits", "CREDIT.LIST", kListCreditFields,
     "the owner's grants with amount, left, drawn, released, expired and revoked", ListCredits},
    {"POST", "/v1/owners/{owner}/credits", "CREDIT.GRANT CREDIT.LIST", kGrantFields,
     "grants credits for a feature (201 with the grant); audited", Grant},
    {"DELETE", "/v1/owners/{owner}/credits/{grant}", "CREDIT.REVOKE", kRevokeFields,
     "revokes the unused rest of a grant; audited", Revoke},
    {"GET", "/v1/owners/{owner}/ledger", "CREDIT.LEDGER", kLedgerFields,
     "every grant, draw, release, expiry and revoke of the owner's credits, oldest first", Ledger},
    {"GET", "/v1/alerts", "EVENTS.READ", kAlertFields,
     "alerts (threshold, credit_depleted, hold_expired), oldest or newest first, filtered: {alerts, next}", Alerts},
    {"GET", "/v1/alerts/stream", "EVENTS.READ", kAlertStreamFields,
     "alerts as server-sent events as they are raised; resumes from Last-Event-ID", AlertStreamRoute},
};

}  // namespace

std::span<const RouteSpec> QuotaRoutes() { return kRoutes; }

}  // namespace tally::net
