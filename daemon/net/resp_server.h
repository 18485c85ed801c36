#pragma once
// The line-protocol front end: TCP and unix-socket listeners on the shared
// transport core (net/transport.h: a pool of I/O threads, one io_context
// each, connections spread round-robin), and one RespSession per connection
// that parses RESP, dispatches through the command table and writes replies,
// holding replies to writes until the write-ahead log has them (group commit
// per event-loop turn, as Redis's AOF does).
//
// Per connection and read: execute every complete command in the buffer,
// then one write (after one log wait if any of them wrote). A handler that
// throws is answered "-ERR internal error" (logged with the command name)
// and the connection goes on. An idle connection is closed after
// idle_timeout_ms (Redis's `timeout`).
//
// Pub/sub: a connection with a subscription (SUBSCRIBE alerts) is sent every
// later quota alert by the server's AlertHub (net/alert_hub.h), and closed
// when it stops reading: over pubsub_output_limit bytes of output held with
// no byte written for pubsub_output_stall_ms, or over max(2 x the limit,
// 64 MiB) at once.
//
// Thread-safety: Start/Stop from one control thread; the rest from any.
// Keeps Asio out of its users: only net/*.cc include it.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "commands/context.h"
#include "net/durable_log.h"
#include "protocol/resp_parser.h"
#include "storage/status.h"

namespace tally::net {

struct RespServerOptions {
  std::string bind = "127.0.0.1";
  int port = 6380;  // 0 = no TCP listener (unless ephemeral_port)
  // Bind an ephemeral port when `port` is 0 instead of staying disabled (tests).
  bool ephemeral_port = false;
  std::string unix_socket;           // empty = no unix listener
  unsigned unix_socket_mode = 0660;  // the socket file's permissions
  int unix_socket_gid = -1;          // the socket file's group; -1: the process's
  int io_threads = 2;
  int64_t max_clients = 10000;
  protocol::ParserLimits limits;
  // Redis's `timeout`, in milliseconds (the setting is in seconds): a
  // connection that has sent nothing and been sent nothing for this long is
  // closed. A connection that is owed a reply (executing, waiting for the
  // log, or writing to a client that does not read) is never idle. 0 = never.
  int64_t idle_timeout_ms = 0;
  // Memory an incomplete request may hold (its bytes in the input buffer
  // plus the parser's 16 bytes per argument), per connection and for all
  // connections together (the part of each buffer above the 16 KiB every
  // connection starts with). A client that needs more is answered
  // "-ERR query buffer limit reached: ..." and closed. 0 = no limit.
  int64_t client_query_buffer_limit = 0;
  int64_t total_query_buffer_limit = 0;
  // When a subscriber (SUBSCRIBE alerts) is closed for the output tallyd
  // holds for it (the write in flight, the kernel's socket buffers being
  // full, plus the messages and replies queued behind it):
  //  - over pubsub_output_limit bytes while the socket has taken no byte of
  //    that write for pubsub_output_stall_ms (it stopped reading), checked
  //    by a timer, so also when no further alert arrives;
  //  - over the hard limit, max(2 x pubsub_output_limit, 64 MiB), at once,
  //    reading or not: the most memory a subscriber may take, plus the
  //    batch that crossed it (at most AlertHub::kMaxPerTick alerts, ~1 MB).
  // A reader that keeps taking bytes is never closed below the hard limit.
  // Modelled on Redis's client-output-buffer-limit pubsub (hard 32mb, soft
  // 8mb for 60 s). 0 = no limit.
  int64_t pubsub_output_limit = 32ll * 1024 * 1024;
  int64_t pubsub_output_stall_ms = 5000;
};

// For /metrics and tests; relaxed atomics, read at any time.
struct RespServerStats {
  uint64_t accept_failures = 0;      // failed accepts (each paused accepting 50 ms)
  uint64_t idle_closed = 0;          // connections closed by idle_timeout_ms
  uint64_t handler_failures = 0;     // commands whose handler threw ("-ERR internal error")
  uint64_t query_buffer_closed = 0;  // connections closed by a query buffer limit
  uint64_t query_buffer_bytes = 0;   // held now by incomplete requests (above each connection's 16 KiB)
  uint64_t pubsub_closed = 0;        // subscribers closed by pubsub_output_limit
  uint64_t alert_subscribers = 0;    // connections subscribed now (any channel or pattern)
};

class RespServer {
 public:
  RespServer(core::Engine& engine, ServerState& server, RespServerOptions options);
  ~RespServer();  // Stop(0) if Stop was not called

  // Binds the listeners (errors are returned, e.g. address in use) and starts
  // the I/O threads.
  storage::Status Start();
  // The TCP port actually bound; 0 without a TCP listener.
  int bound_port() const;
  // Stops accepting, closes idle connections at once, lets the others finish
  // the replies they owe (up to `drain_ms`), then closes what is left and
  // joins the I/O threads. Returns as soon as the last connection closed.
  // Idempotent.
  void Stop(int64_t drain_ms);
  // Called (from an I/O thread) the first time a log write fails: the
  // connection that saw it closes without its replies, and so does every
  // later one that writes (the failure is sticky). Before Start().
  void set_on_storage_failure(std::function<void(const storage::Status&)> callback);
  RespServerStats stats() const;

  // Tests: wait on `log` instead of the engine's write-ahead log (tickets
  // still come from the engine). Before Start(); `log` outlives the server.
  void TEST_SetDurableLog(DurableLog* log);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tally::net
