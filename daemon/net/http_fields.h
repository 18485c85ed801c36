#pragma once
// The HTTP API's request checks, run before any route: the request target
// (path segments, query parameters) and the route's declared inputs
// (net/http_route.h). Every failure is a protocol::Error whose code gives the
// status (400 ...) and whose message names the field; nothing has run yet,
// so a refused request changes nothing.

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "commands/access.h"
#include "net/http_route.h"
#include "net/http_types.h"
#include "protocol/errors.h"

namespace tally::net {

struct Target {
  std::vector<std::string> segments;                       // decoded path segments
  std::vector<std::pair<std::string, std::string>> query;  // decoded, in order, repeats kept
};

// Splits and percent-decodes a request target ("/v1/top?key=x"); "/v1/top/"
// is "/v1/top". Fails (bad_request) on a bad escape or a relative target.
std::optional<protocol::Error> ParseTarget(std::string_view target, Target* out);

// HTTP/1.1 requests need exactly one Host header (RFC 9112 §3.2).
std::optional<protocol::Error> CheckHost(const HttpRequest& request);

// The guards against web pages of other sites (docs/http.md, "Browsers"),
// which can make a visitor's browser send requests to tallyd:
//   - Host must name this server: localhost, an IP address, or a name in
//     http_allowed_hosts (a page that points its own domain at this machine,
//     DNS rebinding, sends its own name);
//   - an Origin, when a browser sends one, must be the server's own (the
//     same host and port as Host) or in http_allowed_origins;
//   - a body must be JSON: a form or text/plain body, which any page can
//     make a browser send without asking, is refused.
// Clients that are not browsers (curl, libraries) send no Origin and are
// affected by the Host and body rules only. `cors_origin` is set when the
// origin is an allowed other site (the reply gets CORS headers).
std::optional<protocol::Error> CheckBrowserGuards(const HttpRequest& request, const AccessControl& access,
                                                  bool* cors_origin);

// Checks the query string and body against `route`'s declared fields and
// returns them: `query` holds each declared parameter given (once), `body`
// the JSON object ({} when the body is empty or only whitespace).
std::optional<protocol::Error> CheckInputs(const RouteSpec& route, const HttpRequest& request, const Target& target,
                                           std::map<std::string, std::string>* query, nlohmann::json* body);

// The closest of `candidates` to `name` (at most 2 edits, for "did you mean"), or "".
std::string_view ClosestName(std::string_view name, const std::vector<std::string_view>& candidates);

}  // namespace tally::net
