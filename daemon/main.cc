// tallyd: start-up, background maintenance, signals and ordered shutdown.
//
// Order at start: config -> every setting checked, paths and addresses too,
// before anything is created (a bad one: exit status 2) -> logging -> HTTP
// listener (answers /health, and 503 not_ready to the rest) -> open the store
// and recover -> the config file's plans -> the HTTP routes -> RESP listeners
// -> ready -> READY=1 (systemd).
// SIGHUP re-reads the config file (the settings marked reloadable, and the
// plans). At SIGTERM/SIGINT: stop accepting (RESP and HTTP together), let
// connections finish the replies they owe, write the log, compact, flush and
// close the store; a second SIGTERM/SIGINT meanwhile exits at once
// (SecondSignalWatcher).

#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "access_config.h"
#include "commands/context.h"
#include "commands/registry.h"
#include "config.h"
#include "core/clock.h"
#include "core/engine.h"
#include "net/http_api.h"
#include "net/http_server.h"
#include "net/resp_server.h"
#include "resource_limits.h"
#include "settings.h"

namespace tally {
namespace {

constexpr const char* kVersion = "0.1.0";
// How long an alert may wait for the compaction that makes it readable
// (SUBSCRIBE alerts, the SSE stream, EVENTS.READ) before the shards holding
// alerts are compacted on their own (docs/quotas.md "Latency").
constexpr int64_t kAlertPublishDelayMs = 200;

// Periodic work off the I/O threads: fsync of the log (durability=process),
// compaction on a timer or when the log grows, the systemd watchdog.
class Maintenance {
 public:
  Maintenance(core::Engine& engine, const Config& config) : engine_(engine), config_(config) {}
  ~Maintenance() { Stop(); }

  void Start() {
    thread_ = std::thread([this] { Run(); });
  }
  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

 private:
  void Run() {
    using clock = std::chrono::steady_clock;
    auto next_fsync = clock::now() + std::chrono::milliseconds(config_.fsync_interval_ms);
    auto next_compaction = clock::now() + std::chrono::milliseconds(config_.compaction_interval_ms);
    auto next_quota_sweep = clock::now();
    uint64_t watchdog_usec = 0;
    bool watchdog = sd_watchdog_enabled(0, &watchdog_usec) > 0;
    if (watchdog) {
      spdlog::info("systemd watchdog: WATCHDOG=1 every {} ms while the log can be written", watchdog_usec / 2000);
    }
    auto next_watchdog = clock::now();
    std::unique_lock<std::mutex> lock(mu_);
    while (!stop_) {
      cv_.wait_for(lock, std::chrono::milliseconds(std::min<int64_t>(50, config_.compaction_interval_ms)));
      if (stop_) break;
      lock.unlock();
      auto now = clock::now();
      // Not while writes are refused: the sync would only fail again (and log so).
      if (config_.durability == "process" && now >= next_fsync && engine_.write_state() == storage::WriteState::kOk) {
        // A failed fsync stops writes (Engine::SyncLog): what the kernel
        // dropped is unknown, so nothing more may be acknowledged.
        storage::Status s = engine_.SyncLog();
        if (!s.ok()) spdlog::error("fsync of the log failed: {}", s.ToString());
        next_fsync = now + std::chrono::milliseconds(config_.fsync_interval_ms);
      }
      WatchWriteState();
      // Grants and holds that came due expire (and their alerts fire) even
      // when nobody touches the owner: once a second.
      if (now >= next_quota_sweep && engine_.write_state() == storage::WriteState::kOk) {
        engine_.quotas().Sweep();
        next_quota_sweep = now + std::chrono::seconds(1);
      }
      // Alerts become readable when a compaction writes them: the shards
      // holding one compact early instead of at the next full run.
      if (engine_.write_state() == storage::WriteState::kOk) {
        storage::Status s = engine_.PublishWaitingAlerts(kAlertPublishDelayMs);
        if (!s.ok()) spdlog::error("compaction for waiting alerts failed (will retry): {}", s.ToString());
      }
      // No compaction while writes are refused: it would fail for the same reason.
      if (engine_.write_state() == storage::WriteState::kOk &&
          (now >= next_compaction ||
           engine_.UncompactedEntries() > static_cast<uint64_t>(config_.compaction_max_entries))) {
        storage::Status s = engine_.CompactAll();
        if (!s.ok()) spdlog::error("compaction failed (will retry): {}", s.ToString());
        next_compaction = clock::now() + std::chrono::milliseconds(config_.compaction_interval_ms);
      }
      if (watchdog && now >= next_watchdog) {
        // Not once the log has failed: a failed daemon gets restarted. (A full
        // disk resumes by itself; a restart would not help it.)
        if (engine_.write_state() != storage::WriteState::kFailed) sd_notify(0, "WATCHDOG=1");
        next_watchdog = now + std::chrono::microseconds(watchdog_usec / 2);
      }
      lock.lock();
    }
  }

