// The metering routes (docs/http.md "Metering"): prices over PRICE.*, one
// event over METER.RECORD, and batches of events, each event run through
// METER.RECORD on its own so that a bad one never stops the good ones and is
// never half-applied. The batch's writes share one wait for the log (the
// transport waits once per request), so they are group-committed together.
// Money is a decimal string both ways, never a JSON number (core/money.h).

#include <algorithm>
#include <string>
#include <vector>

#include "net/http_route.h"

namespace tally::net {
namespace {

using enum FieldSource;
using enum FieldType;
using protocol::Error;
using protocol::ErrorCode;

constexpr FieldSpec kPriceName{"name", kPath,  kString,
                               true,   "name", "the priced counter, <event-type>.<measure>, e.g. chat.tokens"};

std::string Currency(RouteCall& call) { return ApiEngine(call.api).metering().currency(); }

// ---- prices ------------------------------------------------------------------------------

HttpResponse UnknownPrice(RouteCall& call) {
  return call.Fail(Error(ErrorCode::kUnknownPrice, "no price '" + call.params[0] + "' (GET /v1/prices lists them)"));
}

HttpResponse ListPrices(RouteCall& call) {
  Outcome prices = call.Run({"PRICE.LIST"});
  if (prices.error) return *prices.error;
  return Json(200, {{"currency", Currency(call)}, {"prices", prices.value}});
}

HttpResponse ReadPrice(RouteCall& call) {
  Outcome price = call.Run({"PRICE.GET", call.params[0]});
  if (price.error) return *price.error;
  if (price.value.is_null()) return UnknownPrice(call);
  return Json(200, {{"name", call.params[0]}, {"price", price.value}, {"currency", Currency(call)}});
}

HttpResponse PutPrice(RouteCall& call) {
  std::vector<std::string> argv{"PRICE.SET", call.params[0], *call.BodyArg("price")};
  call.AppendActor(argv);
  Outcome set = call.Run(argv);
  if (set.error) return *set.error;
  HttpResponse response = ReadPrice(call);
  return response;
}

HttpResponse DeletePrice(RouteCall& call) {
  std::vector<std::string> argv{"PRICE.DEL", call.params[0]};
  call.AppendActor(argv);
  Outcome deleted = call.Run(argv);
  if (deleted.error) return *deleted.error;
  if (deleted.value.get<int64_t>() == 0) return UnknownPrice(call);
  return Json(200, {{"name", call.params[0]}, {"deleted", true}});
}

constexpr FieldSpec kPriceOnly[] = {kPriceName};
constexpr FieldSpec kPriceDeleteFields[] = {kPriceName, kActorHeader};
constexpr FieldSpec kPutPriceFields[] = {
    kPriceName,
    {"price", kBody, kString, true, "price",
     "the price of one unit as a decimal string, at most 6 decimal places, e.g. \"0.000002\""},
    kActorHeader,
};

// ---- events ------------------------------------------------------------------------------

// METER.RECORD's argv for an event object, or why the object is not an
// event. `owner` comes from the path when the route has one.
std::optional<std::string> EventArgv(const json& event, const std::string* owner, std::vector<std::string>* argv) {
  if (!event.is_object()) return "an event must be a JSON object";
  static const std::vector<std::string> kBatchKeys = {"owner", "type", "measures", "id", "at", "consume"};
  for (const auto& [key, value] : event.items()) {
    if (std::find(kBatchKeys.begin(), kBatchKeys.end(), key) == kBatchKeys.end() || (owner && key == "owner")) {
      return "unknown field '" + key + "' (an event has " + (owner ? "" : "owner, ") +
             "type, measures, id, at, consume)";
    }
  }
  auto string_field = [&](const char* name) -> std::optional<std::string> {
    auto it = event.find(name);
    if (it == event.end() || !it->is_string()) return std::nullopt;
    return it->get<std::string>();
  };
  std::optional<std::string> event_owner = owner ? std::optional(*owner) : string_field("owner");
  if (!event_owner) return "'owner' must be a string";
  std::optional<std::string> type = string_field("type");
  if (!type) return "'type' must be a string";
  auto measures = event.find("measures");
  if (measures == event.end() || !measures->is_object() || measures->empty()) {
    return "'measures' must be a non-empty object of measure: integer";
  }
  argv->assign({"METER.RECORD", *event_owner, *type});
  for (const auto& [measure, value] : measures->items()) {
    if (!value.is_number_integer()) return "measure '" + measure + "' must be an integer";
    argv->push_back(measure);
    argv->push_back(value.is_number_unsigned() ? std::to_string(value.get<uint64_t>())
                                               : std::to_string(value.get<int64_t>()));
  }
  if (event.contains("id")) {
    std::optional<std::string> id = string_field("id");
    if (!id) return "'id' must be a string";
    argv->insert(argv->end(), {"ID", *id});
  }
  if (auto at = event.find("at"); at != event.end()) {
    if (!at->is_number_integer()) return "'at' must be an integer (unix milliseconds)";
    argv->insert(argv->end(), {"AT", std::to_string(at->get<int64_t>())});
  }
  if (auto consume = event.find("consume"); consume != event.end()) {
    if (!consume->is_boolean()) return "'consume' must be true or false";
    if (consume->get<bool>()) argv->push_back("CONSUME");
  }
  return std::nullopt;
}

// METER.RECORD's map for HTTP: booleans, and the refusal's times split.
json EventJson(json reply) {
  for (const char* flag : {"allowed", "duplicate"}) reply[flag] = reply[flag].get<int64_t>() != 0;
  json& refused = reply["refused"];
  if (refused.is_object() && refused["resets_at"].is_number_integer()) {
    const int64_t at = refused["resets_at"].get<int64_t>();
    refused["resets_at_ms"] = at;
    refused["resets_at"] = IsoUtc(at);
  }
  return reply;
}

std::string RefusalMessage(const json& refused) {
  return "quota exceeded for '" + refused["feature"].get<std::string>() +
         "': " + std::to_string(refused["shortfall"].get<int64_t>()) +
         " more than the limit and credits allow; nothing of the event was recorded";
}

// POST /v1/owners/{owner}/events: 200 with the cost, or 429 quota_exceeded
// naming the measure that did not fit (Retry-After when its limit resets).
HttpResponse RecordEvent(RouteCall& call) {
  std::vector<std::string> argv;
  if (auto invalid = EventArgv(call.body, &call.params[0], &argv)) {
    return call.Fail(Error(ErrorCode::kInvalidField, *invalid));
  }
  Outcome recorded = call.Run(argv);
  if (recorded.error) return *recorded.error;
  json body = EventJson(std::move(recorded.value));
  body["owner"] = call.params[0];
  if (body["allowed"].get<bool>()) return Json(200, body);
  const ErrorCode code = ErrorCode::kQuotaExceeded;
  body["error"] = {{"code", std::string(protocol::ErrorName(code))}, {"message", RefusalMessage(body["refused"])}};
  HttpResponse response = Json(protocol::HttpStatus(code), body);
  if (body["refused"]["resets_at_ms"].is_number_integer()) {
    const int64_t wait_ms = body["refused"]["resets_at_ms"].get<int64_t>() - ApiEngine(call.api).clock().NowMs();
    response.headers.emplace_back("Retry-After", std::to_string(std::max<int64_t>(1, (wait_ms + 999) / 1000)));
  }
  return response;
}

// POST /v1/events: each event applied atomically (or not at all); the reply
// lists each one's outcome in order: applied, duplicate, refused (CONSUME),
// invalid (with the error) or failed (the daemon could not store it).
HttpResponse RecordBatch(RouteCall& call) {
  const json& events = call.body["events"];
  // The most events one batch takes (the max_batch_events setting;
  // http_max_body_bytes bounds the body too).
  const int64_t max_events = ApiEngine(call.api).metering().max_batch_events();
  if (static_cast<int64_t>(events.size()) > max_events) {
    return call.Fail(Error(ErrorCode::kInvalidField, "too many events: " + std::to_string(events.size()) +
                                                         " (at most " + std::to_string(max_events) +
                                                         " per request: the max_batch_events setting)"));
  }
  json results = json::array();
  std::map<std::string, int64_t> counts{
      {"applied", 0}, {"duplicate", 0}, {"refused", 0}, {"invalid", 0}, {"failed", 0}};
  std::vector<std::string> argv;
  for (size_t i = 0; i < events.size(); ++i) {
    json result{{"index", i}};
    if (auto invalid = EventArgv(events[i], nullptr, &argv)) {
      result["status"] = "invalid";
      result["error"] = {{"code", "invalid_field"}, {"message", "event " + std::to_string(i) + ": " + *invalid}};
    } else if (Outcome recorded = call.Run(argv); recorded.error) {
      const json error = json::parse(recorded.error->body, nullptr, false);
      result["status"] = recorded.error->status >= 500 ? "failed" : "invalid";
      result["error"] = error.is_object() ? error["error"] : json("unreadable error");
    } else {
      json reply = EventJson(std::move(recorded.value));
      if (!reply["allowed"].get<bool>()) {
        result["status"] = "refused";
        result["error"] = {{"code", "quota_exceeded"}, {"message", RefusalMessage(reply["refused"])}};
        result["refused"] = std::move(reply["refused"]);
      } else {
        result["status"] = reply["duplicate"].get<bool>() ? "duplicate" : "applied";
        result["cost"] = std::move(reply["cost"]);
      }
    }
    ++counts[result["status"].get<std::string>()];
    results.push_back(std::move(result));
  }
  json body{{"events", events.size()}, {"currency", Currency(call)}, {"results", std::move(results)}};
  for (const auto& [status, count] : counts) body[status] = count;
  return Json(200, body);
}

constexpr FieldSpec kEventFields[] = {
    {"owner", kPath, kString, true, "owner", "the owner (percent-encoded), e.g. user:42"},
    {"type", kBody, kString, true, "event-type", "the event type, e.g. chat"},
    {"measures", kBody, kObject, true, "measure value", "{\"<measure>\": <integer>, ...}, e.g. {\"tokens\": 1500}"},
    {"id", kBody, kString, false, "ID", "event id: a retry with the same event counts once"},
    {"at", kBody, kInteger, false, "AT", "event time, unix ms (default: now)"},
    {"consume", kBody, kBoolean, false, "CONSUME",
     "also consume the quota of every measure the owner's plan limits (all or nothing)"},
};
constexpr FieldSpec kBatchFields[] = {
    {"events", kBody, kObjectList, true, "",
     "the events, each {owner, type, measures, id?, at?, consume?} as for one event; the body may also be the "
     "array itself, or NDJSON (Content-Type application/x-ndjson, one event per line)"},
};

const RouteSpec kRoutes[] = {
    {"GET", "/v1/prices", "PRICE.LIST", {}, "every price, with the currency", ListPrices},
    {"GET", "/v1/prices/{name}", "PRICE.GET", kPriceOnly, "one price (404 unknown_price)", ReadPrice},
    {"PUT", "/v1/prices/{name}", "PRICE.SET PRICE.GET", kPutPriceFields,
     "sets a price for events recorded from now on; audited", PutPrice},
    {"DELETE", "/v1/prices/{name}", "PRICE.DEL", kPriceDeleteFields, "removes a price (404 if none); audited",
     DeletePrice},
    {"POST", "/v1/owners/{owner}/events", "METER.RECORD", kEventFields,
     "records one event: its measures and cost, all or nothing; refused (consume): 429 quota_exceeded", RecordEvent},
    {"POST", "/v1/events", "METER.RECORD", kBatchFields,
     "records a batch of events, each all or nothing, with one outcome per event; one wait for the log", RecordBatch},
};

}  // namespace

std::span<const RouteSpec> MeterRoutes() { return kRoutes; }

}  // namespace tally::net
