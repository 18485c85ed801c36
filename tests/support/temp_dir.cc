#include "temp_dir.h"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <system_error>

namespace tally::fixtures {
namespace {

bool EnvIsOne(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr && std::string(value) == "1";
}

std::string DiskRoot() {
  const char* tmpdir = std::getenv("TMPDIR");
  std::string root = tmpdir != nullptr && *tmpdir != '\0' ? tmpdir : "/tmp";
  // Keeps "<root>/tally-test-XXXXXX/<socket name>" well within the 107 bytes
  // of a unix socket path.
  return root.size() > 52 ? "/tmp" : root;
}

bool HasWritableShm() {
  std::error_code error;
  return std::getenv("TALLY_NO_SHM") == nullptr && std::filesystem::is_directory("/dev/shm", error) &&
         ::access("/dev/shm", W_OK) == 0;
}

}  // namespace

std::string TempRoot(Medium medium) {
  if (medium == Medium::kRam && HasWritableShm()) return "/dev/shm";
  return DiskRoot();
}

bool KeepTempDirs() { return EnvIsOne("TALLY_TEST_KEEP") || EnvIsOne("TALLY_ITEST_KEEP"); }

TempDir::TempDir(Medium medium) : TempDir(TempRoot(medium)) {}

TempDir::TempDir(const std::string& root) {
  std::string pattern = root + "/tally-test-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) {
    // No directory means no test: the fixtures run outside GoogleTest too
    // (benchmarks), so this stops the program with the reason.
    std::cerr << "[fixtures] mkdtemp(" << pattern << "): " << std::strerror(errno) << "\n";
    std::abort();
  }
  path_ = pattern;
}

TempDir::~TempDir() {
  if (KeepTempDirs()) {
    std::cerr << "[fixtures] keeping " << path_ << "\n";
    return;
  }
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

}  // namespace tally::fixtures
