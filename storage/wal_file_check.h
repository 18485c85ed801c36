#pragma once
// Reads RocksDB's own write-ahead log files (the `NNNNNN.log` files of an
// instance directory) record by record and tells a torn tail (a crash in the
// middle of the last write) from damage anywhere else. RocksDB's recovery
// modes cannot make that distinction with an offset in the message, and
// RocksDB silently drops the rest of a 32 KiB block after a zeroed record
// header; this check sees both. No RocksDB headers: the record format is
// RocksDB's stable log format (db/log_format.h): 32 KiB blocks of records,
// each `masked crc32c (4) | length (2, LE) | type (1) [| log number (4)] |
// payload`, the checksum covering the type, the log number and the payload.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tally::storage {

struct WalDamage {
  std::string file;     // path of the WAL file
  uint64_t offset = 0;  // byte offset of the first record that cannot be read
  std::string reason;   // "checksum mismatch", "bad record length", ...
  std::string ToString() const;
};

struct WalCheckResult {
  // Damage before the end of a file: the log cannot be replayed whole.
  std::optional<WalDamage> damage;
  // The newest file's last record has a bad checksum and nothing follows it:
  // a write torn by a crash (RocksDB's kTolerateCorruptedTailRecords refuses
  // that one; point-in-time recovery drops exactly it).
  std::optional<WalDamage> torn_tail_record;
  // Files whose end was cut inside a record (tolerated by every mode).
  std::vector<WalDamage> truncated_tails;
  std::vector<std::string> files;  // the WAL files read, oldest first
};

// Checks every WAL file of the RocksDB instance in `dir` (a missing dir has
// none). I/O errors while reading count as damage at the offset reached.
WalCheckResult CheckWalFiles(const std::string& dir);

// Every intact logical record (a RocksDB WriteBatch) of one WAL file, in
// file order. Unlike RocksDB's reader, which drops the rest of a 32 KiB block
// after a bad checksum, this one searches forward byte by byte for the next
// record whose checksum holds, so only the damaged records are lost. A
// record split over fragments is kept only when every fragment is intact.
void ForEachIntactWalRecord(const std::string& file, const std::function<void(std::string_view record)>& visit);

// RocksDB's crc32c (Castagnoli), masked as in its log format.
uint32_t Crc32c(uint32_t crc, const char* data, size_t n);

}  // namespace tally::storage
