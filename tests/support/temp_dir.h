#pragma once
// A scratch directory for one test (library tally_test_support), removed with
// everything in it when the TempDir goes out of scope, unless the environment
// has TALLY_TEST_KEEP=1 (or the older TALLY_ITEST_KEEP=1): then it stays and
// its path is printed, for looking at a failed test's data dir or log.

#include <string>

namespace tally::fixtures {

// Where a TempDir lives.
enum class Medium {
  // $TMPDIR, else /tmp: a real disk, for tests that measure or depend on fsync
  // and for tests that start tallyd (a long $TMPDIR falls back to /tmp, as
  // unix socket paths inside the directory are limited to 107 bytes).
  kDisk,
  // /dev/shm when the machine has a writable one and TALLY_NO_SHM is unset,
  // else as kDisk: for tests that open many databases and do not measure
  // fsync, since every RocksDB open and close fsyncs its manifest and
  // directories dozens of times.
  kRam,
};

class TempDir {
 public:
  explicit TempDir(Medium medium = Medium::kDisk);
  // A directory under `root` (benchmarks run by hand on a disk of their choice).
  explicit TempDir(const std::string& root);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // A path inside the directory (not created).
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// The directory a TempDir on `medium` is created in.
std::string TempRoot(Medium medium);

// True when temp dirs are kept (TALLY_TEST_KEEP=1 or TALLY_ITEST_KEEP=1).
bool KeepTempDirs();

}  // namespace tally::fixtures
