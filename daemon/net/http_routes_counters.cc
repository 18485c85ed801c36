// The counter routes (docs/http.md "Counters"): one owner's counters over
// CTR.INCRBY, ADJUST, GET, ALL, SET, RECOUNT, RESET, DEL, HISTORY, SUM and
// OWNER.TZ, and over many owners CTR.TOP and CTR.MGET. Each route declares its inputs next to its handler; the handler
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

// The reply of a write with an event id (increment, adjust): 200 with the
// new total, or 409 duplicate with the current one when the id was a retry.
HttpResponse TotalReply(RouteCall& call, const Outcome& outcome) {
  const std::string& owner = call.params[0];
  const std::string& key = call.params[1];
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

HttpResponse Increment(RouteCall& call) {
  std::vector<std::string> argv{"CTR.INCRBY", call.params[0], call.params[1], call.BodyArg("by").value_or("1")};
  if (auto at = call.BodyArg("at")) argv.insert(argv.end(), {"AT", *at});
  if (auto id = call.BodyArg("id")) argv.insert(argv.end(), {"ID", *id});
  auto outcome = call.Run(argv);
  if (outcome.error) return *outcome.error;
  return TotalReply(call, outcome);
}

constexpr FieldSpec kIncrementFields[] = {
    kOwner,
    kKey,
    {"by", kBody, kInteger, false, "delta", "the amount to add (negative subtracts); default 1"},
    {"at", kBody, kInteger, false, "AT",
     "the event time in unix milliseconds (default now; up to max_backdate in the past, max_future_skew ahead)"},
    {"id", kBody, kString, false, "ID", "an event id: a repeat within the dedupe window is not applied again (409)"},
};

// ---- POST /v1/owners/{owner}/counters/{key}/adjust --------------------------------

HttpResponse Adjust(RouteCall& call) {
  std::vector<std::string> argv{"CTR.ADJUST", call.params[0], call.params[1], *call.BodyArg("by")};
  if (auto at = call.BodyArg("at")) argv.insert(argv.end(), {"AT", *at});
  if (auto id = call.BodyArg("id")) argv.insert(argv.end(), {"ID", *id});
  call.AppendActor(argv);
  auto outcome = call.Run(argv);
  if (outcome.error) return *outcome.error;
  return TotalReply(call, outcome);
}

constexpr FieldSpec kAdjustFields[] = {
    kOwner,
    kKey,
    {"by", kBody, kInteger, true, "delta",
     "the correction to add to the total and every interval (negative subtracts)"},
    {"at", kBody, kInteger, false, "AT",
     "the time whose cells are corrected, unix milliseconds (default now; same bounds as an increment's at)"},
    {"id", kBody, kString, false, "ID",
     "an event id: a retried correction is not applied again (409 duplicate; other arguments: 409 id_conflict)"},
    kActorHeader,
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
  if (auto error =
          DescribePeriod(call.api, owner, call.Query("interval").value_or("total"), call.Query("period"), body)) {
    return ErrorResponse(*error);
  }
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
  if (auto error =
          DescribePeriod(call.api, owner, call.Query("interval").value_or("total"), call.Query("period"), body)) {
    return ErrorResponse(*error);
  }
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

// A body field's integer as a command argument.
std::string IntegerArg(const json& value) {
  return value.is_number_unsigned() ? std::to_string(value.get<uint64_t>()) : std::to_string(value.get<int64_t>());
}

// PUT /v1/owners/{owner}/counters/{key}
//   {"value": n [, "interval": i [, "period": p]]}                -> CTR.SET
//   {"interval": i, "periods": {"<period>": n, ...}}              -> CTR.RECOUNT (one atomic step)
//   {"cells": [{"interval": i, "period": p, "value": n}, ...]}    -> CTR.RECOUNT CELLS (one atomic step)
HttpResponse PutCounter(RouteCall& call) {
  const std::string& owner = call.params[0];
  const std::string& key = call.params[1];
  // Which form the body takes, and the fields that cannot come with it.
  const char* form = call.Has("cells") ? "cells" : call.Has("periods") ? "periods" : nullptr;
  const std::vector<const char*> excluded = call.Has("cells") ? std::vector{"value", "interval", "period", "periods"}
                                            : call.Has("periods") ? std::vector{"value", "period"}
                                                                  : std::vector<const char*>{};
  for (const char* alone : excluded) {
    if (call.Has(alone)) {
      return call.Fail(errors::FieldNotWith(alone, form, "value (one cell), periods (one interval) or cells"));
    }
  }
  std::vector<std::string> argv;
  if (call.Has("cells")) {
    argv = {"CTR.RECOUNT", owner, key, "CELLS"};
    for (const json& cell : call.body["cells"]) {
      argv.push_back(cell["interval"].get<std::string>());
      argv.push_back(cell.contains("period") ? cell["period"].get<std::string>() : "current");
      argv.push_back(IntegerArg(cell["value"]));
    }
  } else if (call.Has("periods")) {
    argv = {"CTR.RECOUNT", owner, key, *call.BodyArg("interval")};
    for (const auto& [period, value] : call.body["periods"].items()) {
      argv.push_back(period);
      argv.push_back(IntegerArg(value));
    }
  } else {
    if (!call.Has("value")) return call.Fail(errors::MissingField("field", "value").Text(" (or 'periods' or 'cells')"));
    argv = {"CTR.SET", owner, key, *call.BodyArg("value")};
    if (auto interval = call.BodyArg("interval")) argv.push_back(*interval);
    if (auto period = call.BodyArg("period")) argv.push_back(*period);
  }
  return RunAdministrative(call, argv);
}

constexpr FieldSpec kPutFields[] = {
    kOwner,
    kKey,
    {"value", kBody, kInteger, false, "value",
     "the cell's new value (CTR.SET); required unless periods or cells is given"},
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
    {"cells", kBody, kCellList, false, "CELLS",
     "[{\"interval\", \"period\" (default current), \"value\"}, ...]: cells of any intervals in one atomic step "
     "(CTR.RECOUNT CELLS)"},
    kActorHeader,
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
    kActorHeader,
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
    kActorHeader,
};

// ---- history and sums --------------------------------------------------------------

// GET /v1/owners/{owner}/counters/{key}/history?interval=&count=&from=
HttpResponse History(RouteCall& call) {
  const std::string& owner = call.params[0];
  const std::string& key = call.params[1];
  const std::string interval = *call.Query("interval");
  std::vector<std::string> argv{"CTR.HISTORY", owner, key, interval, call.Query("count").value_or("30")};
  if (auto from = call.Query("from")) argv.insert(argv.end(), {"FROM", *from});
  argv.push_back("WITHSTART");
  auto outcome = call.Run(argv);
  if (outcome.error) return *outcome.error;
  json history = json::array();
  for (const json& entry : outcome.value) {
    history.push_back({{"period", entry[0]},
                       {"value", entry[1]},
                       {"start", IsoUtc(entry[2].get<int64_t>())},
                       {"start_ms", entry[2]}});
  }
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

// ---- GET /v1/top?key=&interval=&period=|from=&to=&offset=&limit=&prefix= -------------

HttpResponse Top(RouteCall& call) {
  const std::string key = *call.Query("key");
  const std::string interval = call.Query("interval").value_or("total");
  auto from = call.Query("from");
  auto to = call.Query("to");
  std::vector<std::string> argv{"CTR.TOP", key, interval};
  if (auto period = call.Query("period")) argv.push_back(*period);
  if (from) argv.insert(argv.end(), {"FROM", *from, "TO", *to});
  for (const auto& [param, word] : {std::pair{"offset", "OFFSET"}, {"limit", "LIMIT"}, {"prefix", "PREFIX"}}) {
    if (auto value = call.Query(param)) argv.insert(argv.end(), {word, *value});
  }
  auto outcome = call.Run(argv);
  if (outcome.error) return *outcome.error;
  json owners = json::array();
  for (const json& pair : outcome.value) owners.push_back({{"owner", pair[0]}, {"value", pair[1]}});
  json body{{"key", key}};
  if (from) {
    // The range by its first and last period; start is the first one's.
    json first, last;
    DescribePeriod(call.api, "", interval, from, first);
    DescribePeriod(call.api, "", interval, to, last);
    body["interval"] = first["interval"];
    body["from"] = first["period"];
    body["to"] = last["period"];
    body["start"] = first["start"];
    body["start_ms"] = first["start_ms"];
  } else {
    DescribePeriod(call.api, "", interval, call.Query("period"), body);
  }
  body["offset"] = std::stoll(call.Query("offset").value_or("0"));  // checked: an integer in range
  body["owners"] = std::move(owners);
  return Json(200, body);
}

constexpr FieldSpec kTopFields[] = {
    {"key", kQuery, kString, true, "key", "the key to rank owners by"},
    kIntervalQuery,
    {"period", kQuery, kString, false, "period", "a period label, or current (default)"},
    {"from",
     kQuery,
     kString,
     false,
     "FROM",
     "rank by the sum of a range of periods: the first one (with to)",
     {},
     "to"},
    {"to", kQuery, kString, false, "TO", "the last period of the range, inclusive (with from)", {}, "from"},
    {"offset", kQuery, kInteger, false, "OFFSET", "skip that many ranked owners, 0-1000000 (default 0): pages"},
    {"limit", kQuery, kInteger, false, "LIMIT", "how many owners, 1-10000 (default 10)"},
    {"prefix", kQuery, kString, false, "PREFIX", "only owners starting with it (user:)"},
};

// ---- GET /v1/values?key=&owners=a,b,c&interval=&period= -------------------------------

// Owner names cannot hold a comma (core::ValidName), so owners come as one
// comma-separated parameter; an empty piece is an owner '' the command refuses.
constexpr size_t kMaxValuesOwners = 1000;

HttpResponse Values(RouteCall& call) {
  const std::string key = *call.Query("key");
  const std::string owners_param = *call.Query("owners");
  std::vector<std::string> owners;
  for (size_t start = 0; !owners_param.empty() && start <= owners_param.size();) {
    size_t comma = owners_param.find(',', start);
    if (comma == std::string::npos) comma = owners_param.size();
    owners.push_back(owners_param.substr(start, comma - start));
    start = comma + 1;
  }
  if (owners.empty() || owners.size() > kMaxValuesOwners) {
    return call.Fail(errors::ListSize("query parameter", "owners", 1, kMaxValuesOwners, "owners", owners.size()));
  }
  const std::string interval = call.Query("interval").value_or("total");
  const std::string period = call.Query("period").value_or("current");
  std::vector<std::string> argv{"CTR.MGET", key, interval, period};
  argv.insert(argv.end(), owners.begin(), owners.end());
  auto outcome = call.Run(argv);
  if (outcome.error) return *outcome.error;
  json values = json::array();
  for (size_t i = 0; i < owners.size(); ++i) values.push_back({{"owner", owners[i]}, {"value", outcome.value[i]}});
  auto parsed = core::ParseInterval(interval);  // checked by the command
  return Json(200, {{"key", key},
                    {"interval", std::string(core::IntervalName(*parsed))},
                    {"period", *parsed == core::Interval::kTotal ? std::string("total") : period},
                    {"values", std::move(values)}});
}

constexpr FieldSpec kValuesFields[] = {
    {"key", kQuery, kString, true, "key", "the counter's key, e.g. downloads"},
    {"owners", kQuery, kString, true, "owner",
     "1-1000 owners separated by commas (user:1,user:2); replies keep the order"},
    kIntervalQuery,
    {"period",
     kQuery,
     kString,
     false,
     "period",
     "a period label of the interval, or current (default; in each owner's time zone)",
     {},
     "interval"},
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
    {"PUT", kCounter, "CTR.SET CTR.RECOUNT", kPutFields,
     "sets one cell, or several cells (periods of one interval, or cells of any intervals) in one atomic step",
     PutCounter},
    {"DELETE", kCounter, "CTR.DEL", kDeleteFields, "removes every cell of the counter, or of one interval",
     DeleteCounter},
    {"POST", "/v1/owners/{owner}/counters/{key}/increment", "CTR.INCRBY", kIncrementFields,
     "adds to the total and every interval's cell; replies the new total", Increment},
    {"POST", "/v1/owners/{owner}/counters/{key}/adjust", "CTR.ADJUST", kAdjustFields,
     "corrects the whole counter: the total and every interval's cell of the time, audited", Adjust},
    {"POST", "/v1/owners/{owner}/counters/{key}/reset", "CTR.RESET", kResetFields, "sets one cell to 0", ResetCounter},
    {"GET", "/v1/owners/{owner}/counters/{key}/history", "CTR.HISTORY", kHistoryFields,
     "the last count periods, newest first, zeros for gaps", History},
    {"GET", "/v1/owners/{owner}/counters/{key}/sum", "CTR.SUM", kSumFields,
     "the sum of a range of periods (or of every stored period)", Sum},
    {"GET", "/v1/owners/{owner}/timezone", "OWNER.TZ", kOwnerOnly, "the owner's time zone", GetTimeZone},
    {"PUT", "/v1/owners/{owner}/timezone", "OWNER.TZ", kPutTimeZoneFields,
     "sets the owner's time zone (for events from now on)", PutTimeZone},
    {"GET", "/v1/top", "CTR.TOP", kTopFields, "owners ranked by one cell or a range of periods, highest first", Top},
    {"GET", "/v1/values", "CTR.MGET", kValuesFields, "one cell of a key for many owners, in the order asked", Values},
};

}  // namespace

std::span<const RouteSpec> CounterRoutes() { return kRoutes; }

}  // namespace tally::net
