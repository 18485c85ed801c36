// The distinct-count routes (docs/http.md "Distinct counts"): UNIQ.ADD and
// UNIQ.COUNT for one owner's key. Each route declares its inputs next to its
// handler; the handler turns them into the command's argv and the reply into
// the route's JSON.

#include <string>
#include <vector>

#include "net/http_route.h"

namespace tally::net {
namespace {

using enum FieldSource;
using enum FieldType;

constexpr FieldSpec kOwner{"owner", kPath, kString, true, "owner", "the owner (percent-encoded), e.g. user:42"};
constexpr FieldSpec kKey{"key", kPath, kString, true, "key", "what is counted, e.g. customers"};

// ---- POST /v1/owners/{owner}/unique/{key} -----------------------------------------

HttpResponse AddMembers(RouteCall& call) {
  std::vector<std::string> argv{"UNIQ.ADD", call.params[0], call.params[1]};
  for (const json& member : call.body["members"]) argv.push_back(member.get<std::string>());  // checked: strings
  if (auto at = call.BodyArg("at")) argv.insert(argv.end(), {"AT", *at});
  auto outcome = call.Run(argv);
  if (outcome.error) return *outcome.error;
  return Json(200, {{"owner", call.params[0]}, {"key", call.params[1]}, {"changed", outcome.value == 1}});
}

constexpr FieldSpec kAddFields[] = {
    kOwner,
    kKey,
    {"members", kBody, kStringList, true, "member", "the members to count, 1-10000 strings (any bytes)"},
    {"at", kBody, kInteger, false, "AT",
     "the event time in unix milliseconds (default now; up to max_backdate in the past, max_future_skew ahead)"},
};

// ---- GET /v1/owners/{owner}/unique/{key}?interval=&period=|from=&to= ----------------

HttpResponse CountMembers(RouteCall& call) {
  const std::string& owner = call.params[0];
  const std::string& key = call.params[1];
  const std::string interval = call.Query("interval").value_or("total");
  auto period = call.Query("period");
  auto from = call.Query("from");
  auto to = call.Query("to");
  if (period && from) return call.Fail(protocol::errors::NotTogether("period", "FROM"));
  std::vector<std::string> argv{"UNIQ.COUNT", owner, key, interval};
  if (period) argv.push_back(*period);
  if (from) argv.insert(argv.end(), {"FROM", *from, "TO", *to});
  auto outcome = call.Run(argv);
  if (outcome.error) return *outcome.error;
  json body{{"owner", owner}, {"key", key}};
  if (from) {
    // The range by its first and last period; start is the first one's.
    json first, last;
    if (auto error = DescribePeriod(call.api, owner, interval, from, first)) return ErrorResponse(*error);
    if (auto error = DescribePeriod(call.api, owner, interval, to, last)) return ErrorResponse(*error);
    body["interval"] = first["interval"];
    body["from"] = first["period"];
    body["to"] = last["period"];
    body["start"] = first["start"];
    body["start_ms"] = first["start_ms"];
  } else if (auto error = DescribePeriod(call.api, owner, interval, period, body)) {
    return ErrorResponse(*error);
  }
  body["count"] = outcome.value;
  return Json(200, body);
}

constexpr FieldSpec kCountFields[] = {
    kOwner,
    kKey,
    {"interval", kQuery, kString, false, "interval", "total (default), hour, day, week, month, quarter or year"},
    {"period",
     kQuery,
     kString,
     false,
     "period",
     "one period label of the interval, or current (default)",
     {},
     "interval"},
    {"from", kQuery, kString, false, "FROM", "the first period of a range, counted as one union (with to)", {}, "to"},
    {"to", kQuery, kString, false, "TO", "the last period of the range, inclusive (with from)", {}, "from"},
};

constexpr std::string_view kUnique = "/v1/owners/{owner}/unique/{key}";

const RouteSpec kRoutes[] = {
    {"POST", kUnique, "UNIQ.ADD", kAddFields,
     "adds members to the distinct count: the total and every interval's cell for the time", AddMembers},
    {"GET", kUnique, "UNIQ.COUNT", kCountFields,
     "distinct members of one period, or of the union of a range of periods", CountMembers},
};

}  // namespace

std::span<const RouteSpec> UniqueRoutes() { return kRoutes; }

}  // namespace tally::net
