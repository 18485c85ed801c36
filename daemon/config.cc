#include "config.h"

#include <toml++/toml.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <thread>

namespace tally {

int DefaultIoThreads() {
  const unsigned cores = std::thread::hardware_concurrency();
  return static_cast<int>(std::max(1u, cores / 2));
}

namespace {

constexpr const char* kDefaultConfigPath = "/etc/tally/tally.toml";

bool ReadFile(const std::string& path, Config* c, std::string* error) {
  // Debian's toml++ is built with exceptions: parse errors arrive as toml::parse_error.
  toml::table t;
  try {
    t = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    *error = path + ":" + std::to_string(e.source().begin.line) + ": " + std::string(e.description());
    return false;
  }
  // Unknown keys are errors: a typo must not silently fall back to a default.
  static const char* kKnown[] = {"changes_retention_s",
                                 "data_dir",
                                 "bind",
                                 "port",
                                 "unix_socket",
                                 "durability",
                                 "fsync_interval_ms",
                                 "log_level",
                                 "io_threads",
                                 "max_clients",
                                 "compaction_interval_ms",
                                 "compaction_max_entries",
                                 "shutdown_drain_ms",
                                 "max_bulk_bytes",
                                 "max_inline_bytes",
                                 "max_array_length",
                                 "timezone",
                                 "max_backdate_s",
                                 "max_future_skew_s",
                                 "dedupe_window_s",
                                 "retention_hour_days",
                                 "retention_day_days",
                                 "retention_week_days",
                                 "retention_month_days",
                                 "retention_quarter_days",
                                 "retention_year_days",
                                 "http_bind",
                                 "http_port",
                                 "http_threads",
                                 "http_max_connections",
                                 "http_max_body_bytes",
                                 "http_max_header_bytes",
                                 "http_read_timeout_ms"};
  for (const auto& [key, value] : t) {
    bool known = false;
    for (const char* k : kKnown) known = known || key.str() == k;
    if (!known) {
      *error = path + ": unknown setting '" + std::string(key.str()) + "'";
      return false;
    }
  }
  // A setting of the wrong type is an error, not a silent default.
  bool types_ok = true;
  auto str = [&](const char* key, std::string& out) {
    if (!t.contains(key)) return;
    if (auto v = t[key].value<std::string>()) {
      out = *v;
    } else if (types_ok) {
      *error = path + ": setting '" + key + "' must be a string";
      types_ok = false;
    }
  };
  auto num = [&](const char* key, auto& out) {
    if (!t.contains(key)) return;
    if (t[key].is_integer()) {
      out = static_cast<std::remove_reference_t<decltype(out)>>(*t[key].value<int64_t>());
    } else if (types_ok) {
      *error = path + ": setting '" + key + "' must be an integer";
      types_ok = false;
    }
  };
  str("data_dir", c->data_dir);
  str("bind", c->bind);
  num("port", c->port);
  str("unix_socket", c->unix_socket);
  str("durability", c->durability);
  num("fsync_interval_ms", c->fsync_interval_ms);
  str("log_level", c->log_level);
  num("io_threads", c->io_threads);
  num("max_clients", c->max_clients);
  num("compaction_interval_ms", c->compaction_interval_ms);
  num("compaction_max_entries", c->compaction_max_entries);
  num("shutdown_drain_ms", c->shutdown_drain_ms);
  num("max_bulk_bytes", c->max_bulk_bytes);
  num("max_inline_bytes", c->max_inline_bytes);
  num("max_array_length", c->max_array_length);
  str("timezone", c->timezone);
  num("max_backdate_s", c->max_backdate_s);
  num("max_future_skew_s", c->max_future_skew_s);
  num("dedupe_window_s", c->dedupe_window_s);
  num("retention_hour_days", c->retention_hour_days);
  num("retention_day_days", c->retention_day_days);
  num("retention_week_days", c->retention_week_days);
  num("retention_month_days", c->retention_month_days);
  num("retention_quarter_days", c->retention_quarter_days);
  num("retention_year_days", c->retention_year_days);
  num("changes_retention_s", c->changes_retention_s);
  str("http_bind", c->http_bind);
  num("http_port", c->http_port);
  num("http_threads", c->http_threads);
  num("http_max_connections", c->http_max_connections);
  num("http_max_body_bytes", c->http_max_body_bytes);
  num("http_max_header_bytes", c->http_max_header_bytes);
  num("http_read_timeout_ms", c->http_read_timeout_ms);
  return types_ok;
}

// Checks the merged settings (file values never went through the flag
// checks), so a bad value in tally.toml is refused like a bad flag.
bool Validate(const Config& c, std::string* error) {
  auto in = [](int64_t v, int64_t lo, int64_t hi) { return v >= lo && v <= hi; };
  static const char* kLevels[] = {"trace", "debug", "info", "warn", "error", "critical", "off"};
  bool level_ok = false;
  for (const char* level : kLevels) level_ok = level_ok || c.log_level == level;
  if (c.durability != "process" && c.durability != "fsync") {
    *error = "durability must be 'process' or 'fsync', not '" + c.durability + "'";
  } else if (!level_ok) {
    *error = "log_level must be one of trace, debug, info, warn, error, critical, off; not '" + c.log_level + "'";
  } else if (!in(c.port, 0, 65535)) {
    *error = "port must be 0-65535";
  } else if (!in(c.io_threads, 1, 64)) {
    *error = "io_threads must be 1-64";
  } else if (!in(c.max_clients, 1, 1000000)) {
    *error = "max_clients must be 1-1000000";
  } else if (!in(c.fsync_interval_ms, 1, 60000)) {
    *error = "fsync_interval_ms must be 1-60000";
  } else if (!in(c.compaction_interval_ms, 10, 3600000)) {
    *error = "compaction_interval_ms must be 10-3600000";
  } else if (c.compaction_max_entries < 1 || c.max_bulk_bytes < 1 || c.max_inline_bytes < 16 ||
             c.max_array_length < 1 || c.shutdown_drain_ms < 0) {
    *error = "compaction_max_entries, max_bulk_bytes, max_array_length must be positive, max_inline_bytes >= 16";
  } else if (c.max_backdate_s < 0 || c.max_future_skew_s < 0 || c.dedupe_window_s < 1) {
    *error = "max_backdate_s and max_future_skew_s must be >= 0, dedupe_window_s >= 1";
  } else if (c.retention_hour_days < 0 || c.retention_day_days < 0 || c.retention_week_days < 0 ||
             c.retention_month_days < 0 || c.retention_quarter_days < 0 || c.retention_year_days < 0) {
    *error = "retention_*_days must be >= 0 (0 keeps forever)";
  } else if (!in(c.changes_retention_s, 0, int64_t{10} * 366 * 86400)) {
    *error = "changes_retention_s must be 0-316224000 (0 keeps forever)";
  } else if (!in(c.http_port, 0, 65535)) {
    *error = "http_port must be 0-65535";
  } else if (!in(c.http_threads, 1, 64)) {
    *error = "http_threads must be 1-64";
  } else if (!in(c.http_max_connections, 1, 1000000)) {
    *error = "http_max_connections must be 1-1000000";
  } else if (!in(c.http_max_body_bytes, 1, int64_t{1} << 32)) {
    *error = "http_max_body_bytes must be 1-4294967296";
  } else if (!in(c.http_max_header_bytes, 1024, int64_t{1} << 24)) {
    *error = "http_max_header_bytes must be 1024-16777216";
  } else if (!in(c.http_read_timeout_ms, 10, 3600000)) {
    *error = "http_read_timeout_ms must be 10-3600000";
  } else {
    return true;
  }
  return false;
}

// Finds --config before the full parse, so the file's values become the
// defaults that flags then override.
std::string FindConfigFlag(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--config" && i + 1 < argc) return argv[i + 1];
    if (arg.rfind("--config=", 0) == 0) return arg.substr(9);
  }
  return "";
}

}  // namespace

