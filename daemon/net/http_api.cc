#include "net/http_api.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <ctime>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "commands/dispatch.h"
#include "commands/metrics.h"
#include "net/http_server.h"
#include "protocol/errors.h"
#include "protocol/json_sink.h"
#include "protocol/resp_parser.h"

namespace tally::net {
namespace {

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

bool PercentDecode(std::string_view in, bool plus_is_space, std::string* out) {
  out->clear();
  out->reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return false;  // fewer than two hex digits left
      int hi = HexDigit(in[i + 1]);
      int lo = HexDigit(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out->push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out->push_back(' ');
    } else {
      out->push_back(c);
    }
  }
  return true;
}

// RFC 4180: quote a field that holds a comma, quote, CR or LF; double quotes.
void AppendCsvField(std::string& out, std::string_view field) {
  if (field.find_first_of(",\"\r\n") == std::string_view::npos) {
    out.append(field);
    return;
  }
  out.push_back('"');
  for (char c : field) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
}

namespace {

using json = nlohmann::json;
namespace errors = protocol::errors;

// Error texts can echo user bytes that are not UTF-8: replace, never throw.
std::string Dump(const json& value) { return value.dump(-1, ' ', false, json::error_handler_t::replace); }

HttpResponse Json(int status, const json& body) {
  HttpResponse response;
  response.status = status;
  response.body = Dump(body);
  return response;
}

// ---- request target -------------------------------------------------------

struct Target {
  std::vector<std::string> segments;         // decoded path segments
  std::map<std::string, std::string> query;  // decoded; the first of repeated names wins
};

bool ParseTarget(std::string_view target, Target* out, std::string* error) {
  size_t question = target.find('?');
  std::string_view path = target.substr(0, question);
  std::string_view query = question == std::string_view::npos ? std::string_view() : target.substr(question + 1);
  if (path.empty() || path[0] != '/') {
    *error = "the request target must be an absolute path";
    return false;
  }
  size_t start = 1;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    std::string_view raw = path.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (!raw.empty() || slash != std::string_view::npos) {
      std::string decoded;
      if (!PercentDecode(raw, false, &decoded)) {
        *error = "bad percent-encoding in the path";
        return false;
      }
      out->segments.push_back(std::move(decoded));
    }
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  // "/v1/top/" is "/v1/top".
  while (!out->segments.empty() && out->segments.back().empty()) out->segments.pop_back();
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    std::string name, value;
    if (!PercentDecode(pair.substr(0, eq), true, &name) ||
        !PercentDecode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1), true, &value)) {
      *error = "bad percent-encoding in the query string";
      return false;
    }
    out->query.emplace(std::move(name), std::move(value));
  }
  return true;
}

// ---- errors ---------------------------------------------------------------

bool StartsWith(std::string_view text, std::string_view prefix) { return text.substr(0, prefix.size()) == prefix; }

// A command's error reply as an HTTP error: status and a stable code.
HttpResponse CommandError(std::string_view message) {
  if (message == errors::kStorageFailed) return JsonErrorResponse(503, "storage_failed", message);
  if (!message.empty() && message[0] == '-') {
    // "-WRONGTYPE ..." style: the code is the first word.
    std::string_view rest = message.substr(1);
    std::string code(rest.substr(0, rest.find(' ')));
    for (char& c : code) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return JsonErrorResponse(400, code, rest.substr(std::min(rest.size(), code.size() + 1)));
  }
  if (StartsWith(message, "cursor ") && message.find(" is older than ") != std::string_view::npos) {
    // The feed was trimmed past the reader's cursor: records are gone.
    return JsonErrorResponse(410, "cursor_too_old", message);
  }
  std::string_view code = "bad_request";
  if (message == errors::kOverflow) {
    code = "overflow";
  } else if (message == errors::kNotInteger) {
    code = "not_integer";
  } else if (StartsWith(message, "invalid owner") || StartsWith(message, "invalid key")) {
    code = "invalid_name";
  } else if (StartsWith(message, "unknown interval")) {
    code = "invalid_interval";
  } else if (StartsWith(message, "AT ")) {
    code = "invalid_time";
  } else if (message.find("period") != std::string_view::npos || message.find("label") != std::string_view::npos) {
    code = "invalid_period";
  }
  return JsonErrorResponse(400, code, message);
}

