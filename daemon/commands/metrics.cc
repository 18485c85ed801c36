#include "commands/metrics.h"

#include <malloc.h>
#include <unistd.h>

#include <charconv>
#include <cmath>
#include <ctime>
#include <fstream>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <variant>

#include "core/calendar.h"
#include "core/read_errors.h"
#include "protocol/command_table.h"

namespace tally::commands {
namespace {

// `le` label values of the histogram buckets: kLatencyBucketBoundsNs in seconds.
constexpr std::string_view kBucketLe[kLatencyBucketCount] = {
    "1e-06", "2.5e-06", "5e-06", "1e-05", "2.5e-05", "5e-05", "0.0001", "0.00025", "0.0005", "0.001", "0.0025",
    "0.005", "0.01",    "0.025", "0.05",  "0.1",     "0.25",  "0.5",    "1",       "2.5",    "+Inf"};
static_assert(std::size(kBucketLe) == kLatencyBucketCount);

constexpr double kNsPerSecond = 1e9;

void AppendDouble(std::string& out, double value) {
  if (std::isnan(value)) {
    out += "NaN";
  } else if (std::isinf(value)) {
    out += value > 0 ? "+Inf" : "-Inf";
  } else {
    char buffer[32];
    auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), value);
    out.append(buffer, ec == std::errc() ? end : buffer);
  }
}

void AppendUnsigned(std::string& out, uint64_t value) {
  char buffer[24];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  out.append(buffer, ec == std::errc() ? end : buffer);
}

using Labels = std::initializer_list<std::pair<std::string_view, std::string_view>>;

// Writes the text format: HELP and TYPE once per family, then its samples
// (callers emit each family's samples together, as the format requires).
class PromWriter {
 public:
  explicit PromWriter(std::string& out) : out_(out) {}

  void Family(std::string_view name, std::string_view type, std::string_view help) {
    out_ += "# HELP ";
    out_ += name;
    out_ += ' ';
    for (char c : help) {  // HELP escapes backslash and newline
      if (c == '\\') {
        out_ += "\\\\";
      } else if (c == '\n') {
        out_ += "\\n";
      } else {
        out_ += c;
      }
    }
    out_ += "\n# TYPE ";
    out_ += name;
    out_ += ' ';
    out_ += type;
    out_ += '\n';
  }

  void Sample(std::string_view name, Labels labels, uint64_t value) {
    Start(name, labels);
    AppendUnsigned(out_, value);
    out_ += '\n';
  }
  void SampleDouble(std::string_view name, Labels labels, double value) {
    Start(name, labels);
    AppendDouble(out_, value);
    out_ += '\n';
  }

  // A whole single-sample family.
  void Gauge(std::string_view name, std::string_view help, uint64_t value) {
    Family(name, "gauge", help);
    Sample(name, {}, value);
  }
  void GaugeDouble(std::string_view name, std::string_view help, double value) {
    Family(name, "gauge", help);
    SampleDouble(name, {}, value);
  }
  void Counter(std::string_view name, std::string_view help, uint64_t value) {
    Family(name, "counter", help);
    Sample(name, {}, value);
  }

 private:
  void Start(std::string_view name, Labels labels) {
    out_ += name;
    if (labels.size() > 0) {
      out_ += '{';
      bool first = true;
      for (const auto& [label, value] : labels) {
        if (!first) out_ += ',';
        first = false;
        out_ += label;
        out_ += "=\"";
        for (char c : value) {  // label values escape backslash, quote and newline
          if (c == '\\') {
            out_ += "\\\\";
          } else if (c == '"') {
            out_ += "\\\"";
          } else if (c == '\n') {
            out_ += "\\n";
          } else {
            out_ += c;
          }
        }
        out_ += '"';
      }
      out_ += '}';
    }
    out_ += ' ';
  }

  std::string& out_;
};

double Seconds(uint64_t microseconds) { return static_cast<double>(microseconds) / 1e6; }

std::string IsoUtc(int64_t unix_ms) {
  std::time_t seconds = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buffer[32];
  size_t n = std::strftime(buffer, sizeof(buffer), "%Y-%m-%dT%H:%M:%S", &tm);
  std::string out(buffer, n);
  const int millis = static_cast<int>(unix_ms % 1000);
  out += '.';
  out += static_cast<char>('0' + millis / 100);
  out += static_cast<char>('0' + millis / 10 % 10);
  out += static_cast<char>('0' + millis % 10);
  out += 'Z';
  return out;
}

}  // namespace

