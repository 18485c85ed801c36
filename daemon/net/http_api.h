#pragma once
// The HTTP/JSON API (docs/http.md): maps each route and its query or JSON
// body onto the argv of a line-protocol command, runs that command's handler
// from the one command table into a JsonSink, waits for the log like a RESP
// reply does, and reshapes the sink's value into the route's JSON. No
// operation is implemented here a second time.
//
// Routes are declared with every input they take (net/http_route.h); a
// request with anything else (an unknown or repeated parameter, a duplicate
// JSON key, a wrong type) is a 400 naming it before any command runs.
// Statuses and JSON error codes come from the error's code
// (protocol/error_codes.h), never from its text.
//
// No Beast here: requests and responses are the plain values of
// net/http_types.h. Thread-safe: any HTTP thread may call Handle.

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "commands/context.h"
#include "net/http_types.h"
#include "protocol/errors.h"

namespace tally::net {

class Api;

class HttpApi {
 public:
  HttpApi(core::Engine& engine, ServerState& server);
  ~HttpApi();
  HttpApi(const HttpApi&) = delete;
  HttpApi& operator=(const HttpApi&) = delete;

  HttpResponse Handle(const HttpRequest& request);
  // Called once, the first time a write's log record fails (fail closed:
  // main stops the daemon, as for the line protocol).
  void set_on_storage_failure(std::function<void(const storage::Status&)> callback);

 private:
  // Handle without the CORS headers; `cors`: the request came from an
  // allowed other site's page.
  HttpResponse Route(const HttpRequest& request, bool* cors);
  std::unique_ptr<Api> api_;
};

// Pieces of the API's wire formats, exposed for their tests.
// Percent-decodes `in` ("+" is a space in query strings); false on a bad escape.
bool PercentDecode(std::string_view in, bool plus_is_space, std::string* out);
// Appends one CSV field, RFC 4180: quoted when it holds a comma, quote, CR or
// LF, with quotes doubled.
void AppendCsvField(std::string& out, std::string_view field);
// The audit trail's actor of an HTTP change: the request's identity (a
// named token's name, "admin-token", "read-token", "local"), then the
// client's X-Actor label if it gives one that differs: "alice (as: bob)".
// The label is cut (ending "...") to keep the actor within 128 bytes; the
// identity never is. `label` must be a valid actor or empty.
std::string AuditActor(std::string_view identity, std::string_view label);
// Parses a request body as JSON, refusing a key repeated within one object
// (at any depth: nlohmann would keep the last silently). The error is
// invalid_json or duplicate_key.
std::optional<protocol::Error> ParseJsonBody(std::string_view text, nlohmann::json* out);

}  // namespace tally::net