ConfigOutcome LoadConfig(int argc, char** argv, Config* config, std::string* version_text) {
  std::string file = FindConfigFlag(argc, argv);
  bool explicit_file = !file.empty();
  if (!explicit_file && std::filesystem::exists(kDefaultConfigPath)) file = kDefaultConfigPath;
  if (!file.empty()) {
    if (explicit_file && !std::filesystem::exists(file)) {
      std::cerr << "tallyd: config file " << file << " does not exist\n";
      return ConfigOutcome::kExitError;
    }
    std::string error;
    if (!ReadFile(file, config, &error)) {
      std::cerr << "tallyd: bad config: " << error << "\n";
      return ConfigOutcome::kExitError;
    }
    config->config_file = file;
  }

  CLI::App app{
      "tallyd — counts, meters and limits usage; speaks RESP (Redis clients work) on TCP and a unix socket, "
      "and HTTP/JSON."};
  app.set_version_flag("--version", *version_text);
  std::string ignored_config;
  app.add_option("--config", ignored_config, "TOML config file (default: /etc/tally/tally.toml if present)");
  app.add_option("--data-dir", config->data_dir, "Data directory (RocksDB)")->capture_default_str();
  app.add_option("--bind", config->bind, "TCP address to listen on")->capture_default_str();
  app.add_option("--port", config->port, "TCP port for the line protocol (0 disables)")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  app.add_option("--unix-socket", config->unix_socket,
                 "Unix socket path (default <data-dir>/tally.sock; 'none' disables)");
  app.add_option("--durability", config->durability,
                 "process: acknowledged writes survive kill -9 (fsync every --fsync-interval-ms); "
                 "fsync: every reply waits for fsync (group commit), survives power loss")
      ->check(CLI::IsMember({"process", "fsync"}))
      ->capture_default_str();
  app.add_option("--fsync-interval-ms", config->fsync_interval_ms, "With durability=process, fsync this often")
      ->check(CLI::Range(int64_t{1}, int64_t{60000}))
      ->capture_default_str();
  app.add_option("--log-level", config->log_level, "trace, debug, info, warn, error, critical, off")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}))
      ->capture_default_str();
  app.add_option("--io-threads", config->io_threads, "Network I/O threads (default: half the cores, at least 1)")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  app.add_option("--max-clients", config->max_clients, "Most simultaneous connections")
      ->check(CLI::Range(int64_t{1}, int64_t{1000000}))
      ->capture_default_str();
  app.add_option("--compaction-interval-ms", config->compaction_interval_ms,
                 "Fold the log into compacted state this often")
      ->check(CLI::Range(int64_t{10}, int64_t{3600000}))
      ->capture_default_str();
  app.add_option("--compaction-max-entries", config->compaction_max_entries,
                 "Compact early once this many log entries are pending")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 40))
      ->capture_default_str();
  app.add_option("--shutdown-drain-ms", config->shutdown_drain_ms,
                 "On SIGTERM, wait this long for connections to finish")
      ->capture_default_str();
  app.add_option("--max-bulk-bytes", config->max_bulk_bytes, "Largest bulk argument")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 31))
      ->capture_default_str();
  app.add_option("--max-inline-bytes", config->max_inline_bytes, "Longest inline command line")
      ->check(CLI::Range(int64_t{16}, int64_t{1} << 30))
      ->capture_default_str();
  app.add_option("--max-array-length", config->max_array_length, "Most arguments in one command")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 30))
      ->capture_default_str();
  app.add_option("--timezone", config->timezone, "IANA time zone for periods of owners without their own (OWNER.TZ)")
      ->capture_default_str();
  app.add_option("--max-backdate-s", config->max_backdate_s, "How far in the past an event's AT may be")
      ->check(CLI::Range(int64_t{0}, int64_t{100} * 365 * 86400))
      ->capture_default_str();
  app.add_option("--max-future-skew-s", config->max_future_skew_s, "How far in the future an event's AT may be")
      ->check(CLI::Range(int64_t{0}, int64_t{86400}))
      ->capture_default_str();
  app.add_option("--dedupe-window-s", config->dedupe_window_s, "How long an event ID is remembered")
      ->check(CLI::Range(int64_t{1}, int64_t{10} * 365 * 86400))
      ->capture_default_str();
  app.add_option("--http-bind", config->http_bind, "Address of the HTTP/JSON API")->capture_default_str();
  app.add_option("--http-port", config->http_port, "TCP port of the HTTP/JSON API (0 disables)")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  app.add_option("--http-threads", config->http_threads, "HTTP I/O threads")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  app.add_option("--http-max-connections", config->http_max_connections,
                 "Most simultaneous HTTP connections (further ones get 429)")
      ->check(CLI::Range(int64_t{1}, int64_t{1000000}))
      ->capture_default_str();
  app.add_option("--http-max-body-bytes", config->http_max_body_bytes, "Largest HTTP request body (else 413)")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 32))
      ->capture_default_str();
  app.add_option("--http-max-header-bytes", config->http_max_header_bytes,
                 "Largest HTTP request line and headers (else 431)")
      ->check(CLI::Range(int64_t{1024}, int64_t{1} << 24))
      ->capture_default_str();
  app.add_option("--http-read-timeout-ms", config->http_read_timeout_ms,
                 "Close idle HTTP keep-alive connections after this long; a slow request gets 408")
      ->check(CLI::Range(int64_t{10}, int64_t{3600000}))
      ->capture_default_str();
  struct RetentionFlag {
    const char* name;
    int64_t* days;
  };
  for (RetentionFlag flag : {RetentionFlag{"--retention-hour-days", &config->retention_hour_days},
                             RetentionFlag{"--retention-day-days", &config->retention_day_days},
                             RetentionFlag{"--retention-week-days", &config->retention_week_days},
                             RetentionFlag{"--retention-month-days", &config->retention_month_days},
                             RetentionFlag{"--retention-quarter-days", &config->retention_quarter_days},
                             RetentionFlag{"--retention-year-days", &config->retention_year_days}}) {
    app.add_option(flag.name, *flag.days, "Keep cells of this interval this many days (0 = forever)")
        ->check(CLI::Range(int64_t{0}, int64_t{100} * 366))
        ->capture_default_str();
  }
  app.add_option("--changes-retention-s", config->changes_retention_s,
                 "Keep changefeed records (CHANGES.READ) this many seconds (0 = forever)")
      ->check(CLI::Range(int64_t{0}, int64_t{10} * 366 * 86400))
      ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    app.exit(e);
    return ConfigOutcome::kExitOk;
  } catch (const CLI::CallForVersion& e) {
    app.exit(e);
    return ConfigOutcome::kExitOk;
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return ConfigOutcome::kExitError;
  }
  std::string invalid;
  if (!Validate(*config, &invalid)) {
    std::cerr << "tallyd: bad setting: " << invalid << "\n";
    return ConfigOutcome::kExitError;
  }
  config->log_level_from_flag = app.count("--log-level") > 0;
  if (config->unix_socket.empty()) config->unix_socket = config->data_dir + "/tally.sock";
  if (config->unix_socket == "none") config->unix_socket.clear();
  return ConfigOutcome::kRun;
}

bool ReloadConfigFile(Config* config, std::string* error) {
  if (config->config_file.empty()) return true;
  Config fresh;
  if (!ReadFile(config->config_file, &fresh, error) || !Validate(fresh, error)) return false;
  // A --log-level given on the command line outranks the file, on reload too.
  if (!config->log_level_from_flag) config->log_level = fresh.log_level;
  return true;
}

}  // namespace tally
