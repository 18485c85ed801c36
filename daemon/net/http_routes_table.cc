// The routes over many owners (docs/http.md): the owner list (CTR.OWNERS),
// the admin table of cells and the streamed export (both CTR.CELLS).

#include <spdlog/spdlog.h>

#include <memory>
#include <string>
#include <vector>

#include "net/http_api.h"
#include "net/http_route.h"

namespace tally::net {
namespace {

using enum FieldSource;
using enum FieldType;

json NextCursor(const json& cursor) { return cursor == "0" ? json(nullptr) : cursor; }

// ---- GET /v1/owners?prefix=&cursor=&limit= ----------------------------------------

HttpResponse Owners(RouteCall& call) {
  std::vector<std::string> argv{"CTR.OWNERS"};
  if (auto prefix = call.Query("prefix")) argv.insert(argv.end(), {"PREFIX", *prefix});
  if (auto cursor = call.Query("cursor")) argv.insert(argv.end(), {"CURSOR", *cursor});
  if (auto limit = call.Query("limit")) argv.insert(argv.end(), {"COUNT", *limit});
  auto outcome = call.Run(argv);
  if (outcome.error) return *outcome.error;
  return Json(200, {{"owners", outcome.value[1]}, {"next_cursor", NextCursor(outcome.value[0])}});
}

constexpr FieldSpec kOwnersFields[] = {
    {"prefix", kQuery, kString, false, "PREFIX", "only owners starting with it (user:)"},
    {"cursor", kQuery, kString, false, "CURSOR", "next_cursor of the previous page"},
    {"limit", kQuery, kInteger, false, "COUNT", "owners per page, 1-10000 (default 100)"},
};

// ---- CTR.CELLS -------------------------------------------------------------------------

// CTR.CELLS arguments from the query (prefix, type, key) and the given
// interval, period, cursor and page size.
std::vector<std::string> CellsArgs(const RouteCall& call, std::optional<std::string> interval,
                                   std::optional<std::string> period, std::string_view cursor, int64_t count) {
  std::vector<std::string> argv{"CTR.CELLS"};
  for (const auto& [param, word] : {std::pair{"prefix", "PREFIX"}, {"type", "TYPE"}, {"key", "KEY"}}) {
    if (auto value = call.Query(param)) argv.insert(argv.end(), {word, *value});
  }
  if (interval) argv.insert(argv.end(), {"INTERVAL", *interval});
  if (period) argv.insert(argv.end(), {"PERIOD", *period});
  if (!cursor.empty()) argv.insert(argv.end(), {"CURSOR", std::string(cursor)});
  argv.insert(argv.end(), {"COUNT", std::to_string(count)});
  return argv;
}

json CellRows(const json& rows) {
  json out = json::array();
  for (const json& row : rows) {
    out.push_back({{"owner", row[0]}, {"key", row[1]}, {"interval", row[2]}, {"period", row[3]}, {"value", row[4]}});
  }
  return out;
}

// GET /v1/counters?prefix=&type=&key=&interval=&period=&cursor=&limit= — the
// admin table. interval defaults to total, period to current; interval=all
// lists every cell.
HttpResponse Counters(RouteCall& call) {
  std::optional<std::string> interval = call.Query("interval").value_or("total");
  std::optional<std::string> period = call.Query("period");
  if (*interval == "all") {
    if (period) {
      return call.Fail(protocol::Error(protocol::ErrorCode::kInvalidField,
                                       "query parameter 'period' needs a single interval, not interval=all"));
    }
    interval.reset();
  } else if (!period) {
    period = "current";
  }
  int64_t limit = 100;
  if (auto text = call.Query("limit")) limit = std::stoll(*text);  // checked: an integer
  auto outcome = call.Run(CellsArgs(call, interval, period, call.Query("cursor").value_or(""), limit));
  if (outcome.error) return *outcome.error;
  return Json(200, {{"rows", CellRows(outcome.value[1])}, {"next_cursor", NextCursor(outcome.value[0])}});
}

constexpr FieldSpec kFilterPrefix{"prefix", kQuery, kString, false, "PREFIX", "owners starting with it (user:4)"};
constexpr FieldSpec kFilterType{"type", kQuery, kString,
                                false,  "TYPE", "owners of one type (type=user is the prefix user:)"};
constexpr FieldSpec kFilterKey{"key", kQuery, kString, false, "KEY", "one key"};

constexpr FieldSpec kCountersFields[] = {
    kFilterPrefix,
    kFilterType,
    kFilterKey,
    {"interval", kQuery, kString, false, "INTERVAL", "one interval (default total), or all for every cell"},
    {"period", kQuery, kString, false, "PERIOD", "a period of that interval (default current)"},
    {"cursor", kQuery, kString, false, "CURSOR", "next_cursor of the previous page"},
    {"limit", kQuery, kInteger, false, "COUNT", "owners per page, 1-10000 (default 100)"},
};

// GET /v1/export?interval=&period=&format=csv|ndjson (&prefix=&type=&key=):
// every cell that holds a value, streamed page by page (256 owners per
// CTR.CELLS call) so memory stays constant however many cells there are.
HttpResponse Export(RouteCall& call) {
  const std::string format = call.Query("format").value_or("csv");
  auto interval = call.Query("interval");
  auto period = call.Query("period");
  constexpr int64_t kOwnersPerPage = 256;
  // The first page runs now, so bad arguments are a 400 and not a broken stream.
  auto first = call.Run(CellsArgs(call, interval, period, "", kOwnersPerPage));
  if (first.error) return *first.error;

  struct State {
    Api* api;
    const RouteSpec* route;
    HttpRequest request;  // the arguments' source for later pages (a copy: the stream outlives the call)
    std::map<std::string, std::string> query;
    std::optional<std::string> interval, period;
    bool csv;
    json page;
    bool header_sent = false;
    bool finished = false;
  };
  auto state = std::make_shared<State>(State{&call.api, &call.route, call.request, call.query, interval, period,
                                             format == "csv", std::move(first.value)});
  HttpResponse response;
  response.content_type = state->csv ? "text/csv; charset=utf-8" : "application/x-ndjson";
  response.headers.emplace_back("Content-Disposition",
                                std::string("attachment; filename=\"tally-export.") + format + "\"");
  response.next_chunk = [state](std::string& out) {
    if (state->finished) return false;
    if (state->csv && !state->header_sent) out += "owner,key,interval,period,value\r\n";
    state->header_sent = true;
    for (const json& row : state->page[1]) {
      if (state->csv) {
        for (int i = 0; i < 4; ++i) {
          AppendCsvField(out, row[i].get_ref<const std::string&>());
          out.push_back(',');
        }
        out += std::to_string(row[4].get<int64_t>());
        out += "\r\n";
      } else {
        out += Dump({{"owner", row[0]}, {"key", row[1]}, {"interval", row[2]}, {"period", row[3]}, {"value", row[4]}});
        out.push_back('\n');
      }
    }
    const std::string cursor = state->page[0].get<std::string>();
    if (cursor == "0") {
      state->finished = true;
      return true;
    }
    RouteCall next{*state->api, *state->route, state->request, {}, state->query, json::object()};
    auto page = next.Run(CellsArgs(next, state->interval, state->period, cursor, kOwnersPerPage));
    if (page.error) {
      // The status line is long gone: end the stream early, and say so in
      // the log (ndjson also gets a last line naming the error).
      spdlog::error("export stopped early: {}", page.error->body);
      if (!state->csv) out += page.error->body + "\n";
      state->finished = true;
      return true;
    }
    state->page = std::move(page.value);
    return true;
  };
  return response;
}

constexpr FieldSpec kExportFields[] = {
    {"format", kQuery, kEnum, false, "", "csv (default, RFC 4180) or ndjson", "csv ndjson"},
    {"interval", kQuery, kString, false, "INTERVAL", "one interval (default: every interval)"},
    {"period", kQuery, kString, false, "PERIOD", "one period of that interval (default: every period)", {}, "interval"},
    kFilterPrefix,
    kFilterType,
    kFilterKey,
};

const RouteSpec kRoutes[] = {
    {"GET", "/v1/owners", "CTR.OWNERS", kOwnersFields, "owners in name order, a page at a time", Owners},
    {"GET", "/v1/counters", "CTR.CELLS", kCountersFields,
     "the admin table: one row per cell that holds a value, a page of owners at a time", Counters},
    {"GET", "/v1/export", "CTR.CELLS", kExportFields, "every cell that holds a value, streamed as CSV or NDJSON",
     Export},
};

}  // namespace

std::span<const RouteSpec> TableRoutes() { return kRoutes; }

}  // namespace tally::net
