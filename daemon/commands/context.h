#pragma once
// What a command handler may touch: the engine, server-wide state and its own
// client's state. Handlers parse argv, call one core op and describe the reply
// on a ReplySink; they never see a socket or an HTTP request.

#include <atomic>
#include <cstdint>
#include <string>

#include "core/engine.h"
#include "protocol/command_table.h"
#include "protocol/resp_writer.h"

namespace tally {

// Per-connection state. Touched only by the connection's own thread.
struct ClientState {
  uint64_t id = 0;
  std::string name;
  std::string lib_name;
  std::string lib_version;
  std::string address;  // peer, for CLIENT LIST / INFO
  int64_t connected_at_ms = 0;
  int protocol_version = 2;
  // Set by QUIT: reply, then close.
  bool close_after_reply = false;
  // The RESP sink of this connection (HELLO 3 switches it); null over HTTP.
  protocol::RespSink* resp_sink = nullptr;
};

// Counters bumped on the hot path by one I/O thread each (no sharing of cache
// lines between threads); readers sum them.
struct alignas(64) ThreadStats {
  std::atomic<uint64_t> commands{0};
  std::atomic<uint64_t> errors{0};
};

struct ServerConfigSummary {
  std::string version;
  std::string bind;
  int port = 0;
  std::string unix_socket;
  std::string data_dir;
  std::string durability;
  int64_t fsync_interval_ms = 1000;
  int io_threads = 1;
  int64_t max_clients = 10000;
  std::string config_file;
  std::string timezone = "UTC";
  int64_t max_backdate_ms = 35ll * 86400 * 1000;
  int64_t max_future_skew_ms = 5ll * 60 * 1000;
};

// Server-wide state shared by all connections.
struct ServerState {
  const protocol::CommandTable* commands = nullptr;
  ServerConfigSummary config;
  int64_t started_at_ms = 0;
  std::atomic<uint64_t> connected_clients{0};
  std::atomic<uint64_t> total_connections{0};
  std::atomic<uint64_t> rejected_connections{0};
  std::atomic<uint64_t> next_client_id{1};
  std::atomic<bool> ready{false};
  std::vector<ThreadStats>* thread_stats = nullptr;
};

}  // namespace tally

namespace tally::protocol {

struct CommandContext {
  core::Engine& engine;
  ServerState& server;
  ClientState& client;
  ThreadStats& stats;
};

}  // namespace tally::protocol
