#pragma once
// Helpers of the transport tests (tests/unit/net): waiting for a condition,
// and running out of file descriptors.

#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <thread>
#include <vector>

namespace tally::testing {

// Polls `predicate` every 2 ms until it holds (true) or `timeout` passed
// (false). For tests watching a server from outside; servers never poll.
template <typename Predicate>
bool Eventually(Predicate predicate, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!predicate()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

// Runs the test process out of file descriptors (RLIMIT_NOFILE lowered to
// just above what is open, every free number below it taken), so that a
// server's accept() fails with EMFILE while a client can still connect: the
// connection waits in the listen backlog. Restores everything when released
// or destroyed.
class FdExhaustion {
 public:
  // Leaves `spare` descriptors free (for the test's own client sockets).
  explicit FdExhaustion(int spare) {
    getrlimit(RLIMIT_NOFILE, &saved_);
    rlimit low = saved_;
    low.rlim_cur = static_cast<rlim_t>(OpenDescriptors() + 16);
    if (low.rlim_cur < saved_.rlim_cur) setrlimit(RLIMIT_NOFILE, &low);
    for (;;) {
      int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
      if (fd < 0) break;
      fillers_.push_back(fd);
    }
    for (int i = 0; i < spare && !fillers_.empty(); ++i) {
      ::close(fillers_.back());
      fillers_.pop_back();
    }
  }
  ~FdExhaustion() { Release(); }
  FdExhaustion(const FdExhaustion&) = delete;
  FdExhaustion& operator=(const FdExhaustion&) = delete;

  // True if the process really ran out (the fillers hit the limit).
  bool exhausted() const { return !fillers_.empty(); }

  void Release() {
    for (int fd : fillers_) ::close(fd);
    fillers_.clear();
    setrlimit(RLIMIT_NOFILE, &saved_);
  }

 private:
  static int OpenDescriptors() {
    int count = 0;
    if (DIR* dir = ::opendir("/proc/self/fd")) {
      while (::readdir(dir) != nullptr) ++count;
      ::closedir(dir);
    }
    return count;
  }

  rlimit saved_{};
  std::vector<int> fillers_;
};

}  // namespace tally::testing