  // Logs every change of the write state once, and while the disk is full
  // tries to resume writes (Engine::TryResumeWrites) every tick.
  void WatchWriteState() {
    storage::WriteState state = engine_.write_state();
    if (state == storage::WriteState::kDiskFull) {
      storage::Status resumed = engine_.TryResumeWrites();
      if (resumed.ok()) {
        spdlog::warn("space is back: writes resume (disk reserve re-created)");
        state = engine_.write_state();
      } else {
        // Why writes are still refused, at most every 10 s (ticks are 50 ms).
        const auto now = std::chrono::steady_clock::now();
        if (now - last_resume_report_ >= std::chrono::seconds(10)) {
          last_resume_report_ = now;
          spdlog::info("writes still refused: {}", resumed.ToString());
        }
      }
    }
    if (state == last_state_) return;
    if (state == storage::WriteState::kDiskFull) {
      spdlog::error(
          "no space left on device for {}: writes are refused (disk_full), reads go on; they resume "
          "by themselves once space is freed ({})",
          config_.data_dir, engine_.health().ToString());
    } else if (state == storage::WriteState::kFailed) {
      spdlog::critical("the log cannot be written: all writes are refused until tallyd is restarted, reads go on: {}",
                       engine_.health().ToString());
    }
    last_state_ = state;
  }

