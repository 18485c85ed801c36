#pragma once
// Helpers of the service tests (tests/integration/service): running tallyd as
// an unprivileged user, listing a directory tree, a fake systemd notify
// socket, the log of a daemon's last start, and cmake --install.

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "tallyd_process.h"

namespace tally::itest {

// Runs the tallyd binary with `args`. As root, it runs as nobody (uid and gid
// 65534, through setpriv): root may write anywhere, and the path checks are
// about the user tallyd runs as. `started` is false if that is not possible.
ProcessResult RunTallydUnprivileged(const std::vector<std::string>& args);
// The name tallyd reports for the user RunTallydUnprivileged runs it as.
std::string UnprivilegedUserName();

// Every path under `root` (relative, sorted), with its type and mode: two
// listings are equal when nothing was created, removed or changed in mode.
std::vector<std::string> ListTree(const std::string& root);

// Writes `text` to `path` (the test fails if it cannot).
void WriteFile(const std::string& path, const std::string& text);
std::string ReadFile(const std::string& path);

// The part of a TallydProcess log written by its last start.
std::string LastStartLog(const TallydProcess& daemon);

// A unix datagram socket at `path`, as systemd's NOTIFY_SOCKET.
class NotifySocket {
 public:
  explicit NotifySocket(std::string path);
  ~NotifySocket();
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;

  bool ok() const { return fd_ >= 0; }
  const std::string& path() const { return path_; }
  // The next datagram (its lines, e.g. "READY=1\nSTATUS=serving"), or nothing
  // within `timeout`.
  std::optional<std::string> Receive(std::chrono::milliseconds timeout);
  // Datagrams until one has the line `line` (returned), or nothing within `timeout`.
  // Every datagram received meanwhile is appended to `seen`.
  std::optional<std::string> WaitFor(const std::string& line, std::chrono::milliseconds timeout,
                                     std::vector<std::string>* seen = nullptr);

 private:
  std::string path_;
  int fd_ = -1;
};

// True if `datagram` has the line `line`.
bool HasLine(const std::string& datagram, const std::string& line);

// `cmake --install <build dir> --prefix <prefix> --component <c>` for each
// component, with DESTDIR=<destdir>.
ProcessResult CmakeInstall(const std::string& destdir, const std::string& prefix,
                           const std::vector<std::string>& components);

}  // namespace tally::itest
