#include "core/backup.h"

#include <chrono>
#include <ctime>
#include <filesystem>

#include "core/engine.h"
#include "storage/backup_manifest.h"

namespace tally::core {

namespace fs = std::filesystem;
using storage::Status;

namespace {

Status CheckTarget(const std::string& dir) {
  if (dir.empty() || dir.front() != '/') {
    return Status::InvalidArgument("the backup directory must be an absolute path: '" + dir + "'");
  }
  std::error_code ec;
  const fs::file_status status = fs::status(dir, ec);
  if (ec && ec != std::errc::no_such_file_or_directory) {
    return Status::IoError("cannot check " + dir + ": " + ec.message());
  }
  if (fs::exists(status)) {
    if (!fs::is_directory(status)) return Status::InvalidArgument(dir + " exists and is not a directory");
    if (!fs::is_empty(dir, ec))
      return Status::InvalidArgument(dir + " is not empty: a backup goes into a new directory");
  }
  fs::create_directories(dir, ec);
  if (ec) return Status::IoError("cannot create " + dir + ": " + ec.message());
  return Status::Ok();
}

}  // namespace

storage::StatusOr<BackupResult> TakeBackup(Engine& engine, const std::string& dir, const std::string& tally_version) {
  const auto started = std::chrono::steady_clock::now();
  Status s = CheckTarget(dir);
  if (!s.ok()) return s;
  s = engine.CheckpointStore(dir + "/db");
  storage::StatusOr<storage::BackupManifest> manifest =
      s.ok() ? storage::WriteBackupManifest(dir, tally_version, engine.clock().NowMs())
             : storage::StatusOr<storage::BackupManifest>(s);
  if (!manifest.ok()) {
    std::error_code ec;
    for (const char* part : {"db", "db-log", storage::kBackupManifestName}) fs::remove_all(fs::path(dir) / part, ec);
    return manifest.status();
  }
  BackupResult result;
  result.dir = dir;
  result.files = manifest.value().files.size();
  result.bytes = manifest.value().total_bytes();
  result.duration_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
  return result;
}

std::string DefaultBackupDir(const std::string& data_dir, int64_t now_ms) {
  const std::time_t seconds = static_cast<std::time_t>(now_ms / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char seconds_text[24];
  std::strftime(seconds_text, sizeof(seconds_text), "%Y%m%dT%H%M%S", &utc);
  // Milliseconds, so two backups in one second get two directories.
  const std::string stamp = std::string(seconds_text) + "." + std::to_string(1000 + now_ms % 1000).substr(1) + "Z";
  // Absolute even for a relative data_dir (tallyd's working directory means
  // nothing to the client that asked).
  std::error_code ec;
  const fs::path absolute = fs::absolute(data_dir, ec);
  return (ec ? fs::path(data_dir) : absolute).lexically_normal().string() + "/backups/" + stamp;
}

}  // namespace tally::core
