// The HTTP API's core: routing a request to its declared route, the checks
// of net/http_fields.h, running commands through the command table into a
// JsonSink, and rendering errors by their code. The routes themselves are in
// http_routes_*.cc.

#include "net/http_api.h"

#include <atomic>
#include <ctime>
#include <string>
#include <vector>

#include "commands/dispatch.h"
#include "commands/reply_status.h"
#include "core/feeds.h"
#include "core/shard_set.h"
#include "net/dashboard.h"
#include "net/http_fields.h"
#include "net/http_route.h"
#include "protocol/json_sink.h"

namespace tally::net {

namespace errors = protocol::errors;

namespace {
// Defined with the request checks below.
HttpIdentity RequestIdentity(const AccessControl& access, const HttpRequest& request);
}  // namespace

// The services routes share: the engine, the command table and the way a
// command runs for HTTP. Also the transport's durability gate for writes.
class Api final : public DurabilityGate {
 public:
  Api(core::Engine& engine, ServerState& server) : engine_(engine), server_(server), table_(*server.commands) {}

  core::Engine& engine() { return engine_; }
  ServerState& server() { return server_; }

  struct Result {
    std::optional<protocol::Error> error;
    json value;
    bool duplicate = false;
  };

  // Runs argv through the command table exactly as a RESP connection does.
  // A write marks this thread's request as one whose response must wait for
  // the log (HttpApi::Handle hands the transport this gate and a ticket).
  Result Run(const std::vector<std::string>& argv, const HttpRequest& request) {
    std::vector<std::string_view> views(argv.begin(), argv.end());
    protocol::CommandArgs args(views.data(), views.size());
    ClientState client;
    client.identity = t_identity.role;
    // The audit trail's actor of a command given no BY: who the request is,
    // never the peer's address (RouteCall::AppendActor passes BY anyway).
    client.name = t_identity.name;
    client.address = request.peer;
    client.connected_at_ms = engine_.clock().NowMs();
    protocol::CommandContext context{engine_, server_, client, commands::HttpThreadStats(server_)};
    protocol::JsonSink sink;
    const uint64_t appends_before = core::ThreadLogAppends();
    const protocol::CommandSpec* spec =
        commands::ResolveAndRun(table_, context, args, sink, [&] { return sink.error().has_value(); });
    // An error to a write that appended nothing (refused) need not wait for the log.
    const bool refused = sink.error().has_value() && core::ThreadLogAppends() == appends_before;
    if (spec != nullptr && (spec->flags & protocol::flags::kWrite) && !refused) t_request_wrote = true;
    Result result;
    if (sink.error()) {
      result.error = *sink.error();
      return result;
    }
    result.value = std::move(sink.value());
    result.duplicate = client.last_write_duplicate;
    return result;
  }

  void set_on_storage_failure(std::function<void(const storage::Status&)> callback) {
    on_storage_failure_ = std::move(callback);
  }

  // DurabilityGate
  bool IsDurable(uint64_t ticket) const override { return engine_.IsDurable(ticket); }
  bool WaitDurable(uint64_t ticket) override {
    storage::Status durable = engine_.WaitDurable(ticket);
    if (durable.ok()) return true;
    if (on_storage_failure_ && !failure_reported_.exchange(true)) on_storage_failure_(durable);
    return false;
  }
  HttpResponse FailureResponse() const override {
    if (engine_.write_state() == storage::WriteState::kDiskFull) {
      return ErrorResponse(protocol::Error(protocol::ErrorCode::kDiskFull, errors::kDiskFullOutcomeUnknown));
    }
    return ErrorResponse(protocol::Error(protocol::ErrorCode::kStorageFailed, errors::kStorageFailed));
  }

  // Set by Run when a write ran for the request this thread is handling.
  static thread_local bool t_request_wrote;
  // Who the request this thread is handling is (its Bearer token: role and
  // name), set by HttpApi::Handle before the route runs.
  static thread_local HttpIdentity t_identity;

