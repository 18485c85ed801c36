#pragma once
// Running the test process out of file descriptors, for tests of a server's
// accept() failures (tests/unit/net). Header-only.

#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <vector>

namespace tally::fixtures {

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

}  // namespace tally::fixtures