ProcessMemory ReadProcessMemory() {
  ProcessMemory m;
  struct mallinfo2 info = mallinfo2();
  m.used_bytes = info.uordblks + info.hblkhd;
  std::ifstream statm("/proc/self/statm");
  uint64_t size = 0, resident = 0;
  if (statm >> size >> resident) m.rss_bytes = resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  return m;
}

CommandMetrics GatherCommandMetrics(const ServerState& server) {
  CommandMetrics s;
  const size_t command_count = server.commands == nullptr ? 0 : server.commands->size();
  std::vector<CommandFigures> all(command_count);
  server.ForEachThreadStats([&](const ThreadStats& t) {
    for (size_t i = 0; i < command_count && i < t.command_count(); ++i) {
      const CommandStats& c = t.command(i);
      CommandFigures& f = all[i];
      for (size_t b = 0; b < kLatencyBucketCount; ++b) f.cumulative[b] += c.buckets[b].load(std::memory_order_relaxed);
      f.sum_ns += c.sum_ns.load(std::memory_order_relaxed);
      f.errors += c.errors.load(std::memory_order_relaxed);
      f.rejected += c.rejected.load(std::memory_order_relaxed);
    }
    s.unknown_commands += t.unknown_commands();
    s.protocol_errors += t.protocol_errors();
  });
  for (size_t i = 0; i < command_count; ++i) {
    CommandFigures& f = all[i];
    for (size_t b = 1; b < kLatencyBucketCount; ++b) f.cumulative[b] += f.cumulative[b - 1];
    f.calls = f.cumulative.back();
    // Read without a common lock: an error may be seen before its call.
    if (f.errors > f.calls) f.errors = f.calls;
    if (f.calls == 0 && f.rejected == 0) continue;
    f.name = protocol::AsciiLower(server.commands->all()[i]->name);
    s.totals.processed += f.calls + f.rejected;
    s.totals.error_replies += f.errors + f.rejected;
    s.by_command.push_back(std::move(f));
  }
  s.totals.processed += s.unknown_commands;
  s.totals.error_replies += s.unknown_commands + s.protocol_errors;
  return s;
}

CommandTotals SumCommandTotals(const ServerState& server) { return GatherCommandMetrics(server).totals; }

double CommandFigures::QuantileUs(double q) const {
  const uint64_t count = cumulative.back();
  if (count == 0) return 0;
  const double rank = q * static_cast<double>(count);
  size_t i = 0;
  while (i + 1 < cumulative.size() && static_cast<double>(cumulative[i]) < rank) ++i;
  if (i == cumulative.size() - 1) return static_cast<double>(kLatencyBucketBoundsNs[i - 1]) / 1e3;
  const double lower = i == 0 ? 0 : static_cast<double>(kLatencyBucketBoundsNs[i - 1]);
  const double upper = static_cast<double>(kLatencyBucketBoundsNs[i]);
  const uint64_t below = i == 0 ? 0 : cumulative[i - 1];
  const uint64_t in_bucket = cumulative[i] - below;
  if (in_bucket == 0) return upper / 1e3;
  return (lower + (upper - lower) * (rank - static_cast<double>(below)) / static_cast<double>(in_bucket)) / 1e3;
}

MetricsSnapshot GatherMetrics(core::Engine& engine, const ServerState& server) {
  MetricsSnapshot s;
  s.config = server.config;
  s.now_ms = engine.clock().NowMs();
  s.started_at_ms = server.started_at_ms;
  s.ready = server.ready.load();

  s.resp_connections_open = server.connected_clients.load();
  s.resp_connections_total = server.total_connections.load();
  s.resp_connections_rejected = server.rejected_connections.load();
  s.resp = server.resp_figures();
  s.http = server.http_figures();

  s.commands = GatherCommandMetrics(server);

  storage::Status health = engine.health();
  s.log_healthy = health.ok();
  if (!health.ok()) s.log_error = health.ToString();
  s.write_state = static_cast<int>(engine.write_state());
  s.disk_full_events = engine.disk_full_events();
  s.wal = engine.wal_stats();
  s.log_uncompacted_entries = engine.UncompactedEntries();
  s.log_recovered_entries = engine.recovered_entries();
  s.compaction = engine.compaction_stats();

  s.counters = engine.counters().MemoryStats();
  s.all_counters_loaded = engine.counters().all_loaded();
  s.keyspace = engine.keyspace().Sizes();

  s.memory = ReadProcessMemory();
  s.rocksdb_memtable_bytes = engine.store().MemtableBytes();
  s.memory_limit_bytes = engine.store().CacheCapacityBytes();
  s.rocksdb_cache_bytes = engine.store().CacheUsageBytes();
  for (int f = 0; f < static_cast<int>(storage::Family::kCount); ++f) {
    auto family = static_cast<storage::Family>(f);
    s.rocksdb_family_bytes.emplace_back(std::string(storage::FamilyName(family)),
                                        engine.store().ApproximateSize(family));
  }
  for (int f = 0; f < static_cast<int>(storage::Family::kCount); ++f) {
    const auto family = static_cast<storage::Family>(f);
    s.storage_read_errors.emplace_back(std::string(storage::FamilyName(family)), core::StorageReadErrors(family));
  }
  return s;
}

