#pragma once
// A backup's table of contents: every file of the copy (`db/` and `db-log/`,
// the two RocksDB instances of a data dir) with its size and CRC-32C,
// written once the copy is complete. `tally-admin restore` and `verify` read
// it to find a damaged, truncated or missing file before anything trusts the
// copy; RocksDB's own block checksums (Store::VerifyChecksums) then check
// what is inside the table files.
//
// The file is text, one line per file, so an operator can read it:
//   tally-backup 1
//   tally-version 0.1.0
//   created-ms 1796515199945
//   file <crc32c hex> <bytes> <path relative to the backup dir>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "storage/status.h"

namespace tally::storage {

inline constexpr const char* kBackupManifestName = "tally-backup.manifest";

struct BackupFile {
  std::string path;  // relative to the backup dir, e.g. "db/000012.sst"
  uint64_t bytes = 0;
  uint32_t crc32c = 0;
};

struct BackupManifest {
  std::string tally_version;
  int64_t created_ms = 0;
  std::vector<BackupFile> files;
  uint64_t total_bytes() const;
};

// Called as bytes are read: (bytes done, bytes in all).
using ByteProgress = std::function<void(uint64_t done, uint64_t total)>;

// Lists every regular file under `dir`/db and `dir`/db-log, reads each for
// its checksum, and writes the manifest into `dir` (fsynced).
StatusOr<BackupManifest> WriteBackupManifest(const std::string& dir, const std::string& tally_version,
                                             int64_t created_ms, const ByteProgress& progress = {});

// NotFound when `dir` has no manifest (a data dir rather than a backup).
StatusOr<BackupManifest> ReadBackupManifest(const std::string& dir);

// One line per file that is missing, of another size or whose checksum
// differs; empty when the copy is whole.
std::vector<std::string> CheckBackupFiles(const std::string& dir, const BackupManifest& manifest,
                                          const ByteProgress& progress = {});

// Copies the manifest's files from `backup` into `data_dir` (which must be
// empty or missing), checking each file's checksum as it is copied, and
// fsyncs them. On any error what was copied is removed again.
Status CopyBackupFiles(const std::string& backup, const BackupManifest& manifest, const std::string& data_dir,
                       const ByteProgress& progress = {});

}  // namespace tally::storage
