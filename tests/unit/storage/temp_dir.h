#pragma once
// A scratch directory for one test (under /tmp unless told otherwise), removed
// with everything in it when the TempDir goes out of scope. Shared by the
// storage and core unit tests.

#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>

namespace tally::testing {

class TempDir {
 public:
  explicit TempDir(const std::string& root = "/tmp") {
    std::string pattern = root + "/tally-test-XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) std::abort();
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // A path inside the directory (not created).
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// /dev/shm when the machine has it, else /tmp: for tests that open many
// databases and do not measure fsync, since every RocksDB open and close
// fsyncs its manifest and directories dozens of times.
inline std::string RamBackedRoot() {
  std::error_code error;
  return std::filesystem::is_directory("/dev/shm", error) ? "/dev/shm" : "/tmp";
}

}  // namespace tally::testing
