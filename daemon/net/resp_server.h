#pragma once
// The line-protocol front end: TCP and unix-socket listeners, a pool of I/O
// threads (one io_context each, connections spread round-robin), and one
// RespSession per connection that parses RESP, dispatches through the command
// table and writes replies, holding replies to writes until the write-ahead
// log has them (group commit per event-loop turn, as Redis's AOF does).
//
// Keeps Asio out of its users: only net/*.cc include it.

#include <functional>
#include <memory>
#include <string>

#include "commands/context.h"
#include "protocol/resp_parser.h"
#include "storage/status.h"

namespace tally::net {

struct RespServerOptions {
  std::string bind = "127.0.0.1";
  int port = 6380;          // 0 = no TCP listener
  std::string unix_socket;  // empty = no unix listener
  int io_threads = 2;
  int64_t max_clients = 10000;
  protocol::ParserLimits limits;
};

class RespServer {
 public:
  RespServer(core::Engine& engine, ServerState& server, RespServerOptions options);
  ~RespServer();

  // Binds the listeners (errors are returned, e.g. address in use) and starts
  // the I/O threads.
  storage::Status Start();
  // The TCP port actually bound (useful with port 0 in tests... when enabled).
  int bound_port() const;
  // Stops accepting, lets connections finish the replies they owe (up to
  // `drain_ms`), then closes them and joins the I/O threads.
  void Stop(int64_t drain_ms);
  // Called (from an I/O thread) the first time a log write fails.
  void set_on_storage_failure(std::function<void(const storage::Status&)> callback);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tally::net
