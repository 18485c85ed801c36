#pragma once
// tallyd's settings: defaults, then the TOML file (/etc/tally/tally.toml if it
// exists, or --config), then command-line flags, each overriding the last.
// Every setting in the file is also a flag (see --help and systemd/tally.toml).

#include <cstdint>
#include <string>

namespace tally {

// Half the cores this process may use, at least 1.
int DefaultIoThreads();

struct Config {
  std::string config_file;  // empty: none was read
  std::string data_dir = "./tally-data";
  std::string bind = "127.0.0.1";
  int port = 6380;                     // 0 disables the TCP listener
  std::string unix_socket;             // default: <data-dir>/tally.sock; "none" disables
  std::string durability = "process";  // process | fsync
  int64_t fsync_interval_ms = 1000;
  std::string log_level = "info";
  bool log_level_from_flag = false;  // set by LoadConfig: --log-level was given
  // Default: half the cores (at least 1). On 2 cores one I/O thread leaves a
  // core to RocksDB, the log writer and the client; two contend for it and
  // cost latency (docs/benchmarks.md).
  int io_threads = DefaultIoThreads();
  int64_t max_clients = 10000;
  int64_t compaction_interval_ms = 5000;
  int64_t compaction_max_entries = 2'000'000;  // compact early past this many log entries
  int64_t shutdown_drain_ms = 5000;
  int64_t max_bulk_bytes = 64ll << 20;
  int64_t max_inline_bytes = 64ll << 10;
  int64_t max_array_length = 1ll << 20;
  // HTTP/JSON API (Boost.Beast).
  std::string http_bind = "127.0.0.1";
  int http_port = 8080;  // 0 disables the HTTP listener
  int http_threads = 1;
  int64_t http_max_connections = 1024;
  int64_t http_max_body_bytes = 1ll << 20;
  int64_t http_max_header_bytes = 16ll << 10;
  int64_t http_read_timeout_ms = 30000;  // idle keep-alive and slow requests
  // Counters.
  std::string timezone = "UTC";           // IANA name: periods of owners without their own
  int64_t max_backdate_s = 35ll * 86400;  // AT may be this far in the past
  int64_t max_future_skew_s = 300;        // ... and this far in the future
  int64_t dedupe_window_s = 7ll * 86400;  // how long an event ID is remembered
  // Retention per interval, in days; 0 keeps forever.
  int64_t retention_hour_days = 7;
  int64_t retention_day_days = 400;
  int64_t retention_week_days = 0;
  int64_t retention_month_days = 0;
  int64_t retention_quarter_days = 0;
  int64_t retention_year_days = 0;
  // How long changefeed records (CHANGES.READ, /v1/changes) are kept; 0 = forever.
  int64_t changes_retention_s = 7ll * 86400;
};

enum class ConfigOutcome { kRun, kExitOk, kExitError };

// Parses argv (and the config file). Prints --help/--version or the error itself.
ConfigOutcome LoadConfig(int argc, char** argv, Config* config, std::string* version_text);

// Re-reads the file for SIGHUP; only settings that can change live are applied.
bool ReloadConfigFile(Config* config, std::string* error);

}  // namespace tally
