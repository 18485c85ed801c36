#pragma once
// tallyd's settings: defaults, then the TOML file (/etc/tally/tally.toml if it
// exists, or --config), then command-line flags, each overriding the last.
// Every setting in the file is also a flag (see --help and systemd/tally.toml).
//
// Config holds the values; what each one means, its flag, range and whether
// SIGHUP reloads it is in the settings table (settings.h). A member here
// without an entry there cannot be set (tests/unit/settings checks the table
// against the defaults below).

#include <cstdint>
#include <iosfwd>
#include <set>
#include <string>
#include <vector>

#include "core/quota_plan.h"

namespace tally {

// Half the cores this process may use, at least 1.
int DefaultIoThreads();

struct Config {
  std::string data_dir = "./tally-data";
  std::string data_dir_mode = "0700";  // octal; files get it without the x bits (umask)
  std::string bind = "127.0.0.1";
  int port = 6380;                        // 0 disables the TCP listener
  std::string unix_socket;                // default: <data-dir>/tally.sock; "none" disables
  std::string unix_socket_mode = "0660";  // octal permissions of the socket file
  std::string unix_socket_group;          // group of the socket file; empty: tallyd's own
  std::string durability = "process";     // process | fsync
  int64_t fsync_interval_ms = 1000;
  int64_t disk_reserve_bytes = 64ll << 20;
  int64_t memory_limit = 256ll << 20;  // RocksDB's block cache and memtables together
  std::string log_level = "info";
  // Metering (core::MeteringOptions).
  std::string currency = "USD";
  int64_t max_batch_events = 10000;
  // Default: half the cores (at least 1). On 2 cores one I/O thread leaves a
  // core to RocksDB, the log writer and the client; two contend for it and
  // cost latency (docs/benchmarks.md).
  int io_threads = DefaultIoThreads();
  int64_t max_clients = 10000;
  int64_t timeout = 0;                  // close RESP connections idle this many seconds; 0 = never
  int64_t script_time_limit_ms = 5000;  // past it, a running script makes other commands answer BUSY
  int64_t compaction_interval_ms = 5000;
  int64_t compaction_max_entries = 2'000'000;  // compact early past this many log entries
  int64_t shutdown_drain_ms = 5000;
  int64_t max_bulk_bytes = 64ll << 20;
  int64_t max_inline_bytes = 64ll << 10;
  int64_t max_array_length = 1ll << 20;
  int64_t client_query_buffer_limit = 128ll << 20;  // one connection's incomplete request
  int64_t total_query_buffer_limit = 512ll << 20;   // all connections' incomplete requests
  int64_t pubsub_output_limit = 32ll << 20;         // a subscriber's backlog; closed if it also stalls
  int64_t pubsub_output_stall_ms = 5000;            // ... for this long (nothing read)
  // HTTP/JSON API (Boost.Beast).
  std::string http_bind = "127.0.0.1";
  int http_port = 8080;  // 0 disables the HTTP listener
  int http_threads = 1;
  int64_t http_max_connections = 1024;
  int64_t http_max_body_bytes = 1ll << 20;
  int64_t http_max_header_bytes = 16ll << 10;
  int64_t http_read_timeout_ms = 30000;  // idle keep-alive and slow requests
  // Access control (commands/access.h, access_config.h). Secrets: never
  // logged or shown (hidden settings).
  std::string password;                          // the default user's; also the HTTP admin token
  std::string password_file;                     // ... read from this file instead
  std::string reader_password;                   // the read-only `reader` user's; also the HTTP read token
  std::string reader_password_file;              // ... read from this file instead
  std::string http_token;                        // the HTTP admin token, when it differs from password
  std::string http_read_token;                   // the HTTP read token, when it differs from reader_password
  std::string http_named_tokens;                 // "name:role:file, ...": HTTP tokens with names of their own
  std::string allow_public_without_auth = "no";  // yes: listen beyond loopback with no secret
  std::string http_allowed_hosts;                // comma-separated host names for Host
  std::string http_allowed_origins;              // comma-separated origins allowed to call the API
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
  // Quotas (core::QuotaOptions).
  int64_t quota_max_amount = 1'000'000'000'000'000;  // 10^15; per consume, grant, reserve or commit
  int64_t quota_default_hold_ttl_ms = 5ll * 60 * 1000;
  int64_t quota_max_hold_ttl_ms = 7ll * 86400 * 1000;

