// The server's own routes (/health, /ready, /metrics, /v1/stats, /v1/admin/backup,
// /v1/admin/script/kill) and the feeds (/v1/changes over CHANGES.READ, /v1/audit
// over AUDIT.READ).

#include <string>
#include <vector>

#include "commands/metrics.h"
#include "net/http_route.h"

namespace tally::net {
namespace {

using enum FieldSource;
using enum FieldType;

HttpResponse Health(RouteCall&) { return Json(200, {{"status", "ok"}}); }

HttpResponse Ready(RouteCall& call) {
  core::Engine& engine = ApiEngine(call.api);
  storage::Status health = engine.health();
  if (engine.write_state() == storage::WriteState::kDiskFull) {
    // 503, not disk_full's 507: load balancers read /ready's status alone.
    HttpResponse response = ErrorResponse(protocol::Error(
        protocol::ErrorCode::kDiskFull, std::string(protocol::errors::kDiskFull) + " (" + health.ToString() + ")"));
    response.status = 503;
    return response;
  }
  if (!health.ok()) return ErrorResponse(protocol::Error(protocol::ErrorCode::kStorageFailed, health.ToString()));
  if (!ApiServer(call.api).ready.load()) {
    return ErrorResponse(protocol::Error(protocol::ErrorCode::kNotReady, protocol::errors::kNotReady));
  }
  return Json(200, {{"status", "ready"}});
}

HttpResponse Metrics(RouteCall& call) {
  HttpResponse response;
  response.content_type = std::string(commands::kPrometheusContentType);
  response.body = commands::RenderPrometheus(ApiEngine(call.api), ApiServer(call.api));
  return response;
}

HttpResponse Stats(RouteCall& call) { return Json(200, commands::StatsJson(ApiEngine(call.api), ApiServer(call.api))); }

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

HttpResponse Changes(RouteCall& call) { return FeedPage(call, "CHANGES.READ", ChangesJson); }
HttpResponse Audit(RouteCall& call) {
  return RecordPage(call, "AUDIT.READ",
                    {{"owner", "OWNER"}, {"key", "KEY"}, {"actor", "ACTOR"}, {"command", "COMMAND"}}, AuditJson);
}

// BACKUP's {dir, files, bytes, ms}, with 201: a new backup exists.
HttpResponse Backup(RouteCall& call) {
  std::vector<std::string> argv{"BACKUP"};
  if (auto dir = call.BodyArg("dir")) argv.push_back(*dir);
  Outcome taken = call.Run(argv);
  if (taken.error) return *taken.error;
  return Json(201, taken.value);
}

// SCRIPT KILL from the HTTP threads, which never wait for the RESP I/O
// threads: with io_threads = 1 a looping script holds the only one.
HttpResponse ScriptKill(RouteCall& call) {
  Outcome killed = call.Run({"SCRIPT", "KILL"});
  if (killed.error) return *killed.error;
  return Json(200, {{"killed", true}});
}

constexpr FieldSpec kBackupFields[] = {
    {"dir", kBody, kString, false, "dir",
     "absolute directory for the copy, new or empty (default <data_dir>/backups/<UTC time>)"},
};

constexpr FieldSpec kFeedFields[] = {
    {"since", kQuery, kInteger, false, "since", "the next of the previous page (default 0: from the start)"},
    {"limit", kQuery, kInteger, false, "COUNT", "records per page, 1-10000 (default 100)"},
};

constexpr FieldSpec kAuditFields[] = {
    {"since", kQuery, kInteger, false, "since", "only records after this seq (default 0: from the start)"},
    {"limit", kQuery, kInteger, false, "COUNT", "records per page, 1-10000 (default 100)"},
    {"order", kQuery, kEnum, false, "", "asc (default: oldest first, from since) or desc (newest first)", "asc desc"},
    {"before", kQuery, kInteger, false, "BEFORE", "only records before this seq: desc's next for the older page"},
    {"owner", kQuery, kString, false, "OWNER", "only this owner's records (a trailing * matches a prefix)"},
    {"key", kQuery, kString, false, "KEY", "only this key's records (a trailing * matches a prefix)"},
    {"actor", kQuery, kString, false, "ACTOR", "only this actor's records (a trailing * matches a prefix)"},
    {"command", kQuery, kString, false, "COMMAND", "only this command's records, e.g. CTR.RESET (or CTR.*)"},
    {"scan", kQuery, kInteger, false, "SCAN", "records looked at per call, 1-100000 (default 10000)"},
};

const RouteSpec kServerRoutes[] = {
    {"GET", "/health", "", {}, "200 while the process runs (also during recovery)", Health},
    {"GET",
     "/ready",
     "",
     {},
     "200 once the store is open and recovery done; 503 before, while stopping, or failed",
     Ready},
    {"GET", "/metrics", "", {}, "Prometheus text format 0.0.4 (docs/operations.md lists every metric)", Metrics},
    {"GET", "/v1/stats", "", {}, "the metrics as JSON, with version, uptime and the configuration summary", Stats},
    {"POST", "/v1/admin/backup", "BACKUP", kBackupFields,
     "an online backup of the data dir (admin token only): {dir, files, bytes, ms}", Backup},
    {"POST",
     "/v1/admin/script/kill",
     "SCRIPT",
     {},
     "stops the running Lua script if it has not written (SCRIPT KILL): {killed: true}; 400 not_busy, 409 "
     "unkillable",
     ScriptKill},
};

const RouteSpec kFeedRoutes[] = {
    {"GET", "/v1/changes", "CHANGES.READ", kFeedFields, "changed cells after since, in order (the changefeed)",
     Changes},
    {"GET", "/v1/audit", "AUDIT.READ", kAuditFields,
     "administrative changes (the audit trail), oldest or newest first, filtered: {audit, next}", Audit},
};

}  // namespace

std::span<const RouteSpec> ServerRoutes() { return kServerRoutes; }
std::span<const RouteSpec> FeedRoutes() { return kFeedRoutes; }

}  // namespace tally::net