 private:
  core::Engine& engine_;
  ServerState& server_;
  const protocol::CommandTable& table_;
  std::function<void(const storage::Status&)> on_storage_failure_;
  std::atomic<bool> failure_reported_{false};
};

thread_local bool Api::t_request_wrote = false;
thread_local HttpIdentity Api::t_identity{Identity::kAdmin, std::string(kLocalName)};

core::Engine& ApiEngine(Api& api) { return api.engine(); }
ServerState& ApiServer(Api& api) { return api.server(); }

// ---- JSON and errors -----------------------------------------------------------

std::string Dump(const json& value) { return value.dump(-1, ' ', false, json::error_handler_t::replace); }

HttpResponse Json(int status, const json& body) {
  HttpResponse response;
  response.status = status;
  response.body = Dump(body);
  return response;
}

namespace {

HttpResponse RenderError(const protocol::Error& error, const std::string& message) {
  return Json(protocol::HttpStatus(error.code()),
              {{"error", {{"code", std::string(protocol::ErrorName(error.code()))}, {"message", message}}}});
}

bool FeedsArgument(const FieldSpec& field, std::string_view argument) {
  for (std::string_view fed : Words(field.feeds)) {
    if (fed == argument) return true;
  }
  return false;
}

}  // namespace

HttpResponse ErrorResponse(const protocol::Error& error) { return RenderError(error, error.Message()); }

HttpResponse RouteCall::Fail(const protocol::Error& error) const {
  const RouteSpec* spec = &route;
  return RenderError(error, error.Message([spec](std::string_view argument) -> std::string {
    for (const FieldSpec& field : spec->fields) {
      if (FeedsArgument(field, argument)) return std::string(field.name);
    }
    return {};
  }));
}

std::string IsoUtc(int64_t unix_ms) {
  std::time_t seconds = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char text[32];
  std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

std::optional<protocol::Error> DescribePeriod(Api& api, std::string_view owner, std::string_view interval_name,
                                              std::optional<std::string> period_arg, json& out) {
  auto interval = core::ParseInterval(interval_name);
  if (!interval) return std::nullopt;
  out["interval"] = std::string(core::IntervalName(*interval));
  if (*interval == core::Interval::kTotal) {
    out["period"] = "total";
    out["start"] = nullptr;
    return std::nullopt;
  }
  // An owner whose settings cannot be read (already logged) fails the whole
  // reply: a period described in the daemon's zone instead would be wrong.
  core::TimeZone zone = api.engine().counter_options().default_time_zone;
  if (!owner.empty()) {
    auto owner_zone = api.engine().owners().TimeZoneOf(owner);
    if (owner_zone.status == core::OpStatus::kReadFailed) return errors::StorageReadFailed(owner_zone.failed_family);
    if (owner_zone.ok()) zone = owner_zone.value;
  }
  core::PeriodId period = 0;
  std::string error;
  if (!core::ParsePeriod(*interval, period_arg.value_or("current"), zone, api.engine().clock().NowMs(), &period,
                         &error)) {
    return std::nullopt;
  }
  out["period"] = core::PeriodLabel(*interval, period, zone);
  const int64_t start = core::PeriodStartMs(*interval, period, zone);
  out["start"] = IsoUtc(start);
  out["start_ms"] = start;
  return std::nullopt;
}

HttpResponse FeedPage(RouteCall& call, const char* command, json (*shape)(const json&)) {
  std::vector<std::string> argv{command, call.Query("since").value_or("0")};
  if (auto limit = call.Query("limit")) argv.insert(argv.end(), {"COUNT", *limit});
  auto outcome = call.Run(argv);
  if (outcome.error) return *outcome.error;
  return Json(200, shape(outcome.value));
}

HttpResponse RecordPage(RouteCall& call, const char* command,
                        std::initializer_list<std::pair<std::string_view, std::string_view>> filters,
                        json (*shape)(const json&)) {
  std::vector<std::string> argv{command, call.Query("since").value_or("0")};
  if (auto limit = call.Query("limit")) argv.insert(argv.end(), {"COUNT", *limit});
  if (call.Query("order").value_or("asc") == "desc") argv.emplace_back("REV");
  if (auto before = call.Query("before")) argv.insert(argv.end(), {"BEFORE", *before});
  if (auto scan = call.Query("scan")) argv.insert(argv.end(), {"SCAN", *scan});
  for (const auto& [name, option] : filters) {
    if (auto value = call.Query(name)) argv.insert(argv.end(), {std::string(option), *value});
  }
  auto outcome = call.Run(argv);
  if (outcome.error) return *outcome.error;
  return Json(200, shape(outcome.value));
}

// ---- RouteCall -------------------------------------------------------------------

std::optional<std::string> RouteCall::Query(std::string_view name) const {
  auto it = query.find(std::string(name));
  if (it == query.end()) return std::nullopt;
  return it->second;
}

std::optional<std::string> RouteCall::BodyArg(std::string_view name) const {
  auto it = body.find(name);
  if (it == body.end()) return std::nullopt;
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number_unsigned()) return std::to_string(it->get<uint64_t>());
  if (it->is_number_integer()) return std::to_string(it->get<int64_t>());
  return Dump(*it);
}

std::string AuditActor(std::string_view identity, std::string_view label) {
  if (label.empty() || label == identity) return std::string(identity);
  constexpr std::string_view kOpen = " (as: ";
  constexpr size_t kMaxActor = 128;  // core::ValidActor
  std::string actor(identity);
  actor += kOpen;
  const size_t room = kMaxActor - std::min(kMaxActor, actor.size() + 1);
  if (label.size() <= room) {
    actor += label;
  } else {
    // Cut to fit: the identity is never the part that gives way.
    std::string_view kept = label.substr(0, room >= 3 ? room - 3 : 0);
    while (!kept.empty() && kept.back() == ' ') kept.remove_suffix(1);
    actor += kept;
    actor += "...";
  }
  actor += ')';
  return actor;
}

void RouteCall::AppendActor(std::vector<std::string>& argv) const {
  const HttpIdentity identity = RequestIdentity(api.server().access, request);
  std::string_view label = request.Header("x-actor");
  argv.emplace_back("BY");
  if (!label.empty() && !core::ValidActor(label)) {
    // The command refuses it (invalid_actor, naming X-Actor) and changes nothing.
    argv.emplace_back(label);
    return;
  }
  argv.push_back(AuditActor(identity.name, label));
}

Outcome RouteCall::Run(const std::vector<std::string>& argv) const {
  // The identity of this call's own request: a stream's later pages (the
  // alert stream, an export) run after other requests on the same thread.
  Api::t_identity = RequestIdentity(api.server().access, request);
  Api::Result result = api.Run(argv, request);
  Outcome outcome;
  if (result.error) {
    outcome.error = Fail(*result.error);
    return outcome;
  }
  outcome.value = std::move(result.value);
  outcome.duplicate = result.duplicate;
  return outcome;
}

// ---- route tables ------------------------------------------------------------------

std::vector<std::string_view> Words(std::string_view list) {
  std::vector<std::string_view> words;
  size_t start = 0;
  while (start < list.size()) {
    size_t space = list.find(' ', start);
    if (space == std::string_view::npos) space = list.size();
    if (space > start) words.push_back(list.substr(start, space - start));
    start = space + 1;
  }
  return words;
}

std::string_view FieldTypeName(FieldType type) {
  switch (type) {
    case FieldType::kString:
      return "string";
    case FieldType::kInteger:
      return "integer";
    case FieldType::kBoolean:
      return "boolean";
    case FieldType::kEnum:
      return "enum";
    case FieldType::kPeriodMap:
      return "object";
    case FieldType::kCellList:
    case FieldType::kStringList:
      return "array";
    case FieldType::kObject:
      return "object";
    case FieldType::kObjectList:
      return "array";
  }
  return "?";
}

std::string_view FieldSourceName(FieldSource source) {
  switch (source) {
    case FieldSource::kPath:
      return "path";
    case FieldSource::kQuery:
      return "query";
    case FieldSource::kBody:
      return "body";
    case FieldSource::kHeader:
      return "header";
  }
  return "?";
}

std::span<const RouteSpec> AllRoutes() {
  static const std::vector<RouteSpec> all = [] {
    std::vector<RouteSpec> routes;
    for (auto family :
         {ServerRoutes(), CounterRoutes(), TableRoutes(), FeedRoutes(), QuotaRoutes(), MeterRoutes(), UniqueRoutes()}) {
      routes.insert(routes.end(), family.begin(), family.end());
    }
    return routes;
  }();
  return all;
}

namespace {

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

// AllRoutes()' patterns split into segments once, in the same order.
const std::vector<std::vector<std::string_view>>& RouteParts() {
  static const auto* parts = [] {
    auto* all = new std::vector<std::vector<std::string_view>>();
    for (const RouteSpec& route : AllRoutes()) all->push_back(Split(route.pattern));
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

// ---- HttpApi -------------------------------------------------------------------------

HttpApi::HttpApi(core::Engine& engine, ServerState& server) : api_(std::make_unique<Api>(engine, server)) {}
HttpApi::~HttpApi() = default;

void HttpApi::set_on_storage_failure(std::function<void(const storage::Status&)> callback) {
  api_->set_on_storage_failure(std::move(callback));
}

namespace {

// The identity of a request's `Authorization: Bearer <token>` (docs/http.md,
// "Authentication"): its role and name; admin "local" for everyone while no
// secret is configured.
HttpIdentity RequestIdentity(const AccessControl& access, const HttpRequest& request) {
  if (!access.enabled()) return access.Unauthenticated();
  std::string_view header = request.Header("authorization");
  constexpr std::string_view kBearer = "Bearer ";
  if (header.size() <= kBearer.size() || !commands::EqualsIgnoreCase(header.substr(0, kBearer.size()), kBearer)) {
    return {};
  }
  return access.IdentifyBearer(header.substr(kBearer.size()));
}

// /health and /ready answer without a token (probes and load balancers).
bool IsOpenProbe(const HttpRequest& request, const Target& target) {
  return (request.method == "GET" || request.method == "HEAD") && target.segments.size() == 1 &&
         (target.segments[0] == "health" || target.segments[0] == "ready");
}

}  // namespace

// CORS for an allowed other site's page (http_allowed_origins): the reply
// names the origin, and may be read by that page's script.
static void AddCorsHeaders(const HttpRequest& request, HttpResponse& response) {
  response.headers.emplace_back("Access-Control-Allow-Origin", std::string(request.Header("origin")));
  response.headers.emplace_back("Vary", "Origin");
}

HttpResponse HttpApi::Handle(const HttpRequest& request) {
  bool cors = false;
  HttpResponse response = Route(request, &cors);
  if (cors) AddCorsHeaders(request, response);
  return response;
}

HttpResponse HttpApi::Route(const HttpRequest& request, bool* cors) {
  if (auto error = CheckHost(request)) return ErrorResponse(*error);
  if (auto error = CheckBrowserGuards(request, api_->server().access, cors)) return ErrorResponse(*error);
  if (*cors && request.method == "OPTIONS") {
    // A preflight from an allowed origin: what its requests may carry.
    HttpResponse preflight;
    preflight.status = 204;
    preflight.headers.emplace_back("Access-Control-Allow-Methods", "GET, HEAD, POST, PUT, DELETE");
    preflight.headers.emplace_back("Access-Control-Allow-Headers", "Authorization, Content-Type, X-Actor");
    preflight.headers.emplace_back("Access-Control-Max-Age", "600");
    return preflight;
  }
  Target target;
  if (auto error = ParseTarget(request.target, &target)) return ErrorResponse(*error);
  Api::t_identity = RequestIdentity(api_->server().access, request);
  // The dashboard's files hold no data: served without a token (the page asks for one).
  if (auto page = ServeDashboard(request, target, Api::t_identity, api_->server().access.enabled())) return *page;
  if (Api::t_identity.role == Identity::kNone && !IsOpenProbe(request, target)) {
    const bool given = !request.Header("authorization").empty();
    HttpResponse response = ErrorResponse(protocol::Error(
        protocol::ErrorCode::kNoAuth, given ? "the Bearer token is not valid" : errors::kHttpTokenRequired));
    response.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"tally\"");
    return response;
  }
  const bool head = request.method == "HEAD";
  std::vector<std::string> params;
  std::string allowed;
  const std::span<const RouteSpec> routes = AllRoutes();
  for (size_t index = 0; index < routes.size(); ++index) {
    const RouteSpec& route = routes[index];
    if (!Matches(RouteParts()[index], target.segments, &params)) continue;
    if (route.method == request.method || (head && route.method == "GET")) {
      RouteCall call{*api_, route, request, std::move(params), {}, json::object()};
      if (auto error = CheckInputs(route, request, target, &call.query, &call.body)) return call.Fail(*error);
      Api::t_request_wrote = false;
      HttpResponse response = route.handle(call);
      if (Api::t_request_wrote) {
        // Sent once the log has every write so far (this one included).
        response.durability = api_.get();
        response.durable_ticket = api_->engine().Ticket();
      }
      return response;
    }
    if (!allowed.empty()) allowed += ", ";
    allowed += route.method;
  }
  if (!allowed.empty()) {
    HttpResponse response = ErrorResponse(errors::MethodNotAllowed(request.method, allowed));
    response.headers.emplace_back("Allow", allowed);
    return response;
  }
  return ErrorResponse(errors::NoSuchRoute(request.target));
}

}  // namespace tally::net
