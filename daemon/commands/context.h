#pragma once
// What a command handler may touch: the engine, server-wide state and its own
// client's state. Handlers parse argv, call one core op and describe the reply
// on a ReplySink; they never see a socket or an HTTP request.

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <iterator>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "commands/access.h"
#include "core/engine.h"
#include "protocol/command_table.h"
#include "protocol/resp_writer.h"

namespace tally {

// MULTI ... EXEC and WATCH (commands/transaction.h).
struct TransactionState {
  bool open = false;                             // MULTI was sent; EXEC or DISCARD not yet
  bool aborted = false;                          // a command was refused while queuing: EXEC answers EXECABORT
  std::vector<std::vector<std::string>> queued;  // each queued command's arguments, name first
  // WATCHed keys and the version each had then (KeyspaceModule::Watch).
  std::vector<std::pair<std::string, uint64_t>> watched;
};

// Per-connection state. Touched only by the connection's own thread.
struct ClientState {
  uint64_t id = 0;
  std::string name;
  std::string lib_name;
  std::string lib_version;
  std::string address;  // peer, for CLIENT LIST / INFO
  int64_t connected_at_ms = 0;
  int protocol_version = 2;
  // Who the client is (commands/access.h): the transport sets it from
  // ServerState::access when the connection (or request) starts; AUTH and
  // HELLO ... AUTH change it.
  Identity identity = Identity::kAdmin;
  // Set by QUIT: reply, then close.
  bool close_after_reply = false;
  // Set by CTR.INCRBY: its event id was already applied (RESP cannot say
  // more than the total; HTTP answers 409 with it).
  bool last_write_duplicate = false;
  // The RESP sink of this connection (HELLO 3 switches it); null over HTTP.
  protocol::RespSink* resp_sink = nullptr;
  // Pub/sub (SUBSCRIBE, PSUBSCRIBE), in subscription order, each once. The
  // RESP session delivers the `alerts` channel's messages while any is set.
  std::vector<std::string> channels;
  std::vector<std::string> patterns;
  TransactionState transaction;
  // Redis's count in (un)subscribe replies: channels and patterns together.
  size_t subscriptions() const { return channels.size() + patterns.size(); }
};

// Upper bounds of the command latency histogram buckets, in nanoseconds
// (1 µs .. 2.5 s: an in-memory handler takes about a microsecond); a last,
// implicit bucket holds everything slower (+Inf).
inline constexpr uint64_t kLatencyBucketBoundsNs[] = {
    1'000,      2'500,       5'000,       10'000,      25'000,        50'000,       100'000,
    250'000,    500'000,     1'000'000,   2'500'000,   5'000'000,     10'000'000,   25'000'000,
    50'000'000, 100'000'000, 250'000'000, 500'000'000, 1'000'000'000, 2'500'000'000};
inline constexpr size_t kLatencyBucketCount = std::size(kLatencyBucketBoundsNs) + 1;  // + the +Inf bucket

// One command's figures on one thread. The fields a typical call touches
// (first bucket, sum) share the first cache line.
struct alignas(64) CommandStats {
  std::atomic<uint64_t> sum_ns{0};    // handler execution time, summed
  std::atomic<uint64_t> errors{0};    // calls that replied with an error
  std::atomic<uint64_t> rejected{0};  // refused before the handler ran: wrong number of arguments
  // Calls by execution time, NOT cumulative: buckets[i] counts calls with
  // time <= kLatencyBucketBoundsNs[i] and above the previous bound. The sum
  // of all buckets is the number of calls.
  std::atomic<uint64_t> buckets[kLatencyBucketCount] = {};
};

// Statistics of one front-end thread (a RESP I/O thread, an HTTP thread).
// Written only by the thread that took the slot (see
// ServerState::AddThreadStats), so increments are a relaxed load and store,
// never a locked read-modify-write, and no cache line is shared between
// writers. Any thread may read them (relaxed) and sum over the slots.
class alignas(64) ThreadStats {
 public:
  // `command_count`: the CommandTable's size; indices are positions in all().
  explicit ThreadStats(size_t command_count)
      : command_count_(command_count), commands_(std::make_unique<CommandStats[]>(command_count)) {}
  ThreadStats(const ThreadStats&) = delete;
  ThreadStats& operator=(const ThreadStats&) = delete;

  // A command whose handler ran: `elapsed_ns` is the handler's execution
  // (not the wait for the log that precedes a write's reply); `error` if it
  // replied with an error. `command_index` is CommandTable's index.
  void RecordCommand(size_t command_index, uint64_t elapsed_ns, bool error) {
    if (command_index >= command_count_) return RecordRejected(protocol::CommandTable::kNoIndex);
    CommandStats& c = commands_[command_index];
    size_t bucket = 0;
    while (bucket < std::size(kLatencyBucketBoundsNs) && elapsed_ns > kLatencyBucketBoundsNs[bucket]) ++bucket;
    Bump(c.buckets[bucket]);
    Bump(c.sum_ns, elapsed_ns);
    if (error) Bump(c.errors);
  }
  // A command refused before its handler ran: unknown name (index kNoIndex
  // from CommandTable::Resolve) or wrong number of arguments (its index).
  void RecordRejected(size_t command_index) {
    if (command_index >= command_count_) return Bump(unknown_commands_);
    Bump(commands_[command_index].rejected);
  }
  // A malformed request that is no command at all (RESP framing error).
  void RecordProtocolError() { Bump(protocol_errors_); }

  // ---- readers (any thread) ----
  size_t command_count() const { return command_count_; }
  const CommandStats& command(size_t index) const { return commands_[index]; }
  uint64_t unknown_commands() const { return unknown_commands_.load(std::memory_order_relaxed); }
  uint64_t protocol_errors() const { return protocol_errors_.load(std::memory_order_relaxed); }

