#pragma once
// The HTTP/1.1 front end (Boost.Beast, compiled in http_server.cc only): a TCP
// listener, a pool of I/O threads (one io_context each, connections spread
// round-robin, a connection only ever touched by its thread) and one session
// per connection that reads a request, calls the HttpHandler on that thread,
// and writes the response — keep-alive, pipelined requests answered in order
// (one at a time, extra bytes kept for the next read), chunked streaming for
// responses with `next_chunk`.
//
// Limits answer with the project's JSON error and close the connection:
// 413 payload_too_large, 431 headers_too_large, 400 bad_request,
// 408 request_timeout (a request that stalls half-way), 429
// too_many_connections (past max_connections).
//
// Health probes are never locked out by the connection limit: up to
// `probe_connections` connections past max_connections are still read (one
// request, within kProbeReadTimeoutMs); GET or HEAD /health and /ready are
// answered as usual, anything else gets 429, and the connection closes.
// Past that reserve, 429 is sent right after accept without reading.
// An idle keep-alive connection is closed after read_timeout_ms without a
// reply. A handler that throws gets 500 internal; the server keeps serving.
//
// Thread-safety: Start/Stop from one control thread; stats() and
// SwappableHttpHandler::Set from any thread.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "net/http_types.h"
#include "protocol/error_codes.h"
#include "storage/status.h"

namespace tally::net {

struct HttpServerOptions {
  std::string bind = "127.0.0.1";
  int port = 8080;  // 0 = disabled: Start() binds nothing (in tests: use port 0 via `ephemeral_port`)
  // Bind an ephemeral port when `port` is 0 instead of staying disabled (tests).
  bool ephemeral_port = false;
  int threads = 1;
  int64_t max_connections = 1024;
  // Connections past max_connections still read for /health and /ready.
  int64_t probe_connections = 16;
  int64_t max_body_bytes = 1 << 20;
  int64_t max_header_bytes = 16 << 10;
  // Idle keep-alive connections are closed after this long; a request's
  // header, and then its body, must each arrive within it.
  int64_t read_timeout_ms = 30000;
  // A response write (one chunk of a stream) that makes no progress for this
  // long closes the connection (a client that stopped reading).
  int64_t write_timeout_ms = 30000;
  // Pipelining needs no queue bound: requests are read, handled and answered
  // one at a time, so a pipelining client is held back by TCP flow control.
};

// Counters for /metrics; relaxed atomics, read at any time.
struct HttpServerStats {
  uint64_t connections_open = 0;      // sockets open now (including ones being rejected)
  uint64_t connections_total = 0;     // accepted since start
  uint64_t rejected_connections = 0;  // answered 429 past max_connections
  uint64_t probe_requests = 0;        // /health and /ready answered past max_connections
  uint64_t requests_total = 0;        // requests passed to the handler
  uint64_t request_errors = 0;        // requests refused by the transport (400, 408, 413, 431)
  uint64_t accept_failures = 0;       // failed accepts (each paused accepting 50 ms)
};

class HttpServer {
 public:
  HttpServer(HttpServerOptions options, HttpHandler handler);
  ~HttpServer();  // stops the I/O threads if Stop() was not called
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds the listener (errors are returned, e.g. "cannot listen on
  // 127.0.0.1:8080: Address already in use") and starts the I/O threads.
  // With port 0 (and not ephemeral_port) it does nothing and returns Ok.
  storage::Status Start();
  // The TCP port actually bound; 0 when disabled.
  int bound_port() const;
  bool enabled() const;
  // Stops accepting, closes idle keep-alive connections at once, lets requests
  // in flight finish their response (up to `drain_ms`), then closes every
  // connection and joins the I/O threads. Returns as soon as the last
  // connection closed. Idempotent.
  void Stop(int64_t drain_ms);
  HttpServerStats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A handler that can be replaced while the server runs: main starts HTTP
// with a start-up handler (the store is still being opened) and swaps in the
// routes once the engine exists. Set() is thread-safe; a request already
// running finishes on the handler it started with.
class SwappableHttpHandler {
 public:
  explicit SwappableHttpHandler(HttpHandler initial) { Set(std::move(initial)); }
  void Set(HttpHandler handler) {
    current_.store(std::make_shared<const HttpHandler>(std::move(handler)), std::memory_order_release);
  }
  HttpResponse operator()(const HttpRequest& request) const {
    std::shared_ptr<const HttpHandler> handler = current_.load(std::memory_order_acquire);
    return (*handler)(request);
  }
  // An HttpHandler that forwards to this object (which must outlive it).
  HttpHandler AsHandler() {
    return [this](const HttpRequest& request) { return (*this)(request); };
  }

 private:
  std::atomic<std::shared_ptr<const HttpHandler>> current_;
};

// `{"error":{"code":"<code's name>","message":"<message>"}}` with the code's
// HTTP status: the project's error format (message JSON-escaped).
HttpResponse JsonErrorResponse(protocol::ErrorCode code, std::string_view message);

}  // namespace tally::net
