#pragma once
// A small blocking HTTP/1.1 client for tests (raw sockets, no dependency):
// send any bytes, read one response — Content-Length, chunked (decoded, and
// the chunks counted) or until EOF. Used by the integration tests against
// the real tallyd (through tallyd_process.h) and by the in-process
// HttpServer unit tests (library tally_http_client).
//
// Failures are values: a response with status 0 and `error` set; nothing
// here aborts the test binary.

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "socket_io.h"

namespace tally::itest {

struct HttpReply {
  int status = 0;  // 0: no complete response (see `error`)
  std::string reason;
  std::string version;                                       // "HTTP/1.1"
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased, in order
  std::string body;                                          // decoded (chunked framing removed)
  bool chunked = false;                                      // Transfer-Encoding: chunked
  size_t chunks = 0;                                         // data chunks received (not counting the last, empty one)
  std::string error;                                         // why status is 0: timeout, EOF, malformed bytes

  bool ok() const { return status != 0; }
  // First header with this lower-case name, or "".
  std::string Header(std::string_view lower_name) const;
  bool HasHeader(std::string_view lower_name) const;
  std::string Describe() const;  // for failure messages
};

std::ostream& operator<<(std::ostream& os, const HttpReply& reply);

// Send, Close, WaitClosed, pending(), connected(): see BufferedSocket.
class HttpClient : public BufferedSocket {
 public:
  using Headers = std::vector<std::pair<std::string, std::string>>;

  HttpClient() = default;

  // Connects to 127.0.0.1:port.
  static std::optional<HttpClient> Connect(int port, std::chrono::milliseconds timeout = std::chrono::seconds(5));

  // One request on a fresh connection ("Connection: close" is not added;
  // the connection is closed after the response).
  static HttpReply Request(int port, const std::string& method, const std::string& target, const std::string& body = "",
                           const Headers& headers = {});
  // The bytes of a request: request line, Host, the headers, Content-Length
  // (when there is a body or the method is POST/PUT/PATCH), the body.
  static std::string Encode(const std::string& method, const std::string& target, const std::string& body = "",
                            const Headers& headers = {});

  // Reads one complete response. `head`: the request was HEAD (no body
  // follows whatever the headers say). With `on_chunk`, the chunks of a
  // chunked body are passed to it one by one instead of being kept in `body`
  // (so arbitrarily long streams use constant memory).
  HttpReply ReadResponse(std::chrono::milliseconds timeout = std::chrono::seconds(10), bool head = false,
                         const std::function<void(std::string_view chunk)>& on_chunk = nullptr);
  // Send(Encode(...)) then ReadResponse().
  HttpReply Call(const std::string& method, const std::string& target, const std::string& body = "",
                 const Headers& headers = {});

 private:
  explicit HttpClient(int fd) : BufferedSocket(fd) {}
};

}  // namespace tally::itest