 private:
  // Single writer: a plain add, published with a relaxed store.
  static void Bump(std::atomic<uint64_t>& counter, uint64_t by = 1) {
    counter.store(counter.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
  }

  const size_t command_count_;
  const std::unique_ptr<CommandStats[]> commands_;
  std::atomic<uint64_t> unknown_commands_{0};
  std::atomic<uint64_t> protocol_errors_{0};
};

// One setting as /v1/stats shows it (daemon/settings.h is the table).
struct ConfigSetting {
  std::string key;                           // the tally.toml key: "port"
  std::variant<int64_t, std::string> value;  // as configured (unix_socket resolved)
};

// The running configuration, for the commands and the stats. `settings` is
// filled from the settings table (every setting not marked hidden); the
// named fields are what command handlers read directly.
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
  std::string http_bind;
  int http_port = 0;  // 0: no HTTP listener

  std::vector<ConfigSetting> settings;  // in the settings table's order
  // The entry for `key`, or nullptr (a hidden or unknown setting).
  const ConfigSetting* Find(std::string_view key) const {
    for (const ConfigSetting& s : settings) {
      if (s.key == key) return &s;
    }
    return nullptr;
  }
};

// What the HTTP transport reports (net::HttpServerStats, without Beast).
struct HttpFigures {
  bool enabled = false;               // an HTTP listener runs
  uint64_t connections_open = 0;      // gauge
  uint64_t connections_total = 0;     // accepted since start
  uint64_t rejected_connections = 0;  // refused past the connection limit
  uint64_t requests_total = 0;        // requests passed to the routes
  uint64_t request_errors = 0;        // refused by the transport (400, 408, 413, 431)
  uint64_t accept_failures = 0;       // failed accepts (each paused accepting briefly)
};

// What the RESP transport reports beyond the connection counts of
// ServerState (net::RespServerStats, without Asio).
struct RespFigures {
  uint64_t accept_failures = 0;      // failed accepts (each paused accepting briefly)
  uint64_t idle_closed = 0;          // connections closed by the `timeout` setting
  uint64_t handler_failures = 0;     // commands whose handler threw ("-ERR internal error")
  uint64_t query_buffer_closed = 0;  // connections closed by a query buffer limit
  uint64_t query_buffer_bytes = 0;   // held by incomplete requests now
  uint64_t pubsub_closed = 0;        // subscribers closed for not reading (the pub/sub output limit)
  uint64_t alert_subscribers = 0;    // connections subscribed now (SUBSCRIBE alerts, PSUBSCRIBE)
};

// Server-wide state shared by all connections.
struct ServerState {
  const protocol::CommandTable* commands = nullptr;
  // The secrets, set once before any listener starts (never changed while
  // serving, so any thread may read them).
  AccessControl access;
  ServerConfigSummary config;
  int64_t started_at_ms = 0;
  std::atomic<uint64_t> connected_clients{0};
  std::atomic<uint64_t> total_connections{0};
  std::atomic<uint64_t> rejected_connections{0};
  std::atomic<uint64_t> next_client_id{1};
  std::atomic<bool> ready{false};

  // The HTTP transport's figures for /metrics and /v1/stats: main installs a
  // source once the HTTP server exists, e.g.
  //   server.SetHttpFigures([&http] { auto s = http.stats(); return HttpFigures{true, s.connections_open, ...}; });
  // Until then (or with HTTP disabled) HttpFigures() is all zero, enabled=false.
  void SetHttpFigures(std::function<HttpFigures()> source) {
    std::lock_guard<std::mutex> lock(mu_);
    http_figures_ = std::move(source);
  }
  HttpFigures http_figures() const {
    std::lock_guard<std::mutex> lock(mu_);
    return http_figures_ ? http_figures_() : HttpFigures{};
  }
  // The same for the RESP transport (all zero until main installs a source).
  void SetRespFigures(std::function<RespFigures()> source) {
    std::lock_guard<std::mutex> lock(mu_);
    resp_figures_ = std::move(source);
  }
  RespFigures resp_figures() const {
    std::lock_guard<std::mutex> lock(mu_);
    return resp_figures_ ? resp_figures_() : RespFigures{};
  }

  // Distinct for every ServerState of the process (never reused), so a
  // thread-local cache keyed by it cannot outlive its ServerState unnoticed.
  uint64_t instance() const { return instance_; }

  // A statistics slot for one front-end thread, sized for `commands` (which
  // must be set first). The reference stays valid for the ServerState's
  // lifetime; only the calling thread may record into it.
  ThreadStats& AddThreadStats() {
    std::lock_guard<std::mutex> lock(mu_);
    return thread_stats_.emplace_back(commands == nullptr ? 0 : commands->size());
  }
  // Calls visit(const ThreadStats&) for every slot (metrics, INFO).
  template <typename Visit>
  void ForEachThreadStats(Visit&& visit) const {
    std::lock_guard<std::mutex> lock(mu_);
    for (const ThreadStats& stats : thread_stats_) visit(stats);
  }

 private:
  static inline std::atomic<uint64_t> next_instance_{1};
  const uint64_t instance_ = next_instance_.fetch_add(1);
  mutable std::mutex mu_;
  std::deque<ThreadStats> thread_stats_;       // GUARDED_BY(mu_); deque: stable addresses
  std::function<HttpFigures()> http_figures_;  // GUARDED_BY(mu_)
  std::function<RespFigures()> resp_figures_;  // GUARDED_BY(mu_)
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
