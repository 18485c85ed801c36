#pragma once
// A preallocated file in the data dir that holds back a little space for a
// full disk: released when a write fails for lack of space, so RocksDB can
// finish what it started (the log write in flight, the flush that moves to a
// fresh log file) and tally can make its pending log entries durable;
// created again once space has returned. No RocksDB here.
//
// Thread-safe.

#include <cstdint>
#include <mutex>
#include <string>

#include "storage/status.h"

namespace tally::storage {

class DiskReserve {
 public:
  // `bytes` = 0: no reserve (Ensure and Release do nothing).
  DiskReserve(std::string path, uint64_t bytes) : path_(std::move(path)), bytes_(bytes) {}

  // Makes sure the file exists with all its blocks allocated: NoSpace when
  // the filesystem cannot hold it (a partial file is removed again).
  Status Ensure();
  // Deletes the file, giving its space back. True if there was one.
  bool Release();
  bool held() const;
  uint64_t bytes() const { return bytes_; }
  const std::string& path() const { return path_; }

  // Bytes an unprivileged process may still write in `dir`'s filesystem.
  static StatusOr<uint64_t> FreeBytes(const std::string& dir);

 private:
  const std::string path_;
  const uint64_t bytes_;
  mutable std::mutex mu_;
  bool held_ = false;  // guarded by mu_
};

}  // namespace tally::storage
