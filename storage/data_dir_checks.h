#pragma once
// What Store::Open checks before and after it opens the two RocksDB
// instances of a data dir (`<data_dir>/db` and `<data_dir>/db-log`):
//
//  * Their write-ahead log files (wal_file_check.h): a torn last record is
//    dropped, damage anywhere else refuses the open with the file, the offset
//    and what to do (`tally-admin salvage` for the log).
//  * Their identity: a random data dir id in the `default` family of both
//    instances (storage/FORMAT.md §6a). A missing instance, or one from another
//    data dir, is refused: never a silent fresh start.
//
// Only storage/*.cc include this (it names RocksDB types).

#include <optional>
#include <string>

#include "storage/status.h"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
class Status;
struct DBOptions;
}  // namespace rocksdb

namespace tally::storage {

enum class Instance { kMain, kLog };

// The key in each instance's `default` family that holds the data dir id.
inline constexpr const char* kDataDirIdKey = "tally/data-dir-id";
// Main's id while it is being given to both instances (see ReconcileDataDirIds).
inline constexpr const char* kPendingDataDirIdKey = "tally/data-dir-id-pending";

// An instance exists when its directory has RocksDB's CURRENT file.
bool InstanceExists(const std::string& dir);
// `<data_dir>` of a main instance path `<data_dir>/db`.
std::string DataDirOf(const std::string& main_path);

// Before opening: the main instance must exist if its log does.
Status CheckInstancesPresent(const std::string& main_path, bool main_exists, bool log_exists);

// Reads the instance's WAL files and picks RocksDB's recovery mode: refuses
// (Corruption, with file, offset and advice) on damage before the end of the
// log, uses point-in-time recovery when only the newest file's last record is
// torn, else kTolerateCorruptedTailRecords (which refuses any other damage).
Status PrepareWalRecovery(const std::string& main_path, Instance instance, rocksdb::DBOptions* options);

// A failed DB::Open as a tally Status with advice for corruption.
Status ExplainOpenFailure(const std::string& main_path, Instance instance, const rocksdb::Status& failed);

// The data dir id of an open instance (none = written before ids, or just created).
StatusOr<std::optional<std::string>> ReadDataDirId(rocksdb::DB& db);

// After opening main, before opening the log: a main instance with an id
// whose log is missing is refused (without an id it is a data dir from before
// the log had its own instance, whose log is created and moved at open).
Status CheckLogPresent(const std::string& main_path, bool log_existed, const std::optional<std::string>& main_id);

// After opening both: equal ids pass; different ids, or one instance
// without an id next to one with an id, are refused. Neither with an id (new,
// or from before ids): a new id, written as pending to main, then to the log,
// then final in main, so a crash at any point resumes at the next open.
Status ReconcileDataDirIds(const std::string& main_path, rocksdb::DB& main, const std::optional<std::string>& main_id,
                           rocksdb::DB& log);

}  // namespace tally::storage
