#include "storage/disk_reserve.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace tally::storage {

Status DiskReserve::Ensure() {
  std::lock_guard<std::mutex> lock(mu_);
  if (bytes_ == 0) return Status::Ok();
  struct stat st {};
  if (held_ && ::stat(path_.c_str(), &st) == 0 && static_cast<uint64_t>(st.st_blocks) * 512 >= bytes_) {
    return Status::Ok();
  }
  int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0666);  // the umask (data_dir_mode) decides
  if (fd < 0) return Status::IoError("cannot create the disk reserve " + path_ + ": " + std::strerror(errno));
  // posix_fallocate allocates real blocks (a sparse file would hold nothing back).
  int err = ::posix_fallocate(fd, 0, static_cast<off_t>(bytes_));
  if (err == 0 && ::fsync(fd) != 0) err = errno;
  ::close(fd);
  if (err != 0) {
    ::unlink(path_.c_str());
    held_ = false;
    std::string what =
        "cannot keep the disk reserve of " + std::to_string(bytes_) + " bytes at " + path_ + ": " + std::strerror(err);
    if (err == ENOSPC) return Status::NoSpace(what + " (no space left on device)");
    return Status::IoError(what);
  }
  held_ = true;
  return Status::Ok();
}

bool DiskReserve::Release() {
  std::lock_guard<std::mutex> lock(mu_);
  if (bytes_ == 0) return false;
  const bool existed = ::unlink(path_.c_str()) == 0;
  held_ = false;
  return existed;
}

bool DiskReserve::held() const {
  std::lock_guard<std::mutex> lock(mu_);
  return held_;
}

StatusOr<uint64_t> DiskReserve::FreeBytes(const std::string& dir) {
  struct statvfs vfs {};
  if (::statvfs(dir.c_str(), &vfs) != 0) return Status::IoError("statvfs " + dir + ": " + std::strerror(errno));
  return static_cast<uint64_t>(vfs.f_bavail) * vfs.f_frsize;
}

}  // namespace tally::storage