  core::Engine& engine_;
  const Config& config_;
  std::chrono::steady_clock::time_point last_resume_report_{};
  storage::WriteState last_state_ = storage::WriteState::kOk;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
};

// HTTP while the daemon is not ready (the store is being opened, or the
// daemon is stopping): GET /health says the process is alive, everything else
// is 503 not_ready.
net::HttpResponse NotReadyHttpResponse(const net::HttpRequest& request, std::string_view why) {
  std::string_view path(request.target);
  path = path.substr(0, path.find('?'));
  if (path == "/health" && (request.method == "GET" || request.method == "HEAD")) {
    net::HttpResponse response;
    response.body = "{\"status\":\"ok\"}";
    return response;
  }
  return net::JsonErrorResponse(protocol::ErrorCode::kNotReady, why);
}

// Takes <data_dir>/tallyd.lock for the life of the process (the descriptor is
// never closed). RocksDB locks its own directory too, but only inside
// Engine::Open, and HTTP listens before that: without this a second tallyd on
// the same data dir would fail on the HTTP port instead of saying what is wrong.
bool LockDataDir(const std::string& data_dir, std::string* error) {
  const std::string path = data_dir + "/tallyd.lock";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    *error = "cannot open lock file " + path + ": " + std::strerror(errno);
    return false;
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    *error = errno == EWOULDBLOCK ? "data dir " + data_dir + " is in use by another tallyd (lock file " + path + ")"
                                  : "cannot lock " + path + ": " + std::strerror(errno);
    ::close(fd);
    return false;
  }
  return true;
}

// Raises the descriptor limit and lowers the connection limits to fit it
// (resource_limits.h has the budget). False: not even one connection fits.
// The lowered limits go to `effective`, not to `config`: a SIGHUP compares
// the file with `config` and must not see them as changed settings.
bool FitFileDescriptorLimit(const Config& config, Config* effective) {
  FdLimit limit = RaiseFileDescriptorLimit();
  if (!limit.error.empty()) spdlog::warn("{}", limit.error);
  FdPlan plan = PlanFileDescriptors(config, limit.soft, CountSstFiles(config.data_dir));
  if (!plan.fits) {
    spdlog::critical("{}", plan.message);
    return false;
  }
  if (plan.lowered) {
    spdlog::warn("{}", plan.message);
    effective->max_clients = plan.max_clients;
    effective->http_max_connections = plan.http_max_connections;
  }
  spdlog::info("file descriptor limit {} (hard {}); the configured limits need {}", limit.soft, limit.hard,
               plan.needed);
  return true;
}

// Sets each plan of the config file that differs from the stored one, as
// PLAN.SET does (logged, audited with actor "config"). A plan already as the
// file says writes nothing, so a restart with the same file adds no log entry
// and no audit row. Plans not in the file are left alone. False if a plan
// could not be written (the log refuses writes); the others are still tried.
bool SyncConfigPlans(core::Engine& engine, const std::vector<core::Plan>& plans) {
  bool all_set = true;
  size_t unchanged = 0;
  for (const core::Plan& plan : plans) {
    std::shared_ptr<const core::Plan> stored = engine.quotas().GetPlan(plan.name);
    if (stored != nullptr && *stored == plan) {
      ++unchanged;
      continue;
    }
    core::OpResult<bool> set = engine.quotas().SetPlan(plan, {"config", "PLAN.SET"});
    if (!set.ok()) {
      spdlog::error("cannot set plan '{}' from the config file, writes are refused: {}", plan.name,
                    engine.health().ToString());
      all_set = false;
      continue;
    }
    spdlog::info("plan '{}' {} from the config file", plan.name, stored != nullptr ? "replaced" : "created");
  }
  if (unchanged > 0) spdlog::info("{} plan(s) of the config file already as stored", unchanged);
  return all_set;
}

// The same for the file's prices (PRICE.SET, audited with actor "config").
bool SyncConfigPrices(core::Engine& engine, const std::vector<std::pair<std::string, int64_t>>& prices) {
  bool all_set = true;
  for (const auto& [name, price] : prices) {
    if (engine.metering().GetPrice(name) == price) continue;
    core::OpResult<bool> set = engine.metering().SetPrice(name, price, {"config", "PRICE.SET"});
    if (!set.ok()) {
      spdlog::error("cannot set price '{}' from the config file, writes are refused: {}", name,
                    engine.health().ToString());
      all_set = false;
      continue;
    }
    spdlog::info("price '{}' {} from the config file", name, set.value ? "replaced" : "set");
  }
  return all_set;
}

const char* SignalName(int signal) {
  switch (signal) {
    case SIGINT:
      return "SIGINT";
    case SIGTERM:
      return "SIGTERM";
    case SIGHUP:
      return "SIGHUP";
    default:
      return "signal";
  }
}

// Once stopping: a second SIGTERM or SIGINT (an operator who will not wait
// for a long drain, ^C twice) ends the process at once. Nothing acknowledged
// is lost by it: a reply is sent only once its write is in the log (in the
// OS with durability=process, fsynced with durability=fsync), which is what a
// kill -9 keeps too; the log is fsynced first all the same, and the next
// start replays it. What the drain would still have sent is not sent: those
// clients see their connection close. Exit status 0, as for a clean stop: the
// stop was asked for, and systemd must not restart the daemon for it.
class SecondSignalWatcher {
 public:
  explicit SecondSignalWatcher(core::Engine& engine) : engine_(engine) {}
  ~SecondSignalWatcher() { Stop(); }

