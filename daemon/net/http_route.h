#pragma once
// How the HTTP API declares its routes (docs/http.md). Each route names the
// command(s) of the one command table it runs and declares every input it
// takes: path segments, query parameters, JSON body fields and headers, each
// with its type, whether it is required, the command argument it feeds (as
// the command's syntax names it: "COUNT", "AT", "delta") and a line of doc.
//
// From these declarations:
//   - http_fields.cc checks every request before its route runs: an unknown
//     or repeated query parameter, an unknown or duplicate body field, a
//     wrong type, a float or a number in a string, a missing field, a body
//     on a route that takes none are each a 400 naming the field, and change
//     nothing;
//   - a command's error names the HTTP field instead of the command's
//     argument ("limit must be between 1 and 10000", not "COUNT ...");
//   - tools/docgen writes the routes into docs/commands.md.
//
// No Beast here (plain values of net/http_types.h). Thread-safe: routes are
// constant tables; a route handler runs on the calling HTTP thread.

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "commands/context.h"
#include "net/http_types.h"
#include "protocol/errors.h"

namespace tally::net {

enum class FieldSource : uint8_t { kPath, kQuery, kBody, kHeader };
enum class FieldType : uint8_t {
  kString,
  kInteger,    // JSON: an integer literal (no fraction, no exponent); query: decimal digits, optional '-'
  kBoolean,    // JSON: true / false; query: "true" / "false"
  kEnum,       // a string, one of `choices`
  kPeriodMap,  // JSON object {"<period>": <integer>, ...}, not empty
  // JSON array of cells {"interval": <string>, "period": <string>, "value": <integer>}, not empty;
  // interval and value required, period optional (current), no other keys
  kCellList,
  // JSON array of strings, not empty (UNIQ.ADD's members): each one a command argument.
  kStringList,
  // JSON object, any content: passed to the command as JSON text, which checks it (a plan's features).
  kObject,
  // A non-empty JSON array of objects, each checked by the route itself (one
  // bad item must not refuse the others). The body may also BE the list: a
  // JSON array, or NDJSON (one object per line; a line that is not JSON
  // becomes a string item the route reports as invalid).
  kObjectList,
};

struct FieldSpec {
  std::string_view name;  // as the client writes it: "limit", "by", "X-Actor"; "{owner}" segments: "owner"
  FieldSource source;
  FieldType type;
  bool required;
  // The command argument(s) it feeds, as the command's syntax names them
  // ("COUNT", "AT", "delta"; several separated by spaces), or "" when the
  // route itself uses it (format, ...).
  std::string_view feeds;
  std::string_view doc;           // one line
  std::string_view choices = {};  // kEnum: "csv ndjson"
  std::string_view needs = {};    // another field that must be given with this one
};

// The X-Actor header of every administrative route: RouteCall::AppendActor
// passes the request's identity, labelled with it, as the command's BY.
inline constexpr FieldSpec kActorHeader{
    "X-Actor",
    FieldSource::kHeader,
    FieldType::kString,
    false,
    "BY",
    "a label for the audit trail, after the token's name: \"alice (as: <X-Actor>)\""};

struct RouteCall;
using RouteHandler = HttpResponse (*)(RouteCall& call);

struct RouteSpec {
  std::string_view method;   // "GET", "POST", ...
  std::string_view pattern;  // "/v1/owners/{owner}/counters/{key}": {x} matches one path segment
  // The command(s) the route runs, separated by spaces ("CTR.SET CTR.RECOUNT"); "" for routes of the
  // HTTP server itself (/health, /metrics).
  std::string_view commands;
  std::span<const FieldSpec> fields;
  std::string_view summary;  // one line: what the route answers
  RouteHandler handle;
};

// Every route, in matching order (one method and pattern at most once).
std::span<const RouteSpec> AllRoutes();
// By family (http_routes_*.cc).
std::span<const RouteSpec> ServerRoutes();
std::span<const RouteSpec> CounterRoutes();
std::span<const RouteSpec> TableRoutes();
std::span<const RouteSpec> FeedRoutes();
std::span<const RouteSpec> QuotaRoutes();
std::span<const RouteSpec> MeterRoutes();
std::span<const RouteSpec> UniqueRoutes();

// The space-separated words of `list` ("CTR.SET CTR.RECOUNT").
std::vector<std::string_view> Words(std::string_view list);
std::string_view FieldTypeName(FieldType type);
std::string_view FieldSourceName(FieldSource source);  // "path", "query", "body", "header"

// ---------------------------------------------------------------------------
// Running a route (used by the http_routes_*.cc files)

class Api;  // http_api.cc: the engine, the command table, the durability gate

// A command's outcome: the reply as JSON, or the HTTP error to send.
struct Outcome {
  std::optional<HttpResponse> error;
  nlohmann::json value;
  bool duplicate = false;  // an increment whose event id was already applied
};

// A request that passed the route's declared checks.
struct RouteCall {
  Api& api;
  const RouteSpec& route;
  const HttpRequest& request;
  std::vector<std::string> params;           // the pattern's {segments}, in order, decoded
  std::map<std::string, std::string> query;  // declared parameters only, each given once
  nlohmann::json body;                       // a JSON object of declared fields ({} without a body)

  // A query parameter's value (as given), if present.
  std::optional<std::string> Query(std::string_view name) const;
  bool Has(std::string_view body_field) const { return body.contains(body_field); }
  // A body field as a command argument: integers in decimal, strings as they are.
  std::optional<std::string> BodyArg(std::string_view name) const;
  // A trailing "BY actor" for administrative commands: the request's
  // identity, with X-Actor as a label (AuditActor).
  void AppendActor(std::vector<std::string>& argv) const;

  // Runs argv through the command table exactly as a RESP connection does;
  // an error comes back rendered with this route's field names.
  Outcome Run(const std::vector<std::string>& argv) const;
  // An error rendered for this route: status and code from the error's
  // code, argument names replaced by the fields that feed them.
  HttpResponse Fail(const protocol::Error& error) const;
};

// JSON helpers shared by the routes.
using json = nlohmann::json;
// Error texts can echo user bytes that are not UTF-8: replaced, never thrown.
std::string Dump(const json& value);
HttpResponse Json(int status, const json& body);
// An error as the API's JSON, with its names as given (no route to rename them).
HttpResponse ErrorResponse(const protocol::Error& error);
std::string IsoUtc(int64_t unix_ms);

// One page of a feed command read by `since` and `limit` (CHANGES.READ,
// AUDIT.READ, EVENTS.READ: "<since> [COUNT n]"), its reply shaped by `shape`.
HttpResponse FeedPage(RouteCall& call, const char* command, json (*shape)(const json&));
// One page of AUDIT.READ or EVENTS.READ: FeedPage's since and limit, and
// order=desc (REV), before, scan, and each query parameter of `filters`
// ({"owner", "OWNER"}, ...) as its option.
HttpResponse RecordPage(RouteCall& call, const char* command,
                        std::initializer_list<std::pair<std::string_view, std::string_view>> filters,
                        json (*shape)(const json&));

// Api's services for the routes.
core::Engine& ApiEngine(Api& api);
ServerState& ApiServer(Api& api);

// Label, start and start_ms of the period a request names (default: current),
// in the owner's time zone ("" = the daemon's), for replies that say which
// period they are about. storage_read_failed when the owner's zone cannot be
// read.
std::optional<protocol::Error> DescribePeriod(Api& api, std::string_view owner, std::string_view interval_name,
                                              std::optional<std::string> period_arg, json& out);

}  // namespace tally::net
