#include "config.h"

#include <CLI/CLI.hpp>
#include <toml++/toml.h>

#include <filesystem>
#include <iostream>

namespace tally {
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
  static const char* kKnown[] = {"data_dir", "bind", "port", "unix_socket", "durability", "fsync_interval_ms",
                                 "log_level", "io_threads", "max_clients", "compaction_interval_ms",
                                 "compaction_max_entries", "shutdown_drain_ms", "max_bulk_bytes",
                                 "max_inline_bytes", "max_array_length", "timezone", "max_backdate_s",
                                 "max_future_skew_s", "dedupe_window_s", "retention_hour_days",
                                 "retention_day_days", "retention_week_days", "retention_month_days",
                                 "retention_quarter_days", "retention_year_days"};
  for (const auto& [key, value] : t) {
    bool known = false;
    for (const char* k : kKnown) known = known || key.str() == k;
    if (!known) {
      *error = path + ": unknown setting '" + std::string(key.str()) + "'";
      return false;
    }
  }
  auto str = [&](const char* key, std::string& out) {
    if (auto v = t[key].value<std::string>()) out = *v;
  };
  auto num = [&](const char* key, auto& out) {
    if (auto v = t[key].value<int64_t>()) out = static_cast<std::remove_reference_t<decltype(out)>>(*v);
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
  return true;
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

  CLI::App app{"tallyd — counts, meters and limits usage; speaks RESP (Redis clients work) on TCP and a unix socket."};
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
  app.add_option("--io-threads", config->io_threads, "Network I/O threads")
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
  app.add_option("--timezone", config->timezone,
                 "IANA time zone for periods of owners without their own (OWNER.TZ)")
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
  if (config->unix_socket.empty()) config->unix_socket = config->data_dir + "/tally.sock";
  if (config->unix_socket == "none") config->unix_socket.clear();
  return ConfigOutcome::kRun;
}

bool ReloadConfigFile(Config* config, std::string* error) {
  if (config->config_file.empty()) return true;
  Config fresh;
  if (!ReadFile(config->config_file, &fresh, error)) return false;
  config->log_level = fresh.log_level;
  return true;
}

}  // namespace tally
