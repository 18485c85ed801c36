#pragma once
// The HTTP/JSON API (SPEC §4, docs/http.md): maps each route and its query or
// JSON body onto the argv of a line-protocol command, runs that command's
// handler from the one command table into a JsonSink, waits for the log like
// a RESP reply does, and reshapes the sink's value into the route's JSON.
// No operation is implemented here a second time.
//
// No Beast here: requests and responses are the plain values of
// net/http_types.h. Thread-safe: any HTTP thread may call Handle.

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "commands/context.h"
#include "net/http_types.h"

namespace tally::net {

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
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Pieces of the API's wire formats, exposed for their tests.
// Percent-decodes `in` ("+" is a space in query strings); false on a bad escape.
bool PercentDecode(std::string_view in, bool plus_is_space, std::string* out);
// Appends one CSV field, RFC 4180: quoted when it holds a comma, quote, CR or
// LF, with quotes doubled.
void AppendCsvField(std::string& out, std::string_view field);

}  // namespace tally::net
