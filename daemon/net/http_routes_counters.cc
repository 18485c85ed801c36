// The counter routes (docs/http.md "Counters"): one owner's counters over
// CTR.INCRBY, GET, ALL, SET, RECOUNT, RESET, DEL, HISTORY, SUM, TOP and
// OWNER.TZ. Each route declares its inputs next to its handler; the handler
// turns them into the command's argv and the reply into the route's JSON.

#include <string>
#include <vector>

#include "net/http_route.h"

namespace tally::net {
namespace {

namespace errors = protocol::errors;
using enum FieldSource;
using enum FieldType;

// ---- inputs many routes share ----------------------------------------------------

constexpr FieldSpec kOwner{"owner", kPath, kString, true, "owner", "the owner (percent-encoded), e.g. user:42"};
constexpr FieldSpec kKey{"key", kPath, kString, true, "key", "the counter's key, e.g. downloads"};
constexpr FieldSpec kActor{"X-Actor", kHeader,
                           kString,   false,
                           "BY",      "who makes the change, for the audit trail (default: the client's address)"};
constexpr FieldSpec kIntervalQuery{"interval", kQuery,     kString,
                                   false,      "interval", "total (default), hour, day, week, month, quarter or year"};
constexpr FieldSpec kPeriodQuery{
    "period", kQuery, kString, false, "period", "a period label of the interval, or current (default)", {}, "interval"};

// [interval [period]] from the query, as command arguments.
void AppendCellArgs(const RouteCall& call, std::vector<std::string>& argv) {
  if (auto interval = call.Query("interval")) argv.push_back(*interval);
  if (auto period = call.Query("period")) argv.push_back(*period);
}

// ---- POST /v1/owners/{owner}/counters/{key}/increment ----------------------------

HttpResponse Increment(RouteCall& call) {
  const std::string& owner = call.params[0];
  const std::string& key = call.params[1];
  std::vector<std::string> argv{"CTR.INCRBY", owner, key, call.BodyArg("by").value_or("1")};
  if (auto at = call.BodyArg("at")) argv.insert(argv.end(), {"AT", *at});
  if (auto id = call.BodyArg("id")) argv.insert(argv.end(), {"ID", *id});
  auto outcome = call.Run(argv);
  if (outcome.error) return *outcome.error;
  if (outcome.duplicate) {
    const protocol::ErrorCode code = protocol::ErrorCode::kDuplicate;
    return Json(protocol::HttpStatus(code),
                {{"error",
                  {{"code", std::string(protocol::ErrorName(code))},
                   {"message", "event id '" + *call.BodyArg("id") +
                                   "' was already applied within the dedupe window; nothing changed"}}},
                 {"owner", owner},
                 {"key", key},
                 {"total", outcome.value},
                 {"duplicate", true}});
  }
  return Json(200, {{"owner", owner}, {"key", key}, {"total", outcome.value}, {"duplicate", false}});
}

constexpr FieldSpec kIncrementFields[] = {
    kOwner,
    kKey,
    {"by", kBody, kInteger, false, "delta", "the amount to add (negative subtracts); default 1"},
    {"at", kBody, kInteger, false, "AT",
     "the event time in unix milliseconds (default now; up to max_backdate in the past, max_future_skew ahead)"},
    {"id", kBody, kString, false, "ID", "an event id: a repeat within the dedupe window is not applied again (409)"},
};

// ---- GET /v1/owners/{owner}/counters/{key} ---------------------------------------

HttpResponse GetCounter(RouteCall& call) {
  const std::string& owner = call.params[0];
  const std::string& key = call.params[1];
  std::vector<std::string> argv{"CTR.GET", owner, key};
  AppendCellArgs(call, argv);
  auto outcome = call.Run(argv);
  if (outcome.error) return *outcome.error;
  json body{{"owner", owner}, {"key", key}};
  DescribePeriod(call.api, owner, call.Query("interval").value_or("total"), call.Query("period"), body);
  body["value"] = outcome.value;
  return Json(200, body);
}

constexpr FieldSpec kCellFields[] = {kOwner, kKey, kIntervalQuery, kPeriodQuery};

// ---- GET /v1/owners/{owner}/counters ---------------------------------------------

HttpResponse OwnerCounters(RouteCall& call) {
  const std::string& owner = call.params[0];
  std::vector<std::string> argv{"CTR.ALL", owner};
  AppendCellArgs(call, argv);
  auto outcome = call.Run(argv);
  if (outcome.error) return *outcome.error;
  json counters = json::object();
  for (size_t i = 0; i + 1 < outcome.value.size(); i += 2) {
    counters[outcome.value[i].get<std::string>()] = outcome.value[i + 1];
  }
  json body{{"owner", owner}};
  DescribePeriod(call.api, owner, call.Query("interval").value_or("total"), call.Query("period"), body);
  body["counters"] = std::move(counters);
  return Json(200, body);
}

constexpr FieldSpec kOwnerCellFields[] = {kOwner, kIntervalQuery, kPeriodQuery};

// ---- administrative changes ------------------------------------------------------

// SET / RECOUNT / RESET with the X-Actor as BY; {"owner","key","status":"ok"}.
HttpResponse RunAdministrative(RouteCall& call, std::vector<std::string>& argv) {
  call.AppendActor(argv);
  auto outcome = call.Run(argv);
  if (outcome.error) return *outcome.error;
  return Json(200, {{"owner", argv[1]}, {"key", argv[2]}, {"status", "ok"}});
}

// PUT /v1/owners/{owner}/counters/{key}
//   {"value": n [, "interval": i [, "period": p]]}           -> CTR.SET
//   {"interval": i, "periods": {"<period>": n, ...}}         -> CTR.RECOUNT (one atomic step)
HttpResponse PutCounter(RouteCall& call) {
  const std::string& owner = call.params[0];
  const std::string& key = call.params[1];
  std::vector<std::string> argv;
  if (call.Has("periods")) {
    for (const char* alone : {"value", "period"}) {
      if (call.Has(alone)) {
        return call.Fail(protocol::Error(protocol::ErrorCode::kInvalidField)
                             .Text("field '")
                             .Text(alone)
                             .Text("' cannot be given with 'periods': send either value (one cell) or periods"));
      }
    }
    argv = {"CTR.RECOUNT", owner, key, *call.BodyArg("interval")};
    for (const auto& [period, value] : call.body["periods"].items()) {
      argv.push_back(period);
      argv.push_back(value.is_number_unsigned() ? std::to_string(value.get<uint64_t>())
                                                : std::to_string(value.get<int64_t>()));
    }
  } else {
    if (!call.Has("value")) return call.Fail(errors::MissingField("field", "value").Text(" (or 'periods')"));
    argv = {"CTR.SET", owner, key, *call.BodyArg("value")};
    if (auto interval = call.BodyArg("interval")) argv.push_back(*interval);
    if (auto period = call.BodyArg("period")) argv.push_back(*period);
  }
  return RunAdministrative(call, argv);
}

constexpr FieldSpec kPutFields[] = {
    kOwner,
    kKey,
    {"value", kBody, kInteger, false, "value", "the cell's new value (CTR.SET); required unless periods is given"},
    {"interval", kBody, kString, false, "interval", "the cell's interval (default total)"},
    {"period", kBody, kString, false, "period", "the cell's period label (default current)", {}, "interval"},
    {"periods",
     kBody,
     kPeriodMap,
     false,
     "period value",
     "{\"<period>\": value, ...}: several periods of one interval in one atomic step (CTR.RECOUNT)",
     {},
     "interval"},
    kActor,
};

// POST /v1/owners/{owner}/counters/{key}/reset {"interval", "period"}
HttpResponse ResetCounter(RouteCall& call) {
  std::vector<std::string> argv{"CTR.RESET", call.params[0], call.params[1]};
  if (auto interval = call.BodyArg("interval")) argv.push_back(*interval);
  if (auto period = call.BodyArg("period")) argv.push_back(*period);
  return RunAdministrative(call, argv);
}

constexpr FieldSpec kResetFields[] = {
    kOwner,
    kKey,
    {"interval", kBody, kString, false, "interval", "the cell's interval (default total)"},
    {"period", kBody, kString, false, "period", "the cell's period label (default current)", {}, "interval"},
    kActor,
};

// DELETE /v1/owners/{owner}/counters/{key}?interval=
HttpResponse DeleteCounter(RouteCall& call) {
  const std::string& owner = call.params[0];
  const std::string& key = call.params[1];
  std::vector<std::string> argv{"CTR.DEL", owner, key};
  if (auto interval = call.Query("interval")) argv.push_back(*interval);
  call.AppendActor(argv);
  auto outcome = call.Run(argv);
  if (outcome.error) return *outcome.error;
  return Json(200, {{"owner", owner}, {"key", key}, {"deleted", outcome.value}});
}

constexpr FieldSpec kDeleteFields[] = {
    kOwner,
    kKey,
    {"interval", kQuery, kString, false, "interval", "only the cells of this interval (default: every cell)"},
    kActor,
};

// ---- history and sums --------------------------------------------------------------

// GET /v1/owners/{owner}/counters/{key}/history?interval=&count=&from=
HttpResponse History(RouteCall& call) {
  const std::string& owner = call.params[0];
  const std::string& key = call.params[1];
  const std::string interval = *call.Query("interval");
  std::vector<std::string> argv{"CTR.HISTORY", owner, key, interval, call.Query("count").value_or("30")};
  if (auto from = call.Query("from")) argv.insert(argv.end(), {"FROM", *from});
  auto outcome = call.Run(argv);
  if (outcome.error) return *outcome.error;
  json history = json::array();
  for (const json& pair : outcome.value) history.push_back({{"period", pair[0]}, {"value", pair[1]}});
  return Json(200, {{"owner", owner}, {"key", key}, {"interval", interval}, {"history", std::move(history)}});
}

constexpr FieldSpec kHistoryFields[] = {
    kOwner,
    kKey,
    {"interval", kQuery, kString, true, "interval", "hour, day, week, month, quarter or year"},
    {"count", kQuery, kInteger, false, "count", "how many periods, 1-10000 (default 30)"},
    {"from", kQuery, kString, false, "FROM", "the newest period to list (default current)"},
};

// GET /v1/owners/{owner}/counters/{key}/sum?interval=&from=&to=
HttpResponse Sum(RouteCall& call) {
  const std::string& owner = call.params[0];
  const std::string& key = call.params[1];
  const std::string interval = *call.Query("interval");
  auto from = call.Query("from");
  auto to = call.Query("to");
  std::vector<std::string> argv{"CTR.SUM", owner, key, interval};
  if (from) argv.insert(argv.end(), {"FROM", *from, "TO", *to});
  auto outcome = call.Run(argv);
  if (outcome.error) return *outcome.error;
  json body{{"owner", owner}, {"key", key}, {"interval", interval}, {"sum", outcome.value}};
  if (from) {
    body["from"] = *from;
    body["to"] = *to;
  }
  return Json(200, body);
}

constexpr FieldSpec kSumFields[] = {
    kOwner,
    kKey,
    {"interval", kQuery, kString, true, "interval", "the interval whose periods are summed"},
    {"from", kQuery, kString, false, "FROM", "the first period of the range (with to)", {}, "to"},
    {"to", kQuery, kString, false, "TO", "the last period of the range, inclusive (with from)", {}, "from"},
};

// ---- GET /v1/top?key=&interval=&period=&limit=&prefix= -----------------------------

HttpResponse Top(RouteCall& call) {
  const std::string key = *call.Query("key");
  const std::string interval = call.Query("interval").value_or("total");
  std::vector<std::string> argv{"CTR.TOP", key, interval};
  if (auto period = call.Query("period")) argv.push_back(*period);
  if (auto limit = call.Query("limit")) argv.insert(argv.end(), {"LIMIT", *limit});
  if (auto prefix = call.Query("prefix")) argv.insert(argv.end(), {"PREFIX", *prefix});
  auto outcome = call.Run(argv);
  if (outcome.error) return *outcome.error;
  json owners = json::array();
  for (const json& pair : outcome.value) owners.push_back({{"owner", pair[0]}, {"value", pair[1]}});
  json body{{"key", key}};
  DescribePeriod(call.api, "", interval, call.Query("period"), body);
  body["owners"] = std::move(owners);
  return Json(200, body);
}

constexpr FieldSpec kTopFields[] = {
    {"key", kQuery, kString, true, "key", "the key to rank owners by"},
    kIntervalQuery,
    {"period", kQuery, kString, false, "period", "a period label, or current (default)"},
    {"limit", kQuery, kInteger, false, "LIMIT", "how many owners, 1-10000 (default 10)"},
    {"prefix", kQuery, kString, false, "PREFIX", "only owners starting with it (user:)"},
};

// ---- GET|PUT /v1/owners/{owner}/timezone ----------------------------------------------

HttpResponse GetTimeZone(RouteCall& call) {
  auto outcome = call.Run({"OWNER.TZ", call.params[0]});
  if (outcome.error) return *outcome.error;
  return Json(200, {{"owner", call.params[0]}, {"timezone", outcome.value}});
}

HttpResponse PutTimeZone(RouteCall& call) {
  const std::string zone = *call.BodyArg("timezone");
  auto outcome = call.Run({"OWNER.TZ", call.params[0], zone});
  if (outcome.error) return *outcome.error;
  return Json(200, {{"owner", call.params[0]}, {"timezone", zone}});
}

constexpr FieldSpec kOwnerOnly[] = {kOwner};
constexpr FieldSpec kPutTimeZoneFields[] = {
    kOwner,
    {"timezone", kBody, kString, true, "timezone", "an IANA time zone name, e.g. Europe/Berlin"},
};

constexpr std::string_view kCounter = "/v1/owners/{owner}/counters/{key}";

const RouteSpec kRoutes[] = {
    {"GET", "/v1/owners/{owner}/counters", "CTR.ALL", kOwnerCellFields,
     "every key of the owner with its value in one cell", OwnerCounters},
    {"GET", kCounter, "CTR.GET", kCellFields, "one cell's value, with its period's label and start", GetCounter},
    {"PUT", kCounter, "CTR.SET CTR.RECOUNT", kPutFields, "sets one cell, or several periods of one interval at once",
     PutCounter},
    {"DELETE", kCounter, "CTR.DEL", kDeleteFields, "removes every cell of the counter, or of one interval",
     DeleteCounter},
    {"POST", "/v1/owners/{owner}/counters/{key}/increment", "CTR.INCRBY", kIncrementFields,
     "adds to the total and every interval's cell; replies the new total", Increment},
    {"POST", "/v1/owners/{owner}/counters/{key}/reset", "CTR.RESET", kResetFields, "sets one cell to 0", ResetCounter},
    {"GET", "/v1/owners/{owner}/counters/{key}/history", "CTR.HISTORY", kHistoryFields,
     "the last count periods, newest first, zeros for gaps", History},
    {"GET", "/v1/owners/{owner}/counters/{key}/sum", "CTR.SUM", kSumFields,
     "the sum of a range of periods (or of every stored period)", Sum},
    {"GET", "/v1/owners/{owner}/timezone", "OWNER.TZ", kOwnerOnly, "the owner's time zone", GetTimeZone},
    {"PUT", "/v1/owners/{owner}/timezone", "OWNER.TZ", kPutTimeZoneFields,
     "sets the owner's time zone (for events from now on)", PutTimeZone},
    {"GET", "/v1/top", "CTR.TOP", kTopFields, "owners ranked by one cell, highest first", Top},
};

}  // namespace

std::span<const RouteSpec> CounterRoutes() { return kRoutes; }

}  // namespace tally::net
