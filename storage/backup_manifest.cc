#include "storage/backup_manifest.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "storage/wal_file_check.h"

namespace tally::storage {

namespace fs = std::filesystem;

namespace {

constexpr const char* kInstanceDirs[] = {"db", "db-log"};
constexpr size_t kChunkBytes = 1 << 20;

std::string Errno(const std::string& what, const std::string& path) {
  return what + " " + path + ": " + std::strerror(errno);
}

// Reads `path` in chunks, handing each to `chunk` (which may fail the read).
Status ReadChunks(const std::string& path, const std::function<Status(const char*, size_t)>& chunk) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::IoError(Errno("cannot open", path));
  std::string buffer(kChunkBytes, '\0');
  Status s;
  while (s.ok()) {
    ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) s = Status::IoError(Errno("cannot read", path));
    if (n <= 0) break;
    s = chunk(buffer.data(), static_cast<size_t>(n));
  }
  ::close(fd);
  return s;
}

Status WriteAll(int fd, const char* data, size_t n, const std::string& path) {
  while (n > 0) {
    ssize_t w = ::write(fd, data, n);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0)
      return errno == ENOSPC ? Status::NoSpace(Errno("cannot write", path))
                             : Status::IoError(Errno("cannot write", path));
    data += w;
    n -= static_cast<size_t>(w);
  }
  return Status::Ok();
}

Status SyncDir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Status::IoError(Errno("cannot open", dir));
  int rc = ::fsync(fd);
  ::close(fd);
  return rc == 0 ? Status::Ok() : Status::IoError(Errno("cannot fsync", dir));
}

// Reports progress once per chunk, so callers draw at most one update per MiB.
struct ProgressCounter {
  const ByteProgress& progress;
  uint64_t total;
  uint64_t done = 0;
  void Add(size_t n) {
    done += n;
    if (progress) progress(done, total);
  }
};

}  // namespace

uint64_t BackupManifest::total_bytes() const {
  uint64_t total = 0;
  for (const BackupFile& file : files) total += file.bytes;
  return total;
}

StatusOr<BackupManifest> WriteBackupManifest(const std::string& dir, const std::string& tally_version,
                                             int64_t created_ms, const ByteProgress& progress) {
  BackupManifest manifest;
  manifest.tally_version = tally_version;
  manifest.created_ms = created_ms;
  std::error_code ec;
  for (const char* instance : kInstanceDirs) {
    for (const auto& entry : fs::directory_iterator(fs::path(dir) / instance, ec)) {
      if (!entry.is_regular_file()) continue;
      manifest.files.push_back({std::string(instance) + "/" + entry.path().filename().string(), entry.file_size(), 0});
    }
    if (ec) return Status::IoError("cannot list " + dir + "/" + instance + ": " + ec.message());
  }
  std::sort(manifest.files.begin(), manifest.files.end(),
            [](const BackupFile& a, const BackupFile& b) { return a.path < b.path; });
  ProgressCounter counter{progress, manifest.total_bytes()};
  for (BackupFile& file : manifest.files) {
    uint32_t crc = 0;
    Status s = ReadChunks(dir + "/" + file.path, [&](const char* data, size_t n) {
      crc = Crc32c(crc, data, n);
      counter.Add(n);
      return Status::Ok();
    });
    if (!s.ok()) return s;
    file.crc32c = crc;
  }

  std::ostringstream text;
  text << "tally-backup 1\ntally-version " << tally_version << "\ncreated-ms " << created_ms << "\n";
  char crc_hex[9];
  for (const BackupFile& file : manifest.files) {
    std::snprintf(crc_hex, sizeof(crc_hex), "%08" PRIx32, file.crc32c);
    text << "file " << crc_hex << " " << file.bytes << " " << file.path << "\n";
  }
  const std::string path = dir + "/" + kBackupManifestName;
  const std::string body = text.str();
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::IoError(Errno("cannot create", path));
  Status s = WriteAll(fd, body.data(), body.size(), path);
  if (s.ok() && ::fsync(fd) != 0) s = Status::IoError(Errno("cannot fsync", path));
  ::close(fd);
  if (s.ok()) s = SyncDir(dir);
  if (!s.ok()) return s;
  return manifest;
}

