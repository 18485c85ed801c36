#pragma once
// RocksDB's own diagnostic log (the `LOG` file of each instance), written by
// tally instead of RocksDB's default logger.
//
// Why: RocksDB 7.8's default logger writes through a WritableFileWriter that,
// after one failed append (a full disk), asserts on the next one and aborts
// the whole process (`sync_without_flush_called_`). A full disk must refuse
// writes, never kill the daemon, so this logger writes with stdio and drops a
// line it cannot write; it starts writing again once there is space.

#include <memory>
#include <string>

namespace rocksdb {
class Logger;
}

namespace tally::storage {

// The logger for the instance in `db_dir`: lines of at least `min_level`
// (rocksdb::InfoLogLevel as int) go to `db_dir`/LOG, which is opened at the
// first line (RocksDB creates the directory) and moved to LOG.old when it
// passes `max_bytes`.
std::shared_ptr<rocksdb::Logger> MakeInfoLog(const std::string& db_dir, int min_level, size_t max_bytes);

}  // namespace tally::storage