  // Not a setting: the plans of the file's [plans] table, parsed and
  // normalized as PLAN.SET parses its JSON, sorted by name. tallyd sets each
  // one that differs from the stored plan at start and on SIGHUP.
  std::vector<core::Plan> plans;
  // Not a setting either: the file's [prices] table ("chat.tokens" =
  // "0.000002"), as micro-units by name. tallyd sets each one that differs
  // from the stored price at start and on SIGHUP.
  std::vector<std::pair<std::string, int64_t>> prices;

  // Not settings: how this Config was made (set by LoadConfig).
  std::string config_file;             // the file read; empty: none
  std::set<std::string> set_by_flags;  // keys of the settings given as flags
  // --check-config FILE: check everything tallyd checks before it creates
  // anything, say so, and exit (0 ok, 2 bad) instead of starting.
  bool check_only = false;
};

enum class ConfigOutcome { kRun, kExitOk, kExitError };

// Parses argv (and the config file). Prints --help, --version,
// --print-config-example (to `out`) or the errors (to `err`) itself. Flags
// are parsed first, so --help and --print-config-example work whatever the
// config file holds.
ConfigOutcome LoadConfig(int argc, char** argv, Config* config, const std::string& version_text, std::ostream& out,
                         std::ostream& err);

// Reads a TOML file's settings into `config` (values it does not set are left
// alone), and its [plans] table into config->plans (replacing them). Unknown
// keys, wrong types and syntax errors are errors, one message each, naming
// the file (and line) and the setting; an invalid plan is one message naming
// the file, the plan and what PLAN.SET would say of it. False if any. Ranges
// of settings are not checked here (see ValidateConfig).
bool ReadConfigFile(const std::string& path, Config* config, std::vector<std::string>* errors);

// Every setting of `config` outside its allowed values, and every pair of
// settings that contradict each other: one message each.
std::vector<std::string> ValidateConfig(const Config& config);

// The listen addresses of the listeners that are on (bind unless port is 0,
// http_bind unless http_port is 0) must be IP addresses: tallyd does not look
// up host names. One message per bad one, naming the setting.
std::vector<std::string> CheckListenAddresses(const Config& config);

// Every path tallyd creates, opens for writing or binds at start, checked as
// the user it runs as (effective IDs) before anything is created, so a bad
// one stops tallyd with nothing made:
//  - data_dir: an existing directory tallyd can write in, or missing with a
//    nearest existing parent it can write in (tallyd creates it and its
//    parents); what tallyd made in it before (db, db-log, tallyd.lock,
//    tally.reserve, the databases' files) writable too, which catches a data
//    dir left behind by a run as another user;
//  - unix_socket: at most 107 bytes; if something is at that path it is a
//    socket; its directory exists and is writable, or is the data dir (or
//    one of the parents tallyd creates for it). tallyd creates no other
//    directory: under systemd the unit's RuntimeDirectory= makes /run/tally.
// Logs go to stdout and stderr (the journal), so there is no log file to check.
// One message per problem, naming the setting, its value and the path at
// fault. Creates nothing.
std::vector<std::string> CheckPaths(const Config& config);

// What a SIGHUP changed.
struct ReloadResult {
  std::vector<std::string> applied;        // reloadable settings whose value changed
  std::vector<std::string> needs_restart;  // changed in the file, but only read at start-up
};

// Re-reads config->config_file for SIGHUP and applies the reloadable settings
// that were not given as flags (a flag outranks the file, on reload too), and
// replaces config->plans with the file's (the caller sets them on the engine).
// On an error (unreadable file, bad value, invalid plan) nothing changes and
// `error` says why.
bool ReloadConfigFile(Config* config, ReloadResult* result, std::string* error);

}  // namespace tally
