#pragma once
// Server metrics: every figure that GET /metrics (Prometheus text) and
// GET /v1/stats (JSON) show is gathered once into a MetricsSnapshot, then
// rendered by either function. INFO reuses the pieces it shows
// (ReadProcessMemory, SumCommandTotals). docs/operations.md lists every metric.
//
// Cost of one gather: one pass over the ThreadStats slots (commands x threads
// relaxed loads), one lock of each shard for the counter figures (O(changed
// cells)), a few RocksDB property reads, mallinfo2 and /proc/self/statm. No
// RocksDB scan. Safe from any thread.

#include <array>
#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "commands/context.h"
#include "core/engine.h"

namespace tally::commands {

// Content-Type of RenderPrometheus's output.
inline constexpr std::string_view kPrometheusContentType = "text/plain; version=0.0.4; charset=utf-8";

struct ProcessMemory {
  uint64_t used_bytes = 0;  // handed out by malloc (INFO used_memory)
  uint64_t rss_bytes = 0;   // resident set size (INFO used_memory_rss)
};
ProcessMemory ReadProcessMemory();
// Heap that memory_limit does not bound: what malloc handed out beyond what
// RocksDB's block cache holds (memtables are charged to it). Nearly all of
// it is the engine's own maps (owners, counters, event ids); connection
// buffers are the rest.
inline uint64_t MemoryOutsideBudget(const ProcessMemory& memory, uint64_t rocksdb_cache_bytes) {
  return memory.used_bytes > rocksdb_cache_bytes ? memory.used_bytes - rocksdb_cache_bytes : 0;
}

// INFO's totals, summed over every front-end thread.
struct CommandTotals {
  uint64_t processed = 0;      // every command received, unknown and refused ones included
  uint64_t error_replies = 0;  // every error reply (handler errors, refusals, protocol errors)
};
CommandTotals SumCommandTotals(const ServerState& server);

// One command, summed over threads.
struct CommandFigures {
  std::string name;       // lower case, as in COMMAND LIST ("ctr.incrby")
  uint64_t calls = 0;     // handler ran
  uint64_t errors = 0;    // ... and replied with an error (<= calls)
  uint64_t rejected = 0;  // refused before the handler: wrong number of arguments
  uint64_t sum_ns = 0;    // handler execution time
  // Cumulative: cumulative[i] = calls taking <= kLatencyBucketBoundsNs[i];
  // the last element (the +Inf bucket) equals calls.
  std::array<uint64_t, kLatencyBucketCount> cumulative{};

  // Estimated quantile (0..1) of the execution time in microseconds, by linear
  // interpolation inside the histogram bucket (as Prometheus's
  // histogram_quantile). Past the last finite bound: that bound. 0 without calls.
  double QuantileUs(double q) const;
};

// Every command's figures, summed over the front-end threads.
struct CommandMetrics {
  std::vector<CommandFigures> by_command;  // only those called or refused at least once, in table order
  uint64_t unknown_commands = 0;
  uint64_t protocol_errors = 0;
  CommandTotals totals;
};
CommandMetrics GatherCommandMetrics(const ServerState& server);

struct MetricsSnapshot {
  ServerConfigSummary config;
  int64_t now_ms = 0;
  int64_t started_at_ms = 0;
  bool ready = false;

  // Connections.
  uint64_t resp_connections_open = 0;
  uint64_t resp_connections_total = 0;
  uint64_t resp_connections_rejected = 0;
  RespFigures resp;
  HttpFigures http;

  CommandMetrics commands;

  // Write-ahead log and compaction.
  bool log_healthy = true;
  std::string log_error;  // when not healthy
  int write_state = 0;    // 0 ok, 1 disk full (writes refused until space returns), 2 failed (until restart)
  uint64_t disk_full_events = 0;
  storage::WalStats wal;
  uint64_t log_uncompacted_entries = 0;
  uint64_t log_recovered_entries = 0;
  core::CompactionStats compaction;

  // State in memory.
  core::CounterMemoryStats counters;
  bool all_counters_loaded = false;
  core::KeyspaceStats keyspace;

  // Memory and RocksDB.
  ProcessMemory memory;
  uint64_t rocksdb_memtable_bytes = 0;
  uint64_t memory_limit_bytes = 0;   // the block cache's capacity: the memory budget
  uint64_t rocksdb_cache_bytes = 0;  // what the block cache holds, memtables charged to it included
  std::vector<std::pair<std::string, uint64_t>> rocksdb_family_bytes;  // family name -> approximate bytes
  std::vector<std::pair<std::string, uint64_t>> storage_read_errors;   // family name -> failed reads
};

MetricsSnapshot GatherMetrics(core::Engine& engine, const ServerState& server);

// Prometheus text exposition format 0.0.4 (serve with kPrometheusContentType).
std::string RenderPrometheus(const MetricsSnapshot& snapshot);
std::string RenderPrometheus(core::Engine& engine, const ServerState& server);

// The same figures as JSON, plus version, uptime and a config summary:
// {server, config, connections, commands, command_totals, log, compaction,
//  cells, keyspace, memory, rocksdb}.
nlohmann::json StatsJson(const MetricsSnapshot& snapshot);
nlohmann::json StatsJson(core::Engine& engine, const ServerState& server);

}  // namespace tally::commands
