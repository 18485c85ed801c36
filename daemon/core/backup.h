#pragma once
// Online backups (BACKUP, POST /v1/admin/backup, `tally-admin backup`): a
// consistent copy of a running data dir, taken while writes go on.
//
// The copy is a data dir of its own: `<dir>/db` and `<dir>/db-log` (RocksDB
// checkpoints of the two instances: hard links where `dir` is on the data
// dir's file system, so a backup costs little space until the originals are
// compacted away) and `<dir>/tally-backup.manifest` (storage/backup_manifest.h).
// Both instances are copied while no compaction runs, so the copy's log holds
// every entry above its checkpoints: every write acknowledged before the
// backup started is in it, exactly once. `tally-admin restore` copies it into
// an empty data dir; tallyd can also start on it directly.

#include <cstdint>
#include <string>

#include "storage/status.h"

namespace tally::core {

class Engine;

struct BackupResult {
  std::string dir;
  uint64_t files = 0;
  uint64_t bytes = 0;
  int64_t duration_ms = 0;
};

// `dir` must be an absolute path that does not exist or is an empty
// directory; it is created (with its parents). On failure nothing of the
// backup is left behind.
storage::StatusOr<BackupResult> TakeBackup(Engine& engine, const std::string& dir, const std::string& tally_version);

// The directory a backup goes to when none is given:
// `<data_dir>/backups/<UTC time as 20261206T221507.042Z>`, made absolute.
std::string DefaultBackupDir(const std::string& data_dir, int64_t now_ms);

}  // namespace tally::core