std::string IsoUtc(int64_t unix_ms) {
  std::time_t seconds = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char text[32];
  std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

// ---- running commands --------------------------------------------------------

// The services routes share: the engine, the command table and the way a
// command runs for HTTP.
class Api final : public DurabilityGate {
 public:
  Api(core::Engine& engine, ServerState& server) : engine_(engine), server_(server), table_(*server.commands) {}

  core::Engine& engine() { return engine_; }
  ServerState& server() { return server_; }

  // A command's outcome: the reply as JSON, or the HTTP error to send.
  struct Outcome {
    std::optional<HttpResponse> error;
    json value;
    bool duplicate = false;  // an increment whose event id was already applied
  };

  // Runs argv through the command table exactly as a RESP connection does.
  // A write marks this thread's request as one whose response must wait for
  // the log (HttpApi::Handle hands the transport this gate and a ticket).
  Outcome Run(const std::vector<std::string>& argv, const HttpRequest& request) {
    std::vector<std::string_view> views(argv.begin(), argv.end());
    protocol::CommandArgs args(views.data(), views.size());
    ClientState client;
    client.address = request.peer;
    client.connected_at_ms = engine_.clock().NowMs();
    protocol::CommandContext context{engine_, server_, client, commands::HttpThreadStats(server_)};
    protocol::JsonSink sink;
    Outcome outcome;
    const protocol::CommandSpec* spec =
        commands::ResolveAndRun(table_, context, args, sink, [&] { return sink.error().has_value(); });
    if (spec != nullptr && (spec->flags & protocol::flags::kWrite)) t_request_wrote = true;
    if (sink.error()) {
      outcome.error = CommandError(*sink.error());
      return outcome;
    }
    outcome.value = std::move(sink.value());
    outcome.duplicate = client.last_write_duplicate;
    return outcome;
  }

  void set_on_storage_failure(std::function<void(const storage::Status&)> callback) {
    on_storage_failure_ = std::move(callback);
  }

  // DurabilityGate
  bool IsDurable(uint64_t ticket) const override { return engine_.IsDurable(ticket); }
  bool WaitDurable(uint64_t ticket) override {
    storage::Status durable = engine_.WaitDurable(ticket);
    if (durable.ok()) return true;
    ReportStorageFailure(durable);
    return false;
  }
  HttpResponse FailureResponse() const override {
    return JsonErrorResponse(503, "storage_failed", errors::kStorageFailed);
  }

  // Set by Run when a write ran for the request this thread is handling.
  static thread_local bool t_request_wrote;

 private:
  void ReportStorageFailure(const storage::Status& status) {
    if (on_storage_failure_ && !failure_reported_.exchange(true)) on_storage_failure_(status);
  }

  core::Engine& engine_;
  ServerState& server_;
  const protocol::CommandTable& table_;
  std::function<void(const storage::Status&)> on_storage_failure_;
  std::atomic<bool> failure_reported_{false};
};

// What a route gets: the request, the {owner}/{key} segments of its pattern in
// order, and the decoded query.
struct Call {
  Api& api;
  const HttpRequest& request;
  std::vector<std::string> params;
  const std::map<std::string, std::string>& query;

  std::optional<std::string> Query(const char* name) const {
    auto it = query.find(name);
    if (it == query.end()) return std::nullopt;
    return it->second;
  }
  // X-Actor as a trailing "BY actor" for administrative commands.
  void AppendActor(std::vector<std::string>& argv) const {
    std::string_view actor = request.Header("x-actor");
    if (!actor.empty()) {
      argv.emplace_back("BY");
      argv.emplace_back(actor);
    }
  }
};

// The JSON body as an object ({} when empty), or the 400 to send.
std::optional<HttpResponse> ParseBody(const HttpRequest& request, json* body) {
  if (request.body.find_first_not_of(" \t\r\n") == std::string::npos) {
    *body = json::object();
    return std::nullopt;
  }
  *body = json::parse(request.body, nullptr, /*allow_exceptions=*/false);
  if (body->is_discarded()) return JsonErrorResponse(400, "invalid_json", "the request body is not valid JSON");
  if (!body->is_object()) return JsonErrorResponse(400, "invalid_json", "the request body must be a JSON object");
  return std::nullopt;
}

// Body field as a command argument: integers stay integers, strings stay
// strings; anything else is a 400 naming the field.
std::optional<HttpResponse> FieldArg(const json& body, const char* name, bool want_integer, std::string* out) {
  const json& field = body.at(name);
  if (want_integer) {
    if (field.is_number_integer()) {
      *out = field.is_number_unsigned() ? std::to_string(field.get<uint64_t>()) : std::to_string(field.get<int64_t>());
      return std::nullopt;
    }
    return JsonErrorResponse(400, "invalid_field", std::string("\"") + name + "\" must be an integer");
  }
  if (field.is_string()) {
    *out = field.get<std::string>();
    return std::nullopt;
  }
  return JsonErrorResponse(400, "invalid_field", std::string("\"") + name + "\" must be a string");
}

// Label and start of the period a request names (default: current), in the
// owner's time zone, for replies that say which period they are about.
void DescribePeriod(Api& api, std::string_view owner, std::string_view interval_name,
                    std::optional<std::string> period_arg, json& out) {
  auto interval = core::ParseInterval(interval_name);
  if (!interval) return;
  out["interval"] = std::string(core::IntervalName(*interval));
  if (*interval == core::Interval::kTotal) {
    out["period"] = "total";
    out["start"] = nullptr;
    return;
  }
  const core::TimeZone zone =
      owner.empty() ? api.engine().counter_options().default_time_zone : api.engine().owners().TimeZoneOf(owner);
  core::PeriodId period = 0;
  std::string error;
  if (!core::ParsePeriod(*interval, period_arg.value_or("current"), zone, api.engine().clock().NowMs(), &period,
                         &error)) {
    return;
  }
  out["period"] = core::PeriodLabel(*interval, period, zone);
  const int64_t start = core::PeriodStartMs(*interval, period, zone);
  out["start"] = IsoUtc(start);
  out["start_ms"] = start;
}

// ---- routes --------------------------------------------------------------------

HttpResponse Health(Call&) { return Json(200, {{"status", "ok"}}); }

HttpResponse Ready(Call& call) {
  storage::Status health = call.api.engine().health();
  if (!health.ok()) return JsonErrorResponse(503, "storage_failed", health.ToString());
  if (!call.api.server().ready.load()) return JsonErrorResponse(503, "not_ready", "the daemon is starting or stopping");
  return Json(200, {{"status", "ready"}});
}

HttpResponse Metrics(Call& call) {
  HttpResponse response;
  response.content_type = std::string(commands::kPrometheusContentType);
  response.body = commands::RenderPrometheus(call.api.engine(), call.api.server());
  return response;
}

HttpResponse Stats(Call& call) { return Json(200, commands::StatsJson(call.api.engine(), call.api.server())); }

// [interval [period]] from the query, as command arguments.
std::optional<HttpResponse> CellArgs(const Call& call, std::vector<std::string>& argv) {
  auto interval = call.Query("interval");
  auto period = call.Query("period");
  if (period && !interval) return JsonErrorResponse(400, "bad_request", "'period' needs an 'interval'");
  if (interval) argv.push_back(*interval);
  if (period) argv.push_back(*period);
  return std::nullopt;
}

// GET /v1/owners/{owner}/counters?interval=&period=
HttpResponse OwnerCounters(Call& call) {
  const std::string& owner = call.params[0];
  std::vector<std::string> argv{"CTR.ALL", owner};
  if (auto error = CellArgs(call, argv)) return *error;
  auto outcome = call.api.Run(argv, call.request);
  if (outcome.error) return *outcome.error;
  json counters = json::object();
  for (size_t i = 0; i + 1 < outcome.value.size(); i += 2)
    counters[outcome.value[i].get<std::string>()] = outcome.value[i + 1];
  json body{{"owner", owner}};
  DescribePeriod(call.api, owner, call.Query("interval").value_or("total"), call.Query("period"), body);
  body["counters"] = std::move(counters);
  return Json(200, body);
}

// GET /v1/owners/{owner}/counters/{key}?interval=&period=
HttpResponse GetCounter(Call& call) {
  const std::string& owner = call.params[0];
  const std::string& key = call.params[1];
  std::vector<std::string> argv{"CTR.GET", owner, key};
  if (auto error = CellArgs(call, argv)) return *error;
  auto outcome = call.api.Run(argv, call.request);
  if (outcome.error) return *outcome.error;
  json body{{"owner", owner}, {"key", key}};
  DescribePeriod(call.api, owner, call.Query("interval").value_or("total"), call.Query("period"), body);
  body["value"] = outcome.value;
  return Json(200, body);
}

// The optional "interval" and "period" of a JSON body as command arguments.
std::optional<HttpResponse> CellFields(const json& body, std::vector<std::string>& argv) {
  if (body.contains("period") && !body.contains("interval")) {
    return JsonErrorResponse(400, "invalid_field", "\"period\" needs an \"interval\"");
  }
  for (const char* name : {"interval", "period"}) {
    if (!body.contains(name)) continue;
    std::string arg;
    if (auto error = FieldArg(body, name, false, &arg)) return *error;
    argv.push_back(arg);
  }
  return std::nullopt;
}

// SET / RECOUNT / RESET with the X-Actor as BY; {"owner","key","status":"ok"}.
HttpResponse RunAdministrative(Call& call, std::vector<std::string>& argv) {
  call.AppendActor(argv);
  auto outcome = call.api.Run(argv, call.request);
  if (outcome.error) return *outcome.error;
  return Json(200, {{"owner", argv[1]}, {"key", argv[2]}, {"status", "ok"}});
}

// PUT /v1/owners/{owner}/counters/{key}
//   {"value": n [, "interval": i [, "period": p]]}           -> CTR.SET
//   {"interval": i, "periods": {"<period>": n, ...}}         -> CTR.RECOUNT (one atomic step)
HttpResponse PutCounter(Call& call) {
  const std::string& owner = call.params[0];
  const std::string& key = call.params[1];
  json body;
  if (auto error = ParseBody(call.request, &body)) return *error;
  std::vector<std::string> argv;
  if (body.contains("periods")) {
    if (!body.contains("interval")) return JsonErrorResponse(400, "invalid_field", "\"periods\" needs an \"interval\"");
    const json& periods = body["periods"];
    if (!periods.is_object() || periods.empty()) {
      return JsonErrorResponse(400, "invalid_field", "\"periods\" must be a non-empty object of period: value");
    }
    std::string interval;
    if (auto error = FieldArg(body, "interval", false, &interval)) return *error;
    argv = {"CTR.RECOUNT", owner, key, interval};
    for (const auto& [period, value] : periods.items()) {
      if (!value.is_number_integer()) {
        return JsonErrorResponse(400, "invalid_field", "the value of period \"" + period + "\" must be an integer");
      }
      argv.push_back(period);
      argv.push_back(value.is_number_unsigned() ? std::to_string(value.get<uint64_t>())
                                                : std::to_string(value.get<int64_t>()));
    }
  } else {
    if (!body.contains("value")) return JsonErrorResponse(400, "invalid_field", "missing \"value\" (or \"periods\")");
    std::string value;
    if (auto error = FieldArg(body, "value", true, &value)) return *error;
    argv = {"CTR.SET", owner, key, value};
    if (auto error = CellFields(body, argv)) return *error;
  }
  return RunAdministrative(call, argv);
}

// POST /v1/owners/{owner}/counters/{key}/reset {"interval", "period"}
HttpResponse ResetCounter(Call& call) {
  const std::string& owner = call.params[0];
  const std::string& key = call.params[1];
  json body;
  if (auto error = ParseBody(call.request, &body)) return *error;
  std::vector<std::string> argv{"CTR.RESET", owner, key};
  if (auto error = CellFields(body, argv)) return *error;
  return RunAdministrative(call, argv);
}

// DELETE /v1/owners/{owner}/counters/{key}?interval=
HttpResponse DeleteCounter(Call& call) {
  const std::string& owner = call.params[0];
  const std::string& key = call.params[1];
  std::vector<std::string> argv{"CTR.DEL", owner, key};
  if (auto interval = call.Query("interval")) argv.push_back(*interval);
  call.AppendActor(argv);
  auto outcome = call.api.Run(argv, call.request);
  if (outcome.error) return *outcome.error;
  return Json(200, {{"owner", owner}, {"key", key}, {"deleted", outcome.value}});
}

// POST /v1/owners/{owner}/counters/{key}/increment {"by", "at", "id"}
HttpResponse Increment(Call& call) {
  const std::string& owner = call.params[0];
  const std::string& key = call.params[1];
  json body;
  if (auto error = ParseBody(call.request, &body)) return *error;
  std::string by = "1";
  if (body.contains("by")) {
    if (auto error = FieldArg(body, "by", true, &by)) return *error;
  }
  std::vector<std::string> argv{"CTR.INCRBY", owner, key, by};
  if (body.contains("at")) {
    std::string at;
    if (auto error = FieldArg(body, "at", true, &at)) return *error;
    argv.insert(argv.end(), {"AT", at});
  }
  if (body.contains("id")) {
    std::string id;
    if (auto error = FieldArg(body, "id", false, &id)) return *error;
    argv.insert(argv.end(), {"ID", id});
  }
  auto outcome = call.api.Run(argv, call.request);
  if (outcome.error) return *outcome.error;
  if (outcome.duplicate) {
    return Json(409, {{"error",
                       {{"code", "duplicate"},
                        {"message", "event id '" + body["id"].get<std::string>() +
                                        "' was already applied within the dedupe window; nothing changed"}}},
                      {"owner", owner},
                      {"key", key},
                      {"total", outcome.value},
                      {"duplicate", true}});
  }
  return Json(200, {{"owner", owner}, {"key", key}, {"total", outcome.value}, {"duplicate", false}});
}

// GET /v1/owners/{owner}/counters/{key}/history?interval=&count=&from=
HttpResponse History(Call& call) {
  const std::string& owner = call.params[0];
  const std::string& key = call.params[1];
  auto interval = call.Query("interval");
  if (!interval) return JsonErrorResponse(400, "bad_request", "missing query parameter 'interval'");
  std::vector<std::string> argv{"CTR.HISTORY", owner, key, *interval, call.Query("count").value_or("30")};
  if (auto from = call.Query("from")) argv.insert(argv.end(), {"FROM", *from});
  auto outcome = call.api.Run(argv, call.request);
  if (outcome.error) return *outcome.error;
  json history = json::array();
  for (const json& pair : outcome.value) history.push_back({{"period", pair[0]}, {"value", pair[1]}});
  return Json(200, {{"owner", owner}, {"key", key}, {"interval", *interval}, {"history", std::move(history)}});
}

// GET /v1/owners/{owner}/counters/{key}/sum?interval=&from=&to=
HttpResponse Sum(Call& call) {
  const std::string& owner = call.params[0];
  const std::string& key = call.params[1];
  auto interval = call.Query("interval");
  if (!interval) return JsonErrorResponse(400, "bad_request", "missing query parameter 'interval'");
  auto from = call.Query("from");
  auto to = call.Query("to");
  if (from.has_value() != to.has_value())
    return JsonErrorResponse(400, "bad_request", "give both 'from' and 'to', or neither");
  std::vector<std::string> argv{"CTR.SUM", owner, key, *interval};
  if (from) argv.insert(argv.end(), {"FROM", *from, "TO", *to});
  auto outcome = call.api.Run(argv, call.request);
  if (outcome.error) return *outcome.error;
  json body{{"owner", owner}, {"key", key}, {"interval", *interval}, {"sum", outcome.value}};
  if (from) {
    body["from"] = *from;
    body["to"] = *to;
  }
  return Json(200, body);
}

// GET /v1/top?key=&interval=&period=&limit=&prefix=
HttpResponse Top(Call& call) {
  auto key = call.Query("key");
  if (!key) return JsonErrorResponse(400, "bad_request", "missing query parameter 'key'");
  std::string interval = call.Query("interval").value_or("total");
  std::vector<std::string> argv{"CTR.TOP", *key, interval};
  if (auto period = call.Query("period")) argv.push_back(*period);
  if (auto limit = call.Query("limit")) argv.insert(argv.end(), {"LIMIT", *limit});
  if (auto prefix = call.Query("prefix")) argv.insert(argv.end(), {"PREFIX", *prefix});
  auto outcome = call.api.Run(argv, call.request);
  if (outcome.error) return *outcome.error;
  json owners = json::array();
  for (const json& pair : outcome.value) owners.push_back({{"owner", pair[0]}, {"value", pair[1]}});
  json body{{"key", *key}};
  DescribePeriod(call.api, "", interval, call.Query("period"), body);
  body["owners"] = std::move(owners);
  return Json(200, body);
}

// CTR.CELLS arguments from the query: prefix, type, key, interval, period, cursor, limit.
std::vector<std::string> CellsArgs(const Call& call, std::optional<std::string> interval,
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

json NextCursor(const json& cursor) { return cursor == "0" ? json(nullptr) : cursor; }

// GET /v1/counters?prefix=&type=&key=&interval=&period=&cursor=&limit= — the
// admin table. interval defaults to total, period to current; interval=all
// lists every cell.
HttpResponse Counters(Call& call) {
  std::optional<std::string> interval = call.Query("interval").value_or("total");
  std::optional<std::string> period = call.Query("period");
  if (*interval == "all") {
    if (period) return JsonErrorResponse(400, "bad_request", "'period' needs a single interval, not 'all'");
    interval.reset();
  } else if (!period) {
    period = "current";
  }
  int64_t limit = 100;
  if (auto text = call.Query("limit")) {
    if (!protocol::ParseInt64(*text, &limit))
      return JsonErrorResponse(400, "not_integer", "'limit' must be an integer");
  }
  auto outcome =
      call.api.Run(CellsArgs(call, interval, period, call.Query("cursor").value_or(""), limit), call.request);
  if (outcome.error) return *outcome.error;
  return Json(200, {{"rows", CellRows(outcome.value[1])}, {"next_cursor", NextCursor(outcome.value[0])}});
}

// GET /v1/owners?prefix=&cursor=&limit=
HttpResponse Owners(Call& call) {
  std::vector<std::string> argv{"CTR.OWNERS"};
  if (auto prefix = call.Query("prefix")) argv.insert(argv.end(), {"PREFIX", *prefix});
  if (auto cursor = call.Query("cursor")) argv.insert(argv.end(), {"CURSOR", *cursor});
  if (auto limit = call.Query("limit")) argv.insert(argv.end(), {"COUNT", *limit});
  auto outcome = call.api.Run(argv, call.request);
  if (outcome.error) return *outcome.error;
  return Json(200, {{"owners", outcome.value[1]}, {"next_cursor", NextCursor(outcome.value[0])}});
}

// GET|PUT /v1/owners/{owner}/timezone {"timezone": "Europe/Berlin"}
HttpResponse GetTimeZone(Call& call) {
  auto outcome = call.api.Run({"OWNER.TZ", call.params[0]}, call.request);
  if (outcome.error) return *outcome.error;
  return Json(200, {{"owner", call.params[0]}, {"timezone", outcome.value}});
}

HttpResponse PutTimeZone(Call& call) {
  json body;
  if (auto error = ParseBody(call.request, &body)) return *error;
  if (!body.contains("timezone")) return JsonErrorResponse(400, "invalid_field", "missing \"timezone\"");
  std::string zone;
  if (auto error = FieldArg(body, "timezone", false, &zone)) return *error;
  auto outcome = call.api.Run({"OWNER.TZ", call.params[0], zone}, call.request);
  if (outcome.error) return *outcome.error;
  return Json(200, {{"owner", call.params[0]}, {"timezone", zone}});
}

// GET /v1/export?interval=&period=&format=csv|ndjson (&prefix=&type=&key=):
// every cell that holds a value, streamed page by page (256 owners per
// CTR.CELLS call) so memory stays constant however many cells there are.
HttpResponse Export(Call& call) {
  const std::string format = call.Query("format").value_or("csv");
  if (format != "csv" && format != "ndjson") {
    return JsonErrorResponse(400, "bad_request", "format must be csv or ndjson");
  }
  auto interval = call.Query("interval");
  auto period = call.Query("period");
  if (period && !interval) return JsonErrorResponse(400, "bad_request", "'period' needs an 'interval'");
  constexpr int64_t kOwnersPerPage = 256;
  // The first page runs now, so bad arguments are a 400 and not a broken stream.
  auto first = call.api.Run(CellsArgs(call, interval, period, "", kOwnersPerPage), call.request);
  if (first.error) return *first.error;

  struct State {
    Api* api;
    HttpRequest request;  // the arguments' source for later pages (a copy: the stream outlives the call)
    std::map<std::string, std::string> query;
    std::optional<std::string> interval, period;
    bool csv;
    json page;
    bool header_sent = false;
    bool finished = false;
  };
  auto state = std::make_shared<State>(
      State{&call.api, call.request, call.query, interval, period, format == "csv", std::move(first.value)});
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
    Call next{*state->api, state->request, {}, state->query};
    auto page =
        state->api->Run(CellsArgs(next, state->interval, state->period, cursor, kOwnersPerPage), state->request);
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

// CHANGES.READ's [next, [[seq, owner, key, interval, period, value], ...]]
// as {"changes": [{...}], "next": seq}; a delete has "deleted": true.
json ChangesJson(const json& reply) {
  json changes = json::array();
  for (const json& r : reply[1]) {
    json change{{"seq", r[0]}, {"owner", r[1]}, {"key", r[2]}, {"interval", r[3]}, {"period", r[4]}, {"value", r[5]}};
    change["deleted"] = r[5].is_null();
    changes.push_back(std::move(change));
  }
  return {{"changes", std::move(changes)}, {"next", reply[0]}};
}

// AUDIT.READ's [next, [[seq, time-ms, actor, command, owner, key, details], ...]]
// as {"audit": [{...}], "next": seq}, details as a JSON object.
json AuditJson(const json& reply) {
  json records = json::array();
  for (const json& r : reply[1]) {
    json details = json::parse(r[6].get<std::string>(), nullptr, false);
    if (details.is_discarded()) details = r[6];
    records.push_back({{"seq", r[0]},
                       {"time_ms", r[1]},
                       {"time", IsoUtc(r[1].get<int64_t>())},
                       {"actor", r[2]},
                       {"command", r[3]},
                       {"owner", r[4]},
                       {"key", r[5]},
                       {"details", std::move(details)}});
  }
  return {{"audit", std::move(records)}, {"next", reply[0]}};
}

// GET /v1/changes?since=&limit= and GET /v1/audit?since=&limit=: one page
// of a feed command (CHANGES.READ, AUDIT.READ), shaped by `shape`.
HttpResponse FeedPage(Call& call, const char* command, json (*shape)(const json&)) {
  std::vector<std::string> argv{command, call.Query("since").value_or("0")};
  if (auto limit = call.Query("limit")) argv.insert(argv.end(), {"COUNT", *limit});
  auto outcome = call.api.Run(argv, call.request);
  if (outcome.error) return *outcome.error;
  return Json(200, shape(outcome.value));
}

HttpResponse Changes(Call& call) { return FeedPage(call, "CHANGES.READ", ChangesJson); }
HttpResponse Audit(Call& call) { return FeedPage(call, "AUDIT.READ", AuditJson); }

thread_local bool Api::t_request_wrote = false;

struct Route {
  std::string_view method;
  std::string_view pattern;  // "{x}" matches one path segment
  HttpResponse (*handle)(Call&);
};

// Every route of the API (docs/http.md lists them with examples).
const Route kRoutes[] = {
    {"GET", "/health", Health},
    {"GET", "/ready", Ready},
    {"GET", "/metrics", Metrics},
    {"GET", "/v1/stats", Stats},
    {"GET", "/v1/owners", Owners},
    {"GET", "/v1/owners/{owner}/counters", OwnerCounters},
    {"GET", "/v1/owners/{owner}/counters/{key}", GetCounter},
    {"PUT", "/v1/owners/{owner}/counters/{key}", PutCounter},
    {"DELETE", "/v1/owners/{owner}/counters/{key}", DeleteCounter},
    {"POST", "/v1/owners/{owner}/counters/{key}/increment", Increment},
    {"POST", "/v1/owners/{owner}/counters/{key}/reset", ResetCounter},
    {"GET", "/v1/owners/{owner}/counters/{key}/history", History},
    {"GET", "/v1/owners/{owner}/counters/{key}/sum", Sum},
    {"GET", "/v1/owners/{owner}/timezone", GetTimeZone},
    {"PUT", "/v1/owners/{owner}/timezone", PutTimeZone},
    {"GET", "/v1/top", Top},
    {"GET", "/v1/counters", Counters},
    {"GET", "/v1/export", Export},
    {"GET", "/v1/changes", Changes},
    {"GET", "/v1/audit", Audit},
};

std::vector<std::string_view> Split(std::string_view pattern) {
  std::vector<std::string_view> parts;
  size_t start = 1;
  while (start <= pattern.size()) {
    size_t slash = pattern.find('/', start);
    parts.push_back(pattern.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return parts;
}

// kRoutes' patterns split into segments once, in kRoutes' order.
const std::vector<std::vector<std::string_view>>& RouteParts() {
  static const auto* parts = [] {
    auto* all = new std::vector<std::vector<std::string_view>>();
    for (const Route& route : kRoutes) all->push_back(Split(route.pattern));
    return all;
  }();
  return *parts;
}

bool Matches(const std::vector<std::string_view>& parts, const std::vector<std::string>& segments,
             std::vector<std::string>* params) {
  if (parts.size() != segments.size()) return false;
  params->clear();
  for (size_t i = 0; i < parts.size(); ++i) {
    if (!parts[i].empty() && parts[i].front() == '{') {
      params->push_back(segments[i]);
    } else if (parts[i] != segments[i]) {
      return false;
    }
  }
  return true;
}

}  // namespace

struct HttpApi::Impl {
  Impl(core::Engine& engine, ServerState& server) : api(engine, server) {}
  Api api;
};

HttpApi::HttpApi(core::Engine& engine, ServerState& server) : impl_(std::make_unique<Impl>(engine, server)) {}
HttpApi::~HttpApi() = default;

void HttpApi::set_on_storage_failure(std::function<void(const storage::Status&)> callback) {
  impl_->api.set_on_storage_failure(std::move(callback));
}

HttpResponse HttpApi::Handle(const HttpRequest& request) {
  Target target;
  std::string error;
  if (!ParseTarget(request.target, &target, &error)) return JsonErrorResponse(400, "bad_request", error);
  const bool head = request.method == "HEAD";
  std::vector<std::string> params;
  std::string allowed;
  for (size_t index = 0; index < std::size(kRoutes); ++index) {
    const Route& route = kRoutes[index];
    if (!Matches(RouteParts()[index], target.segments, &params)) continue;
    if (route.method == request.method || (head && route.method == "GET")) {
      Call call{impl_->api, request, std::move(params), target.query};
      Api::t_request_wrote = false;
      HttpResponse response = route.handle(call);
      if (Api::t_request_wrote) {
        // Sent once the log has every write so far (this one included).
        response.durability = &impl_->api;
        response.durable_ticket = impl_->api.engine().Ticket();
      }
      return response;
    }
    if (!allowed.empty()) allowed += ", ";
    allowed += route.method;
  }
  if (!allowed.empty()) {
    HttpResponse response = JsonErrorResponse(405, "method_not_allowed",
                                              request.method + " is not allowed here (allowed: " + allowed + ")");
    response.headers.emplace_back("Allow", allowed);
    return response;
  }
  return JsonErrorResponse(404, "not_found", "no such route: " + std::string(request.target.substr(0, 256)));
}

}  // namespace tally::net
