#include "filesystem_util.h"

#include <sys/mount.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

namespace tally::itest {

TmpfsMount::TmpfsMount(const std::string& dir, const char* size) : dir_(dir) {
  std::filesystem::create_directories(dir);
  const std::string options = std::string("size=") + size;
  mounted_ = ::mount("tmpfs", dir.c_str(), "tmpfs", 0, options.c_str()) == 0;
  if (!mounted_) error_ = std::strerror(errno);
}

TmpfsMount::~TmpfsMount() {
  if (mounted_) ::umount2(dir_.c_str(), MNT_DETACH);
}

int64_t FillUp(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "ab");
  if (file == nullptr) return -1;
  const std::string chunk(64 * 1024, 'f');
  int64_t written = 0;
  while (std::fwrite(chunk.data(), 1, chunk.size(), file) == chunk.size() && std::fflush(file) == 0) {
    written += static_cast<int64_t>(chunk.size());
  }
  // What is left of the last chunk, down to the last byte.
  std::clearerr(file);
  while (std::fputc('f', file) != EOF && std::fflush(file) == 0) ++written;
  std::fclose(file);
  return written;
}

}  // namespace tally::itest
