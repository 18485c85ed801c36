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

// Checks the query string and body against `route`'s declared fields and
// returns them: `query` holds each declared parameter given (once), `body`
// the JSON object ({} when the body is empty or only whitespace).
std::optional<protocol::Error> CheckInputs(const RouteSpec& route, const HttpRequest& request, const Target& target,
                                           std::map<std::string, std::string>* query, nlohmann::json* body);

// The closest of `candidates` to `name` (at most 2 edits, for "did you mean"), or "".
std::string_view ClosestName(std::string_view name, const std::vector<std::string_view>& candidates);

}  // namespace tally::net