StatusOr<BackupManifest> ReadBackupManifest(const std::string& dir) {
  const std::string path = dir + "/" + kBackupManifestName;
  std::ifstream in(path);
  if (!in) {
    return errno == ENOENT ? Status::NotFound("no " + std::string(kBackupManifestName) + " in " + dir)
                           : Status::IoError(Errno("cannot read", path));
  }
  BackupManifest manifest;
  std::string line;
  int line_number = 0;
  bool header = false;
  while (std::getline(in, line)) {
    ++line_number;
    std::istringstream fields(line);
    std::string tag;
    fields >> tag;
    bool ok = true;
    if (tag == "tally-backup") {
      int version = 0;
      ok = static_cast<bool>(fields >> version) && version == 1;
      header = ok;
    } else if (tag == "tally-version") {
      ok = static_cast<bool>(fields >> manifest.tally_version);
    } else if (tag == "created-ms") {
      ok = static_cast<bool>(fields >> manifest.created_ms);
    } else if (tag == "file") {
      BackupFile file;
      std::string crc_hex;
      ok = static_cast<bool>(fields >> crc_hex >> file.bytes >> file.path) && crc_hex.size() == 8 &&
           file.path.find("..") == std::string::npos &&
           (file.path.rfind("db/", 0) == 0 || file.path.rfind("db-log/", 0) == 0);
      if (ok) file.crc32c = static_cast<uint32_t>(std::stoul(crc_hex, nullptr, 16));
      if (ok) manifest.files.push_back(std::move(file));
    } else {
      ok = tag.empty();
    }
    if (!ok || (!header && !tag.empty())) {
      return Status::Corruption(path + " line " + std::to_string(line_number) +
                                " is not a backup manifest line: " + line);
    }
  }
  if (!header) return Status::Corruption(path + " is empty or cut short");
  return manifest;
}

std::vector<std::string> CheckBackupFiles(const std::string& dir, const BackupManifest& manifest,
                                          const ByteProgress& progress) {
  std::vector<std::string> problems;
  ProgressCounter counter{progress, manifest.total_bytes()};
  for (const BackupFile& file : manifest.files) {
    const std::string path = dir + "/" + file.path;
    std::error_code ec;
    const uint64_t bytes = fs::file_size(path, ec);
    if (ec) {
      problems.push_back(file.path + ": missing (" + ec.message() + ")");
      counter.Add(file.bytes);
      continue;
    }
    if (bytes != file.bytes) {
      problems.push_back(file.path + ": " + std::to_string(bytes) + " bytes, the manifest says " +
                         std::to_string(file.bytes));
      counter.Add(file.bytes);
      continue;
    }
    uint32_t crc = 0;
    Status s = ReadChunks(path, [&](const char* data, size_t n) {
      crc = Crc32c(crc, data, n);
      counter.Add(n);
      return Status::Ok();
    });
    if (!s.ok()) {
      problems.push_back(file.path + ": " + s.ToString());
    } else if (crc != file.crc32c) {
      problems.push_back(file.path + ": checksum differs from the manifest (the file is damaged)");
    }
  }
  return problems;
}

Status CopyBackupFiles(const std::string& backup, const BackupManifest& manifest, const std::string& data_dir,
                       const ByteProgress& progress) {
  std::error_code ec;
  for (const char* instance : kInstanceDirs) {
    if (fs::exists(fs::path(data_dir) / instance, ec)) {
      return Status::InvalidArgument(data_dir + "/" + instance + " exists: restore only into an empty data dir");
    }
  }
  fs::create_directories(data_dir, ec);
  if (ec) return Status::IoError("cannot create " + data_dir + ": " + ec.message());
  ProgressCounter counter{progress, manifest.total_bytes()};
  auto copy_all = [&]() -> Status {
    for (const char* instance : kInstanceDirs) {
      fs::create_directory(fs::path(data_dir) / instance, ec);
      if (ec) return Status::IoError("cannot create " + data_dir + "/" + instance + ": " + ec.message());
    }
    for (const BackupFile& file : manifest.files) {
      const std::string target = data_dir + "/" + file.path;
      int fd = ::open(target.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
      if (fd < 0) return Status::IoError(Errno("cannot create", target));
      uint32_t crc = 0;
      uint64_t bytes = 0;
      Status s = ReadChunks(backup + "/" + file.path, [&](const char* data, size_t n) {
        crc = Crc32c(crc, data, n);
        bytes += n;
        counter.Add(n);
        return WriteAll(fd, data, n, target);
      });
      if (s.ok() && ::fsync(fd) != 0) s = Status::IoError(Errno("cannot fsync", target));
      ::close(fd);
      if (!s.ok()) return s;
      if (bytes != file.bytes || crc != file.crc32c) {
        return Status::Corruption(backup + "/" + file.path + " does not match the backup's manifest (damaged copy)");
      }
    }
    for (const char* instance : kInstanceDirs) {
      Status s = SyncDir(data_dir + "/" + instance);
      if (!s.ok()) return s;
    }
    return SyncDir(data_dir);
  };
  Status s = copy_all();
  if (!s.ok()) {
    for (const char* instance : kInstanceDirs) fs::remove_all(fs::path(data_dir) / instance, ec);
  }
  return s;
}

}  // namespace tally::storage
