#pragma once
// Plain HTTP request and response values passed between the Beast transport
// (net/http_server.cc, the only file that includes Beast) and the routes
// (net/http_api.cc), so routes and their tests never compile Beast.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "net/durable_log.h"

namespace tally::net {

struct HttpRequest {
  std::string method;                                        // "GET", "POST", ... as sent
  std::string target;                                        // path and query, still percent-encoded: "/v1/top?key=x"
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
  std::string peer;       // "127.0.0.1:5678"
  unsigned version = 11;  // 10: HTTP/1.0, 11: HTTP/1.1 (HTTP/1.1 requires a Host header)

  // First header with this (lower-case) name, or empty.
  std::string_view Header(std::string_view lower_name) const {
    for (const auto& [name, value] : headers) {
      if (name == lower_name) return value;
    }
    return {};
  }
};

struct HttpResponse;

// A write's response is sent only once its log record is durable, as the
// line protocol's replies are. The routes return a gate and a ticket with the
// response; the transport holds the response, lets the other requests its
// thread has read run, then waits once for all of them (one log write and
// one fsync for a whole event-loop turn: group commit, the transport core's
// DurabilityBatch, which sees the gate as a DurableLog). Thread-safe.
class DurabilityGate : public DurableLog {
 public:
  bool IsDurable(uint64_t ticket) const override = 0;
  // Blocks until `ticket` is durable; false if the log failed.
  virtual bool WaitDurable(uint64_t ticket) = 0;
  // What to send instead when the wait failed (503 storage_failed).
  virtual HttpResponse FailureResponse() const = 0;

 private:
  // The gate reports the failure itself (HttpApi); the batch needs only the outcome.
  storage::Status AwaitDurable(uint64_t ticket) final {
    return WaitDurable(ticket) ? storage::Status::Ok() : storage::Status::IoError("the write-ahead log failed");
  }
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers
  std::string body;
  // Streamed responses (chunked transfer encoding): when set, `body` is
  // ignored and the transport calls `next_chunk` until it returns false. Each
  // call appends the next piece (any size; empty is fine) to `out`; a call
  // that returns false ends the stream (what it appended is still sent).
  // Called on the connection's thread, one call at a time, each after the
  // previous piece was written, so a producer holds one piece in memory.
  std::function<bool(std::string& out)> next_chunk;
  // Live streams (server-sent events): when a call appends nothing and
  // returns true, the transport calls again after this many milliseconds
  // rather than at once, on a timer, so a stream waiting for news holds no
  // thread. 0: again at once (a producer that is never idle for long, such
  // as an export). Stopping the server ends a waiting stream.
  uint32_t stream_poll_ms = 0;
  // When set: send only after durability->IsDurable(durable_ticket).
  DurabilityGate* durability = nullptr;
  uint64_t durable_ticket = 0;
};

// Routes: a pure function from request to response. May block briefly (a
// write waits for its log record, as the line protocol's replies do).
using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

}  // namespace tally::net