std::string RenderPrometheus(const MetricsSnapshot& s) {
  std::string out;
  out.reserve(8192 + s.commands.by_command.size() * 2048);
  PromWriter w(out);

  // ---- server
  w.Family("tally_build_info", "gauge", "Always 1; the version label says which tallyd runs.");
  w.Sample("tally_build_info", {{"version", s.config.version}}, 1);
  w.Gauge("tally_ready", "1 while serving; 0 while starting or shutting down.", s.ready ? 1 : 0);
  w.GaugeDouble("tally_start_time_seconds", "When tallyd started, Unix time in seconds.",
                static_cast<double>(s.started_at_ms) / 1e3);
  w.GaugeDouble("tally_uptime_seconds", "Seconds since tallyd started.",
                static_cast<double>(s.now_ms - s.started_at_ms) / 1e3);

  // ---- connections
  w.Family("tally_connections_open", "gauge", "Client connections open now, by transport (resp, http).");
  w.Sample("tally_connections_open", {{"transport", "resp"}}, s.resp_connections_open);
  w.Sample("tally_connections_open", {{"transport", "http"}}, s.http.connections_open);
  w.Family("tally_connections_total", "counter", "Client connections accepted since start, by transport.");
  w.Sample("tally_connections_total", {{"transport", "resp"}}, s.resp_connections_total);
  w.Sample("tally_connections_total", {{"transport", "http"}}, s.http.connections_total);
  w.Family("tally_connections_rejected_total", "counter",
           "Connections refused because the connection limit was reached, by transport.");
  w.Sample("tally_connections_rejected_total", {{"transport", "resp"}}, s.resp_connections_rejected);
  w.Sample("tally_connections_rejected_total", {{"transport", "http"}}, s.http.rejected_connections);
  w.Family("tally_accept_failures_total", "counter",
           "Failed accepts (e.g. out of file descriptors; each pauses accepting briefly), by transport.");
  w.Sample("tally_accept_failures_total", {{"transport", "resp"}}, s.resp.accept_failures);
  w.Sample("tally_accept_failures_total", {{"transport", "http"}}, s.http.accept_failures);
  w.Counter("tally_resp_idle_closed_total", "RESP connections closed after `timeout` seconds without a request.",
            s.resp.idle_closed);
  w.Counter("tally_resp_handler_failures_total",
            "RESP commands whose handler failed unexpectedly (answered -ERR internal error; the daemon logs them).",
            s.resp.handler_failures);
  w.Counter("tally_resp_query_buffer_closed_total",
            "RESP connections closed because an incomplete request reached client_query_buffer_limit or "
            "total_query_buffer_limit.",
            s.resp.query_buffer_closed);
  w.Gauge("tally_resp_query_buffer_bytes",
          "Bytes held now by incomplete RESP requests (above each connection's 16 KiB input buffer).",
          s.resp.query_buffer_bytes);
  w.Gauge("tally_resp_alert_subscribers", "RESP connections subscribed to quota alerts now (SUBSCRIBE, PSUBSCRIBE).",
          s.resp.alert_subscribers);
  w.Counter("tally_resp_pubsub_closed_total",
            "Subscribers closed for their output: over pubsub_output_limit with nothing read for "
            "pubsub_output_stall_ms, or over max(2 x pubsub_output_limit, 64 MiB).",
            s.resp.pubsub_closed);
  w.Counter("tally_http_requests_total", "HTTP requests passed to the routes.", s.http.requests_total);
  w.Counter("tally_http_request_errors_total",
            "HTTP requests refused by the transport before routing (400, 408, 413, 431).", s.http.request_errors);

  // ---- commands
  w.Family("tally_commands_total", "counter",
           "Commands by name and result: ok, error (the handler replied with an error), rejected (wrong "
           "number of arguments, the handler did not run). RESP and HTTP together.");
  for (const CommandFigures& c : s.commands.by_command) {
    w.Sample("tally_commands_total", {{"command", c.name}, {"result", "ok"}}, c.calls - c.errors);
    w.Sample("tally_commands_total", {{"command", c.name}, {"result", "error"}}, c.errors);
    w.Sample("tally_commands_total", {{"command", c.name}, {"result", "rejected"}}, c.rejected);
  }
  w.Family("tally_command_duration_seconds", "histogram",
           "Execution time of command handlers (in memory, under the shard lock). Excludes reading the request "
           "and the wait for the write-ahead log before a write is answered.");
  for (const CommandFigures& c : s.commands.by_command) {
    if (c.calls == 0) continue;
    for (size_t b = 0; b < kLatencyBucketCount; ++b) {
      w.Sample("tally_command_duration_seconds_bucket", {{"command", c.name}, {"le", kBucketLe[b]}}, c.cumulative[b]);
    }
    w.SampleDouble("tally_command_duration_seconds_sum", {{"command", c.name}},
                   static_cast<double>(c.sum_ns) / kNsPerSecond);
    w.Sample("tally_command_duration_seconds_count", {{"command", c.name}}, c.calls);
  }
  w.Counter("tally_unknown_commands_total", "Requests naming no known command.", s.commands.unknown_commands);
  w.Counter("tally_protocol_errors_total", "Malformed RESP requests (the connection is closed).",
            s.commands.protocol_errors);

  // ---- write-ahead log
  w.Gauge("tally_log_healthy", "1 while the write-ahead log accepts writes; 0 after a failed write (fail closed).",
          s.log_healthy ? 1 : 0);
  w.Gauge("tally_write_state",
          "0: writes accepted; 1: disk full, writes refused until space returns; 2: the log failed, writes refused "
          "until a restart.",
          s.write_state);
  w.Counter("tally_disk_full_events_total", "Times the data dir's filesystem filled up and writes stopped.",
            s.disk_full_events);
  w.Counter("tally_log_writes_total", "RocksDB writes of the write-ahead log (one per group commit).", s.wal.writes);
  w.Counter("tally_log_blobs_total", "Log blobs written (one per shard with pending entries per group commit).",
            s.wal.blobs);
  w.Counter("tally_log_entries_total", "Log entries written (one per mutating command).", s.wal.entries);
  w.Counter("tally_log_bytes_total", "Bytes of log entries written.", s.wal.bytes);
  w.Gauge("tally_log_uncompacted_entries", "Log entries not yet folded into the compacted state.",
          s.log_uncompacted_entries);
  w.Gauge("tally_log_recovered_entries", "Log entries replayed at start-up.", s.log_recovered_entries);

  // ---- compaction
  w.Counter("tally_compaction_runs_total",
            "Shard compactions (one shard's changes folded into the compacted state and its log trimmed).",
            s.compaction.runs);
  w.Counter("tally_compaction_failures_total", "Shard compactions that failed (the log keeps every change).",
            s.compaction.failures);
  w.Counter("tally_compaction_keys_written_total", "Keys and cells written by compaction.", s.compaction.keys_written);
  w.GaugeDouble("tally_compaction_last_duration_seconds", "Duration of the last shard compaction.",
                Seconds(s.compaction.last_duration_us));
  w.GaugeDouble("tally_compaction_last_success_timestamp_seconds",
                "Unix time of the last successful shard compaction; 0 if none since start.",
                static_cast<double>(s.compaction.last_success_ms) / 1e3);
  w.GaugeDouble("tally_compaction_max_lock_held_seconds",
                "Longest time a compaction held a shard's lock since start (writes to that shard waited).",
                Seconds(s.compaction.max_lock_held_us));

  // ---- counters and cells in memory
  w.Gauge("tally_owners_in_memory", "Owners in memory.", s.counters.owners);
  w.Gauge("tally_counters_in_memory", "Counters in memory (total and the current cell of each interval).",
          s.counters.counters);
  w.Gauge("tally_counters_dirty", "Counters changed since the last compaction.", s.counters.dirty_counters);
  w.Gauge("tally_counters_loaded", "1 once every stored counter is in memory (background load after start).",
          s.all_counters_loaded ? 1 : 0);
  w.Family("tally_cells_pending", "gauge",
           "Changed cells other than the current ones (late events, past periods set, rolled-over cells) waiting "
           "in memory for compaction, by interval.");
  for (int i = 0; i < core::kIntervalCount; ++i) {
    w.Sample("tally_cells_pending", {{"interval", core::IntervalName(static_cast<core::Interval>(i))}},
             s.counters.pending_cells[i]);
  }
  w.Gauge("tally_cells_in_flight", "Cells a running compaction is writing.", s.counters.inflight_cells);
  w.Family("tally_cells_stored", "gauge",
           "Stored cells holding a value, by interval, as last counted in the background (after compactions, at most "
           "every 10 s; "
           "0 until the first count after start).");
  for (int i = 0; i < core::kIntervalCount; ++i) {
    w.Sample("tally_cells_stored", {{"interval", core::IntervalName(static_cast<core::Interval>(i))}},
             s.counters.stored_cells[i]);
  }
  w.Gauge("tally_event_ids_pending", "Event ids (dedupe) seen since the last compaction, held in memory.",
          s.counters.pending_event_ids);

  // ---- plain keyspace
  w.Gauge("tally_keys", "Plain (Redis-compatible) keys.", s.keyspace.keys);
  w.Gauge("tally_keys_with_expiry", "Plain keys with an expiry.", s.keyspace.keys_with_expiry);

  // ---- memory and RocksDB
  w.Gauge("tally_memory_rss_bytes", "Resident set size of the process.", s.memory.rss_bytes);
  w.Gauge("tally_memory_used_bytes", "Bytes allocated by malloc (INFO used_memory).", s.memory.used_bytes);
  w.Gauge("tally_rocksdb_memtable_bytes", "Bytes in RocksDB memtables, all column families.", s.rocksdb_memtable_bytes);
  w.Gauge("tally_memory_limit_bytes", "The memory budget of RocksDB's block cache and memtables (memory_limit).",
          s.memory_limit_bytes);
  w.Gauge("tally_rocksdb_cache_bytes",
          "Bytes the RocksDB block cache holds, memtables charged to the memory budget included.",
          s.rocksdb_cache_bytes);
  w.Gauge("tally_memory_outside_budget_bytes",
          "Heap that memory_limit does not bound (used minus the block cache): the engine's maps, buffers.",
          MemoryOutsideBudget(s.memory, s.rocksdb_cache_bytes));
  w.Family("tally_rocksdb_family_bytes", "gauge",
           "Approximate size of a RocksDB column family (live data on disk plus memtables).");
  for (const auto& [family, bytes] : s.rocksdb_family_bytes) {
    w.Sample("tally_rocksdb_family_bytes", {{"family", family}}, bytes);
  }
  w.Family("tally_storage_read_errors_total", "counter",
           "Reads of stored state that failed (damaged file, I/O error), by column family; each failed its request.");
  for (const auto& [family, count] : s.storage_read_errors) {
    w.Sample("tally_storage_read_errors_total", {{"family", family}}, count);
  }
  return out;
}

