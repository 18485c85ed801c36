#include "service_util.h"

#include <poll.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#ifndef TALLY_BUILD_DIR
#error "TALLY_BUILD_DIR must be defined by the build"
#endif
#ifndef TALLY_CMAKE_COMMAND
#error "TALLY_CMAKE_COMMAND must be defined by the build"
#endif

namespace tally::itest {

namespace fs = std::filesystem;

ProcessResult RunTallydUnprivileged(const std::vector<std::string>& args) {
  std::vector<std::string> argv;
  if (::geteuid() == 0) {
    if (!fs::exists("/usr/bin/setpriv")) {
      ProcessResult none;
      none.err = "running as root without /usr/bin/setpriv (util-linux): cannot run tallyd as nobody";
      return none;
    }
    argv = {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"};
  }
  argv.push_back(TallydPath());
  argv.insert(argv.end(), args.begin(), args.end());
  return RunProcess(argv, {}, 20s);
}

std::string UnprivilegedUserName() {
  if (::geteuid() == 0) return "nobody";
  const passwd* user = ::getpwuid(::geteuid());
  return user != nullptr ? user->pw_name : "uid " + std::to_string(::geteuid());
}

std::vector<std::string> ListTree(const std::string& root) {
  std::vector<std::string> out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    struct stat st {};
    if (::lstat(it->path().c_str(), &st) != 0) continue;
    std::ostringstream line;
    line << it->path().lexically_relative(root).string() << " " << std::oct << st.st_mode;
    out.push_back(line.str());
  }
  std::sort(out.begin(), out.end());
  return out;
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  EXPECT_TRUE(out.good()) << "cannot write " << path;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string LastStartLog(const TallydProcess& daemon) {
  const std::string log = daemon.ReadLog();
  const size_t start = log.rfind("---- harness: starting tallyd");
  return start == std::string::npos ? log : log.substr(start);
}

NotifySocket::NotifySocket(std::string path) : path_(std::move(path)) {
  fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return;
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path_.size() >= sizeof address.sun_path) {
    ::close(fd_);
    fd_ = -1;
    return;
  }
  std::memcpy(address.sun_path, path_.c_str(), path_.size() + 1);
  ::unlink(path_.c_str());
  if (::bind(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

NotifySocket::~NotifySocket() {
  if (fd_ >= 0) ::close(fd_);
  ::unlink(path_.c_str());
}

std::optional<std::string> NotifySocket::Receive(std::chrono::milliseconds timeout) {
  if (fd_ < 0) return std::nullopt;
  const auto deadline = SteadyClock::now() + timeout;
  while (true) {
    pollfd wait{fd_, POLLIN, 0};
    const int ready = ::poll(&wait, 1, RemainingMs(deadline));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return std::nullopt;
    char buffer[4096];
    const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return std::nullopt;
    return std::string(buffer, static_cast<size_t>(n));
  }
}

std::optional<std::string> NotifySocket::WaitFor(const std::string& line, std::chrono::milliseconds timeout,
                                                 std::vector<std::string>* seen) {
  const auto deadline = SteadyClock::now() + timeout;
  while (SteadyClock::now() < deadline) {
    auto datagram = Receive(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now()) + 1ms);
    if (!datagram) return std::nullopt;
    if (seen != nullptr) seen->push_back(*datagram);
    if (HasLine(*datagram, line)) return datagram;
  }
  return std::nullopt;
}

bool HasLine(const std::string& datagram, const std::string& line) {
  for (const std::string& each : SplitLines(datagram)) {
    if (each == line) return true;
  }
  return false;
}

ProcessResult CmakeInstall(const std::string& destdir, const std::string& prefix,
                           const std::vector<std::string>& components) {
  ProcessResult all;
  all.started = all.exited = true;
  all.exit_code = 0;
  for (const std::string& component : components) {
    ProcessResult one = RunProcess({"/usr/bin/env", "DESTDIR=" + destdir, TALLY_CMAKE_COMMAND, "--install",
                                    TALLY_BUILD_DIR, "--prefix", prefix, "--component", component},
                                   {}, 120s);
    all.out += one.out;
    all.err += one.err;
    if (!one.exited || one.exit_code != 0) return one;
  }
  return all;
}

}  // namespace tally::itest
