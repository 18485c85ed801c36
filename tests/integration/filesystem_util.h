#pragma once
// A small filesystem of the test's own for disk-full tests: a tmpfs mounted on
// a directory (needs mount rights: root or CAP_SYS_ADMIN; tests skip with the
// reason otherwise) and a file that fills a filesystem to its last byte.

#include <cstdint>
#include <string>

namespace tally::itest {

// Mounts a tmpfs of `size` (e.g. "48m") on `dir` (created if missing) for the
// object's lifetime; mounted() says whether it worked, error() why not.
class TmpfsMount {
 public:
  TmpfsMount(const std::string& dir, const char* size);
  ~TmpfsMount();
  TmpfsMount(const TmpfsMount&) = delete;
  TmpfsMount& operator=(const TmpfsMount&) = delete;

  bool mounted() const { return mounted_; }
  const std::string& error() const { return error_; }

 private:
  std::string dir_;
  bool mounted_ = false;
  std::string error_;
};

// Appends to `path` until the filesystem has no room left, down to the last
// byte; returns the bytes written, -1 if the file cannot be opened.
int64_t FillUp(const std::string& path);

}  // namespace tally::itest