  void Start() {
    thread_ = std::thread([this] { Run(); });
  }
  // Before the engine closes: Run uses it.
  void Stop() {
    done_ = true;
    if (thread_.joinable()) thread_.join();
  }

 private:
  void Run() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    // sigwait cannot be interrupted for Stop: wait in short slices.
    const timespec slice{0, 50'000'000};
    while (!done_) {
      const int signal = sigtimedwait(&set, nullptr, &slice);
      if (signal < 0) continue;  // the slice ended (EAGAIN) or EINTR
      if (signal == SIGHUP) {
        spdlog::info("SIGHUP ignored: tallyd is stopping");
        continue;
      }
      spdlog::warn("second {}: stopping now, without waiting for the drain or the final compaction",
                   SignalName(signal));
      storage::Status synced =
          engine_.write_state() == storage::WriteState::kOk ? engine_.SyncLog() : storage::Status::Ok();
      if (!synced.ok()) spdlog::error("fsync of the log failed: {}", synced.ToString());
      spdlog::info("stopped at once: every acknowledged write is in the log, which the next start replays");
      spdlog::default_logger()->flush();
      std::_Exit(0);
    }
  }

  core::Engine& engine_;
  std::atomic<bool> done_{false};
  std::thread thread_;
};

int WaitForSignal(Config& config, core::Engine& engine) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  while (true) {
    int signal = 0;
    if (sigwait(&set, &signal) != 0) continue;
    if (signal == SIGHUP) {
      // Applies the settings marked reloadable in the settings table, and
      // the file's plans.
      std::string error;
      ReloadResult reload;
      if (ReloadConfigFile(&config, &reload, &error)) {
        spdlog::set_level(spdlog::level::from_str(config.log_level));
        auto join = [](const std::vector<std::string>& keys) {
          std::string out;
          for (const std::string& key : keys) out += (out.empty() ? "" : ", ") + key;
          return out.empty() ? std::string("nothing") : out;
        };
        spdlog::info("reloaded {}: applied {} (log level {})",
                     config.config_file.empty() ? "(no config file)" : config.config_file, join(reload.applied),
                     config.log_level);
        if (!reload.needs_restart.empty()) {
          spdlog::warn("changed in the config file but applied only by a restart: {}", join(reload.needs_restart));
        }
        // A plan that cannot be written now keeps its stored definition; the
        // next reload or restart tries again.
        SyncConfigPlans(engine, config.plans);
        SyncConfigPrices(engine, config.prices);
      } else {
        spdlog::error("reload failed, keeping the running configuration: {}", error);
      }
      continue;
    }
    return signal;
  }
}