std::string RenderPrometheus(core::Engine& engine, const ServerState& server) {
  return RenderPrometheus(GatherMetrics(engine, server));
}

nlohmann::json StatsJson(const MetricsSnapshot& s) {
  using nlohmann::json;
  const ServerConfigSummary& c = s.config;
  json out = json::object();
  out["server"] = {
      {"version", c.version},
      {"started_at", IsoUtc(s.started_at_ms)},
      {"started_at_ms", s.started_at_ms},
      {"uptime_seconds", (s.now_ms - s.started_at_ms) / 1000},
      {"ready", s.ready},
      {"pid", static_cast<int64_t>(getpid())},
  };
  // Every setting not marked hidden, from the settings table (main.cc fills
  // c.settings), plus what is not a setting: the file read, and the AT
  // limits in ms as earlier versions showed them.
  json config = json::object();
  for (const ConfigSetting& setting : c.settings) {
    std::visit([&](const auto& value) { config[setting.key] = value; }, setting.value);
  }
  config["config_file"] = c.config_file;
  config["max_backdate_ms"] = c.max_backdate_ms;
  config["max_future_skew_ms"] = c.max_future_skew_ms;
  out["config"] = std::move(config);
  out["connections"] = {
      {"resp",
       {{"open", s.resp_connections_open},
        {"total", s.resp_connections_total},
        {"rejected", s.resp_connections_rejected},
        {"accept_failures", s.resp.accept_failures},
        {"idle_closed", s.resp.idle_closed},
        {"handler_failures", s.resp.handler_failures},
        {"query_buffer_closed", s.resp.query_buffer_closed},
        {"query_buffer_bytes", s.resp.query_buffer_bytes},
        {"alert_subscribers", s.resp.alert_subscribers},
        {"pubsub_closed", s.resp.pubsub_closed}}},
      {"http",
       {{"enabled", s.http.enabled},
        {"open", s.http.connections_open},
        {"total", s.http.connections_total},
        {"rejected", s.http.rejected_connections},
        {"requests", s.http.requests_total},
        {"request_errors", s.http.request_errors},
        {"accept_failures", s.http.accept_failures}}},
  };
  json commands = json::object();
  for (const CommandFigures& f : s.commands.by_command) {
    const double sum_us = static_cast<double>(f.sum_ns) / 1e3;
    commands[f.name] = {
        {"calls", f.calls},
        {"errors", f.errors},
        {"rejected", f.rejected},
        {"usec", static_cast<uint64_t>(sum_us)},
        {"usec_per_call", f.calls == 0 ? 0.0 : sum_us / static_cast<double>(f.calls)},
        {"p50_us", f.QuantileUs(0.50)},
        {"p90_us", f.QuantileUs(0.90)},
        {"p99_us", f.QuantileUs(0.99)},
    };
  }
  out["commands"] = std::move(commands);
  out["command_totals"] = {
      {"processed", s.commands.totals.processed},
      {"error_replies", s.commands.totals.error_replies},
      {"unknown", s.commands.unknown_commands},
      {"protocol_errors", s.commands.protocol_errors},
  };
  out["log"] = {
      {"healthy", s.log_healthy},
      {"error", s.log_error},
      {"write_state", s.write_state == 0   ? "ok"
                      : s.write_state == 1 ? "disk_full"
                                           : "failed"},
      {"disk_full_events", s.disk_full_events},
      {"writes", s.wal.writes},
      {"blobs", s.wal.blobs},
      {"entries", s.wal.entries},
      {"bytes", s.wal.bytes},
      {"uncompacted_entries", s.log_uncompacted_entries},
      {"recovered_entries", s.log_recovered_entries},
  };
  out["compaction"] = {
      {"runs", s.compaction.runs},
      {"failures", s.compaction.failures},
      {"keys_written", s.compaction.keys_written},
      {"last_duration_us", s.compaction.last_duration_us},
      {"last_success_ms", s.compaction.last_success_ms},
      {"max_lock_held_us", s.compaction.max_lock_held_us},
  };
  json pending = json::object(), stored = json::object();
  for (int i = 0; i < core::kIntervalCount; ++i) {
    pending[std::string(core::IntervalName(static_cast<core::Interval>(i)))] = s.counters.pending_cells[i];
    stored[std::string(core::IntervalName(static_cast<core::Interval>(i)))] = s.counters.stored_cells[i];
  }
  out["cells"] = {
      {"owners", s.counters.owners},
      {"counters_in_memory", s.counters.counters},
      {"dirty_counters", s.counters.dirty_counters},
      {"all_counters_loaded", s.all_counters_loaded},
      {"pending_cells", std::move(pending)},
      // Counted in the background after compactions (0 until the first count).
      {"stored_cells", std::move(stored)},
      {"stored_cells_counted_ms", s.counters.stored_cells_counted_ms},
      {"inflight_cells", s.counters.inflight_cells},
      {"pending_event_ids", s.counters.pending_event_ids},
  };
  out["keyspace"] = {{"keys", s.keyspace.keys}, {"keys_with_expiry", s.keyspace.keys_with_expiry}};
  out["memory"] = {
      {"used_bytes", s.memory.used_bytes},
      {"rss_bytes", s.memory.rss_bytes},
      {"rocksdb_memtable_bytes", s.rocksdb_memtable_bytes},
      {"limit_bytes", s.memory_limit_bytes},
      {"rocksdb_cache_bytes", s.rocksdb_cache_bytes},
      {"outside_budget_bytes", MemoryOutsideBudget(s.memory, s.rocksdb_cache_bytes)},
  };
  json families = json::object();
  for (const auto& [family, bytes] : s.rocksdb_family_bytes) families[family] = bytes;
  json read_errors = json::object();
  for (const auto& [family, count] : s.storage_read_errors) read_errors[family] = count;
  out["rocksdb"] = {{"family_bytes", std::move(families)}, {"read_errors", std::move(read_errors)}};
  return out;
}

nlohmann::json StatsJson(core::Engine& engine, const ServerState& server) {
  return StatsJson(GatherMetrics(engine, server));
}

}  // namespace tally::commands
