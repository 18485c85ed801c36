#pragma once
// The records of a tally-admin export: one JSON object per line (NDJSON),
// each with a "type" (docs/export-import.md has the table). Export turns the
// stored rows of a data dir into records (the Encode* functions); import
// turns each line back into the rows to write (DecodeLine), checking every
// field, so that a bad line is reported with its reason before anything is
// renamed into place.
//
// Most records are semantic: owners, keys, interval names, period labels as
// the API shows them, values as integers; they do not depend on how this
// version lays out its bytes. The families without a stable semantic form yet
// (the quota module's plans, quota state and credit ledger, and meta rows
// this version does not know) travel as "raw" records: the family name and
// the row's key and value in base64, valid only for the storage format
// version they were written with (kStorageFormatVersion).
//
// No RocksDB here; rows are (family, key, value) triples for storage::Store.

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/calendar.h"
#include "storage/feed_format.h"
#include "storage/log_format.h"
#include "storage/store.h"

namespace tally::admin::ndjson {

// The version of this record format: a reader refuses a dump of a newer one.
inline constexpr int kFormatVersion = 1;
// The version of the byte layout of the families exported raw (and of the
// sketch encoding inside "uniq" records): storage/FORMAT.md. Raise it with
// any change to those bytes; import accepts raw records only from a dump
// with the same number.
inline constexpr int kStorageFormatVersion = 1;
inline constexpr std::string_view kFormatName = "tally-export";

// ---- helpers ----------------------------------------------------------------
std::string Base64Encode(std::string_view bytes);
bool Base64Decode(std::string_view text, std::string* bytes);
// Sets `field` to the bytes as a JSON string when they are valid UTF-8, else
// `field`_b64 to their base64 (JSON strings cannot carry arbitrary bytes).
void PutText(nlohmann::json& record, const std::string& field, std::string_view bytes);
// Reads what PutText wrote; false (with `error` set) if neither is a string.
bool GetText(const nlohmann::json& record, const std::string& field, std::string* bytes, std::string* error);
// "12 records (cell 10, owner 2)": the counts per type, for summaries.
std::string CountsSummary(const std::map<std::string, uint64_t>& counts);
// ISO 8601 UTC with milliseconds: 2024-12-04T10:15:00.123Z.
std::string IsoUtc(int64_t unix_ms);

// ---- export: stored rows -> records -----------------------------------------
nlohmann::json HeaderRecord(std::string_view tally_version, int64_t now_ms);
// `zone`: the owner's own zone name; empty = the daemon's (null in the record).
nlohmann::json OwnerRecord(std::string_view owner, std::string_view zone);
// A row of `cells` (value: the decoded int64) or of `uniq` (value: the sketch
// bytes). `zone` labels hour periods; the hour's start instant is exported
// too, since an hour cell is an instant, whatever zone labels it.
nlohmann::json CellRecord(const storage::log_format::ParsedCellKey& cell, int64_t value, const core::TimeZone& zone);
nlohmann::json UniqRecord(const storage::log_format::ParsedCellKey& cell, std::string_view sketch,
                          const core::TimeZone& zone);
// A `dedupe` row: owner, key (or another module's scope, "#meter"), event id.
std::optional<nlohmann::json> EventIdRecord(std::string_view row_key, int64_t expiry_ms, uint64_t fingerprint);
nlohmann::json KvRecord(std::string_view key, int64_t expire_at_ms, std::string_view value);
nlohmann::json PriceRecord(std::string_view name, int64_t micros);
// "audit" or "alert" (both feeds hold records of the audit shape).
nlohmann::json AuditRecord(std::string_view type, const storage::feed_format::AuditRecord& record);
nlohmann::json ChangeRecord(const storage::feed_format::ChangeRecord& record, int64_t time_ms);
// A feed's counters: the seq its next record gets, and (changes only) the
// last seq retention trimmed.
nlohmann::json FeedRecord(std::string_view feed, uint64_t next, std::optional<uint64_t> trimmed);
nlohmann::json RawRecord(storage::Family family, std::string_view key, std::string_view value);
nlohmann::json TrailerRecord(const std::map<std::string, uint64_t>& counts);

// ---- import: one line -> what to write ----------------------------------------
struct Row {
  storage::Family family;
  std::string key;
  std::string value;
};

// A record of the audit trail, the alert log or the changefeed, with its seq:
// import packs consecutive ones into blobs.
struct FeedItem {
  uint64_t seq = 0;
  int64_t time_ms = 0;
  // audit and alert
  std::string actor, command, owner, key, details;
  // change
  uint8_t kind = 0;  // interval, kDeleteBit | interval, or kDeleteAll (feed_format.h)
  std::string period;
  int64_t value = 0;
};

struct DecodedLine {
  std::string type;
  std::vector<Row> rows;         // rows to write as they are
  std::optional<FeedItem> feed;  // type audit, alert or change
  // type feed: which feed, its next seq and (changes) trimmed seq
  std::string feed_name;
  uint64_t feed_next = 0;
  std::optional<uint64_t> feed_trimmed;
  // type header
  int format_version = 0;
  int storage_format_version = 0;
  std::string tally_version;
  // type trailer
  std::map<std::string, uint64_t> trailer_counts;
};

// Parses and checks one line. `storage_format_version` is the header's
// (0 before the header): raw records need it to equal kStorageFormatVersion.
// On failure returns false with the reason in `error` (without the line number).
bool DecodeLine(std::string_view line, int storage_format_version, DecodedLine* out, std::string* error);

}  // namespace tally::admin::ndjson