int Run(int argc, char** argv) {
  Config config;
  std::string version = std::string("tallyd ") + kVersion;
  switch (LoadConfig(argc, argv, &config, version, std::cout, std::cerr)) {
    case ConfigOutcome::kExitOk:
      return 0;
    case ConfigOutcome::kExitError:
      return 2;
    case ConfigOutcome::kRun:
      break;
  }
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %^%l%$ [tallyd] %v");
  spdlog::set_level(spdlog::level::from_str(config.log_level));

  // Block the signals in every thread; the main thread takes them with sigwait.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);

  // Access control: the secrets, and no listener beyond loopback without
  // one unless the operator said so (checked before anything is created).
  AccessControl access;
  std::string access_error;
  if (!ResolveAccess(config, &access, &access_error)) {
    spdlog::critical("bad setting: {}", access_error);
    return 2;
  }
  if (!access.enabled()) {
    for (const std::string& listener : PublicListeners(config)) {
      if (config.allow_public_without_auth != "yes") {
        spdlog::critical(
            "refusing to listen on {} without authentication: anyone who can reach it could change every count. "
            "Set password (or password_file, or TALLY_PASSWORD), bind to 127.0.0.1, or set "
            "allow_public_without_auth = \"yes\" (--allow-public-without-auth yes) if a firewall guards it",
            listener);
        return 2;
      }
      spdlog::warn(
          "NO AUTHENTICATION on {}: anyone who can reach it can read and change every count "
          "(allow_public_without_auth = \"yes\")",
          listener);
    }
  }

  // Every directory and file tallyd and RocksDB create gets data_dir_mode
  // (files without x): RocksDB creates its files with the process umask.
  unsigned dir_mode = 0;
  std::string mode_error;
  if (!ParseDirMode(config.data_dir_mode, &dir_mode, &mode_error)) {
    spdlog::critical("{}", mode_error);
    return 2;
  }
  ::umask(UmaskForDirMode(dir_mode));
  // Who may connect through the unix socket: checked before anything exists.
  unsigned socket_mode = 0;
  if (!ParseSocketMode(config.unix_socket_mode, &socket_mode, &mode_error)) {
    spdlog::critical("bad setting: {}", mode_error);
    return 2;
  }
  int socket_gid = -1;
  if (!config.unix_socket_group.empty()) {
    const struct group* found = ::getgrnam(config.unix_socket_group.c_str());
    if (found == nullptr) {
      spdlog::critical("bad setting: unix_socket_group = '{}' is not a group of this system", config.unix_socket_group);
      return 2;
    }
    socket_gid = static_cast<int>(found->gr_gid);
  }

  // The zone, the listen addresses (LoadConfig) and every path tallyd will
  // create or bind, before anything is created: a bad setting stops it here
  // with nothing made, exit status 2 (systemd does not restart it).
  auto zone = core::TimeZone::Find(config.timezone);
  if (!zone) {
    spdlog::critical("bad setting: timezone = '{}' is not a known IANA time zone (like Europe/Berlin)",
                     config.timezone);
    return 2;
  }
  const std::vector<std::string> path_errors = CheckPaths(config);
  for (const std::string& error : path_errors) spdlog::critical("bad setting: {}", error);
  if (!path_errors.empty()) return 2;

  if (config.check_only) {
    std::cout << "tallyd: " << (config.config_file.empty() ? std::string("the defaults") : config.config_file)
              << ": ok\n";
    return 0;
  }

  // The start-up log: what this daemon runs with, one fact a line.
  spdlog::info("tallyd {} starting (pid {})", kVersion, ::getpid());
  spdlog::info("config file: {}", config.config_file.empty() ? "none (defaults and flags)" : config.config_file);
  spdlog::info("data dir: {}", config.data_dir);
  if (config.durability == "fsync") {
    spdlog::info("durability: fsync (a write is acknowledged once the log is fsynced)");
  } else {
    spdlog::info("durability: process (a write is acknowledged once it is in the log; fsync every {} ms)",
                 config.fsync_interval_ms);
  }
  spdlog::info("time zone: {} (periods of owners without a zone of their own)", config.timezone);

  std::error_code ec;
  std::filesystem::create_directories(config.data_dir, ec);
  if (ec) {
    spdlog::critical("cannot create data dir {}: {}", config.data_dir, ec.message());
    return 1;
  }

  std::string lock_error;
  if (!LockDataDir(config.data_dir, &lock_error)) {
    spdlog::critical("{}", lock_error);
    return 1;
  }

  // The connection limits as they fit the descriptor limit.
  Config effective = config;
  if (!FitFileDescriptorLimit(config, &effective)) return 1;

  ServerState server;
  server.commands = &commands::BuildCommandTable();
  server.access = access;
  spdlog::info("memory limit: {} MiB for RocksDB's block cache and memtables (memory_limit)",
               config.memory_limit >> 20);
  spdlog::info("authentication: {}",
               access.enabled()
                   ? (access.reader_password.empty() ? "on (default user)" : "on (default and reader users)")
                   : "off (no password configured)");

  // HTTP listens before recovery so that /health and /ready (503) answer
  // while the store is opened. Requests go to `http_routes` once the daemon is
  // ready; until then, and again once it stops, to NotReadyHttpResponse.
  std::atomic<bool> stopping{false};
  net::SwappableHttpHandler http_routes(
      [](const net::HttpRequest& request) { return NotReadyHttpResponse(request, "no routes attached"); });
  net::HttpServerOptions http_options;
  http_options.bind = config.http_bind;
  http_options.port = config.http_port;
  http_options.threads = config.http_threads;
  http_options.max_connections = effective.http_max_connections;
  http_options.probe_connections = kHttpProbeConnections;
  http_options.max_body_bytes = config.http_max_body_bytes;
  http_options.max_header_bytes = config.http_max_header_bytes;
  http_options.read_timeout_ms = config.http_read_timeout_ms;
  net::HttpServer http(http_options, [&server, &stopping, &http_routes](const net::HttpRequest& request) {
    if (!server.ready.load(std::memory_order_acquire)) {
      return NotReadyHttpResponse(request, stopping.load() ? "shutting down" : "recovering: the store is being opened");
    }
    return http_routes(request);
  });
  storage::Status http_listening = http.Start();
  if (!http_listening.ok()) {
    spdlog::critical("{}", http_listening.ToString());
    return 1;
  }
  if (http.enabled()) spdlog::info("listening on http://{}:{}", config.http_bind, http.bound_port());
  server.SetHttpFigures([&http] {
    net::HttpServerStats s = http.stats();
    return HttpFigures{http.enabled(),   s.connections_open, s.connections_total, s.rejected_connections,
                       s.requests_total, s.request_errors,   s.accept_failures};
  });

  core::SystemClock clock;
  core::EngineOptions engine_options;
  engine_options.data_dir = config.data_dir + "/db";
  engine_options.fsync_each_write = config.durability == "fsync";
  engine_options.memory_limit_bytes = static_cast<size_t>(config.memory_limit);
  engine_options.counters.default_time_zone = *zone;
  engine_options.counters.dedupe_window_ms = config.dedupe_window_s * 1000;
  const int64_t retention_days[] = {0,
                                    config.retention_hour_days,
                                    config.retention_day_days,
                                    config.retention_week_days,
                                    config.retention_month_days,
                                    config.retention_quarter_days,
                                    config.retention_year_days};
  for (int i = 0; i < core::kIntervalCount; ++i) {
    engine_options.counters.retention_ms[i] = retention_days[i] * 86400 * 1000;
  }
  engine_options.counters.changes_retention_ms = config.changes_retention_s * 1000;
  engine_options.quotas.max_amount = config.quota_max_amount;
  engine_options.quotas.default_hold_ttl_ms = config.quota_default_hold_ttl_ms;
  engine_options.quotas.max_hold_ttl_ms = config.quota_max_hold_ttl_ms;
  engine_options.metering.currency = config.currency;
  engine_options.metering.max_batch_events = config.max_batch_events;
  engine_options.reserve_path = config.data_dir + "/tally.reserve";
  engine_options.reserve_bytes = static_cast<uint64_t>(config.disk_reserve_bytes);
  // TEST hook (storage/fault_fs.h): write faults on demand, driven by a file.
  if (const char* control = std::getenv("TALLY_TEST_FAULT_CONTROL")) engine_options.fault_control_path = control;
  auto started = std::chrono::steady_clock::now();
  // TEST hook: a slow recovery, so tests can watch /ready say 503 meanwhile.
  if (const char* delay = std::getenv("TALLY_TEST_RECOVERY_DELAY_MS")) {
    std::this_thread::sleep_for(std::chrono::milliseconds(std::atoll(delay)));
  }
  auto opened = core::Engine::Open(engine_options, clock);
  if (!opened.ok()) {
    if (opened.status().code() == storage::Status::Code::kNoSpace) {
      spdlog::critical("no space left on device for data dir {}: free some space and start again ({})", config.data_dir,
                       opened.status().ToString());
    } else {
      spdlog::critical("cannot open {}: {}", engine_options.data_dir, opened.status().ToString());
    }
    return 1;
  }
  std::unique_ptr<core::Engine> engine = std::move(opened.value());
  auto recovery_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
  spdlog::info("recovered in {} ms: {} keys, {} log entries replayed", recovery_ms, engine->keyspace().Sizes().keys,
               engine->recovered_entries());
  // After recovery, so each plan is compared with what is stored, and
  // before any client, so the first request sees the file's plans. A tallyd
  // that cannot set them stops rather than serve plans other than the file's.
  if (!SyncConfigPlans(*engine, config.plans) || !SyncConfigPrices(*engine, config.prices)) return 1;

  server.started_at_ms = clock.NowMs();
  server.config = {kVersion,
                   config.bind,
                   config.port,
                   config.unix_socket,
                   config.data_dir,
                   config.durability,
                   config.fsync_interval_ms,
                   config.io_threads,
                   effective.max_clients,
                   config.config_file,
                   config.timezone,
                   config.max_backdate_s * 1000,
                   config.max_future_skew_s * 1000};
  server.config.http_bind = config.http_bind;
  server.config.http_port = http.bound_port();
  for (const Setting& setting : Settings()) {
    if (setting.hidden) continue;
    ConfigSetting shown{std::string(setting.key), setting.GetString(config)};
    if (setting.is_integer()) shown.value = setting.GetInteger(config);
    server.config.settings.push_back(std::move(shown));
  }

  // The routes replace the not-ready handler (thread-safe). They receive
  // requests once server.ready is true and no longer once shutdown begins,
  // so `api` may live on this stack.
  net::HttpApi api(*engine, server);
  // A failed write no longer stops the daemon: the engine refuses writes
  // (disk_full until space returns, storage_failed until a restart) and reads
  // go on; Maintenance logs the change of state.
  http_routes.Set([&api](const net::HttpRequest& request) { return api.Handle(request); });

  net::RespServerOptions net_options;
  net_options.bind = config.bind;
  net_options.port = config.port;
  net_options.unix_socket = config.unix_socket;
  net_options.unix_socket_mode = socket_mode;
  net_options.unix_socket_gid = socket_gid;
  net_options.io_threads = config.io_threads;
  net_options.max_clients = effective.max_clients;
  net_options.idle_timeout_ms = config.timeout * 1000;  // Redis's `timeout`, in seconds
  net_options.limits.max_bulk_bytes = static_cast<size_t>(config.max_bulk_bytes);
  net_options.limits.max_inline_bytes = static_cast<size_t>(config.max_inline_bytes);
  net_options.limits.max_array_length = static_cast<size_t>(config.max_array_length);
  net_options.client_query_buffer_limit = config.client_query_buffer_limit;
  net_options.total_query_buffer_limit = config.total_query_buffer_limit;
  net_options.pubsub_output_limit = config.pubsub_output_limit;
  net_options.pubsub_output_stall_ms = config.pubsub_output_stall_ms;
  net::RespServer resp(*engine, server, net_options);
  server.SetRespFigures([&resp] {
    net::RespServerStats s = resp.stats();
    return RespFigures{s.accept_failures,    s.idle_closed,   s.handler_failures, s.query_buffer_closed,
                       s.query_buffer_bytes, s.pubsub_closed, s.alert_subscribers};
  });
  // Ready before the RESP listener opens, so a client that reaches tallyd
  // over RESP (tests wait for PING) finds /ready and the routes ready too.
  server.ready = true;
  storage::Status listening = resp.Start();
  if (!listening.ok()) {
    spdlog::critical("{}", listening.ToString());
    return 1;
  }
  if (config.port > 0) spdlog::info("listening on {}:{}", config.bind, resp.bound_port());
  if (!config.unix_socket.empty()) spdlog::info("listening on unix socket {}", config.unix_socket);

  Maintenance maintenance(*engine, config);
  maintenance.Start();
  // Every stored counter into memory, in the background (see Engine).
  std::atomic<bool> stopping_counts{false};
  std::thread loader([&engine, &stopping_counts] {
    auto started = std::chrono::steady_clock::now();
    storage::Status s = engine->counters().LoadStoredCounters();
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
    if (s.ok() && engine->counters().all_loaded()) {
      const core::CounterMemoryStats memory = engine->counters().MemoryStats();
      spdlog::info("counters loaded: all stored counters in memory after {} ms ({} counters of {} owners)", ms,
                   memory.counters, memory.owners);
    } else if (!s.ok()) {
      spdlog::error("loading stored counters failed: {}", s.ToString());
    }
    // Then the stored cells by interval (the overview's figure): recounted
    // when a compaction has written since the last count (at most every
    // 10 s) and at least every minute (retention drops cells too), and never
    // more often than 20 times the last count's duration: one pass over an
    // index costs about 0.3 us per cell, so at most 5% of this thread's time.
    using steady = std::chrono::steady_clock;
    auto earliest = steady::now(), latest = steady::now();
    uint64_t written_at_count = UINT64_MAX;
    while (!stopping_counts.load(std::memory_order_acquire)) {
      const auto now = steady::now();
      const uint64_t written = engine->compaction_stats().keys_written;
      if (now >= latest || (now >= earliest && written != written_at_count)) {
        storage::Status counted = engine->counters().CountStoredCells();
        if (!counted.ok()) spdlog::error("counting the stored cells failed (will retry): {}", counted.ToString());
        const auto took = steady::now() - now;
        written_at_count = written;
        earliest = steady::now() + std::max<steady::duration>(std::chrono::seconds(10), 20 * took);
        latest = steady::now() + std::max<steady::duration>(std::chrono::minutes(1), 20 * took);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
  // After the listeners: a unit ordered after tallyd finds them open.
  const bool notified = sd_notify(0, "READY=1\nSTATUS=serving") > 0;
  spdlog::info("ready{}", notified ? " (READY=1 sent to systemd)" : "");

  int signal = WaitForSignal(config, *engine);
  spdlog::info("{}: stopping (a second SIGTERM or SIGINT stops at once, without waiting for the drain)",
               SignalName(signal));
  sd_notify(0, "STOPPING=1\nSTATUS=stopping: draining connections");
  SecondSignalWatcher second_signal(*engine);
  second_signal.Start();
  stopping = true;
  server.ready = false;
  // Both front ends drain at once, each within --shutdown-drain-ms.
  std::thread http_stop([&http, &config] { http.Stop(config.shutdown_drain_ms); });
  resp.Stop(config.shutdown_drain_ms);
  http_stop.join();
  maintenance.Stop();
  engine->counters().StopLoading();
  stopping_counts.store(true, std::memory_order_release);
  loader.join();
  // A store that refuses writes is left as it is: the log holds every
  // acknowledged write, and a sync or flush now could only fail again.
  if (engine->write_state() == storage::WriteState::kDiskFull) engine->TryResumeWrites();
  const bool log_failed = engine->write_state() != storage::WriteState::kOk;
  if (log_failed) {
    spdlog::error("stopping with writes refused: {}", engine->health().ToString());
  } else {
    storage::Status s = engine->CompactAll();
    if (!s.ok()) spdlog::error("final compaction failed (the log still holds every change): {}", s.ToString());
    s = engine->SyncLog();
    if (s.ok()) s = engine->FlushMemtables();
    if (!s.ok()) spdlog::error("final flush failed: {}", s.ToString());
  }
  // From here a second signal waits: the store is closing, which is quick.
  second_signal.Stop();
  engine.reset();
  spdlog::info("stopped cleanly");
  return log_failed ? 1 : 0;
}

}  // namespace
}  // namespace tally

int main(int argc, char** argv) { return tally::Run(argc, argv); }
