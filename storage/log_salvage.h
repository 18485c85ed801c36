#pragma once
// Salvage of a damaged write-ahead log instance (`<data_dir>/db-log`): keeps
// every record that can still be read and says exactly what could not.
//
// RocksDB replays the instance's own WAL files skipping damaged records
// (kSkipAnyCorruptedRecords) into a read-only view; every log blob that reads
// back and decodes is copied into a new instance, which then takes the place
// of the damaged one (kept as `db-log.damaged-<time>` unless told otherwise).
// What was lost shows as gaps in each shard's sequence numbers: every shard
// numbers its entries without gaps above its checkpoint (storage/FORMAT.md §3),
// and each blob's key and entry count give the sequences it holds.
//
// tallyd must not run on the data dir meanwhile: the salvage takes
// `tallyd.lock`, as tallyd does.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "storage/status.h"
#include "storage/wal_file_check.h"

namespace tally::storage {

struct SalvageOptions {
  std::string data_dir;
  bool keep_backup = true;  // keep the damaged instance as db-log.damaged-<time>
  bool dry_run = false;     // read and report only; change nothing
  // Called after each shard (0..63) is read: shard, blobs kept so far.
  std::function<void(int shard, uint64_t blobs_kept)> progress;
};

// Sequences [first, last] of one shard that are missing above its checkpoint.
struct SequenceGap {
  uint16_t shard = 0;
  uint64_t first = 0;
  uint64_t last = 0;
  uint64_t count() const { return last - first + 1; }
};

struct SalvageReport {
  std::string log_dir;
  std::string backup_dir;   // empty: not kept (or a dry run)
  std::string data_dir_id;  // empty: the data dir has none yet
  bool dry_run = false;
  bool checkpoints_known = false;               // false: the main instance could not be read; gaps only between blobs
  std::optional<WalDamage> wal_damage;          // the first damaged spot tally's own check found
  std::vector<std::string> dropped_by_rocksdb;  // RocksDB's words for each record it skipped
  std::vector<std::string> unreadable;          // blobs or ranges that could not be read (e.g. a damaged SST block)
  uint64_t blobs_kept = 0;
  uint64_t recovered_from_wal = 0;  // of those, blobs RocksDB's reader skipped that tally's own found intact
  uint64_t entries_kept = 0;
  std::vector<SequenceGap> gaps;
  uint64_t entries_lost() const;
};

StatusOr<SalvageReport> SalvageLog(const SalvageOptions& options);

// "tally-admin salvage --data-dir <data_dir>" for the main instance path
// `<data_dir>/db`, for messages that tell what to do about a damaged log.
std::string SalvageCommand(const std::string& main_path);

}  // namespace tally::storage
