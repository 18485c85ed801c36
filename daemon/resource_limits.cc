#include "resource_limits.h"

#include <sys/resource.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace tally {

FdBudget ComputeFdBudget(const Config& config, int64_t sst_files) {
  FdBudget budget;
  const bool http = config.http_port > 0;
  budget.fixed = kFixedFds + kFdsPerIoThread * (config.io_threads + (http ? config.http_threads : 0));
  budget.rocksdb = kRocksDbBaseFds + 2 * std::max<int64_t>(0, sst_files);
  budget.http_reserve = http ? kHttpProbeConnections : 0;
  return budget;
}

FdPlan PlanFileDescriptors(const Config& config, int64_t fd_limit, int64_t sst_files) {
  const FdBudget budget = ComputeFdBudget(config, sst_files);
  const bool http = config.http_port > 0;
  const int64_t http_wanted = http ? config.http_max_connections : 0;
  const int64_t wanted = config.max_clients + http_wanted;
  FdPlan plan;
  plan.needed = wanted + budget.Overhead();
  plan.max_clients = config.max_clients;
  plan.http_max_connections = config.http_max_connections;
  const std::string needs =
      "tally needs " + std::to_string(budget.Overhead()) + " for itself (" + std::to_string(budget.rocksdb) +
      " RocksDB: " + std::to_string(kRocksDbBaseFds) + " + 2 x " + std::to_string(sst_files) + " SST files; " +
      std::to_string(budget.fixed) + " listeners, I/O threads and the rest" +
      (http ? "; " + std::to_string(budget.http_reserve) + " HTTP health-probe reserve" : "") + ")";
  const int64_t available = fd_limit - budget.Overhead();
  if (wanted <= available) return plan;
  if (available < (http ? 2 : 1)) {
    plan.fits = false;
    plan.message = "the file descriptor limit of " + std::to_string(fd_limit) +
                   " (ulimit -n, LimitNOFILE) is too low to serve any connection: " + needs +
                   "; raise it to at least " + std::to_string(plan.needed);
    return plan;
  }
  // Each front end keeps its share of what is left.
  int64_t http_share = 0;
  if (http) {
    http_share = std::clamp<int64_t>(available * http_wanted / wanted, 1, std::min(http_wanted, available - 1));
  }
  plan.max_clients = std::min(config.max_clients, available - http_share);
  if (http) plan.http_max_connections = http_share;
  plan.lowered = true;
  plan.message = "the file descriptor limit is " + std::to_string(fd_limit) + " (ulimit -n, LimitNOFILE) and " + needs +
                 ": lowering max_clients from " + std::to_string(config.max_clients) + " to " +
                 std::to_string(plan.max_clients);
  if (http && plan.http_max_connections != config.http_max_connections) {
    plan.message += " and http_max_connections from " + std::to_string(config.http_max_connections) + " to " +
                    std::to_string(plan.http_max_connections);
  }
  plan.message += "; raise the limit to at least " + std::to_string(plan.needed) + " for the configured ones";
  return plan;
}

namespace {

int64_t NrOpen() {
  std::ifstream in("/proc/sys/fs/nr_open");
  int64_t value = 0;
  if (in >> value && value > 0) return value;
  return 1 << 20;  // the kernel's default
}

}  // namespace

FdLimit RaiseFileDescriptorLimit() {
  FdLimit out;
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    out.error = std::string("getrlimit(RLIMIT_NOFILE): ") + std::strerror(errno);
    return out;
  }
  auto value = [](rlim_t v, int64_t unlimited) {
    return v == RLIM_INFINITY ? unlimited : static_cast<int64_t>(std::min<rlim_t>(v, INT64_MAX));
  };
  out.hard = value(limit.rlim_max, NrOpen());
  out.soft_before = value(limit.rlim_cur, out.hard);
  out.soft = out.soft_before;
  if (out.soft >= out.hard) return out;
  rlimit raised = limit;
  raised.rlim_cur = static_cast<rlim_t>(out.hard);
  if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) {
    out.soft = out.hard;
  } else {
    out.error = "cannot raise the file descriptor limit from " + std::to_string(out.soft_before) + " to " +
                std::to_string(out.hard) + ": " + std::strerror(errno);
  }
  return out;
}

int64_t CountSstFiles(const std::string& dir) {
  std::error_code ec;
  int64_t count = 0;
  auto it = std::filesystem::recursive_directory_iterator(dir, ec);
  for (; !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (it->path().extension() == ".sst") ++count;
  }
  return count;
}

bool ParseDirMode(std::string_view text, unsigned* mode, std::string* error) {
  unsigned value = 0;
  bool valid = text.size() >= 3 && text.size() <= 4;
  for (char c : text) {
    if (c < '0' || c > '7') valid = false;
    value = value * 8 + static_cast<unsigned>(c - '0');
  }
  if (valid && text.size() == 4 && text[0] != '0') valid = false;  // no setuid, setgid or sticky bits
  if (!valid) {
    *error = "data_dir_mode = \"" + std::string(text) + "\" is not an octal mode like \"0700\" or \"0750\"";
    return false;
  }
  if ((value & 0700) != 0700) {
    *error = "data_dir_mode = \"" + std::string(text) + "\" must give the owner rwx (07xx): tallyd reads, writes " +
             "and lists its own data dir";
    return false;
  }
  *mode = value;
  return true;
}

bool ParseSocketMode(std::string_view text, unsigned* mode, std::string* error) {
  unsigned value = 0;
  bool valid = text.size() >= 3 && text.size() <= 4 && (text.size() == 3 || text[0] == '0');
  for (char c : text) {
    if (c < '0' || c > '7') valid = false;
    value = value * 8 + static_cast<unsigned>(c - '0');
  }
  if (!valid || (value & 0600) != 0600) {
    *error = "unix_socket_mode = \"" + std::string(text) +
             "\" is not an octal mode that gives the owner rw, like \"0660\" or \"0600\"";
    return false;
  }
  *mode = value;
  return true;
}

unsigned UmaskForDirMode(unsigned mode) { return ~mode & 0777u; }

}  // namespace tally
