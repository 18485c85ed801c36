// tally-admin import: loads an export (ndjson_records.h) into an empty or new
// data dir, so that tallyd started on it serves the exported state.
//
// Every line is checked as it is read, and the rows are written into a
// fresh data dir next to the target (`.<name>.import-XXXXXX`); only when the
// whole file was read, its trailer's counts match and the engine recovers the
// result is that dir renamed to the target. A bad or missing line leaves the
// target as it was (absent or empty) and removes the temporary dir.

#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "commands.h"
#include "core/clock.h"
#include "core/engine.h"
#include "ndjson_records.h"
#include "progress.h"
#include "storage/codec.h"
#include "storage/feed_format.h"
#include "storage/log_format.h"
#include "storage/store.h"

namespace tally::admin {
namespace {

namespace fs = std::filesystem;
namespace ff = storage::feed_format;
using storage::Family;
using storage::Status;

struct ImportArgs {
  std::string input;
  std::string data_dir;
  bool json = false;
};

constexpr size_t kRowsPerBatch = 10000;
constexpr size_t kAuditRecordsPerBlob = 256;
constexpr size_t kChangeRecordsPerBlob = 4096;  // as compaction cuts them

// A line's failure: where and why.
struct LineError {
  uint64_t line;
  std::string reason;
};

// Packs the records of one feed (audit, alerts or changes) into blobs keyed
// by their last seq, as compaction writes them, and checks that the seqs
// are consecutive.
class FeedBuilder {
 public:
  FeedBuilder(std::string name, Family family) : name_(std::move(name)), family_(family) {}

  // Appends a record; its seq must follow the previous one's.
  bool Add(ndjson::FeedItem item, storage::WriteBatch& batch, std::string* error) {
    if (last_seq_ != 0 && item.seq != last_seq_ + 1) {
      *error = name_ + " seq " + std::to_string(item.seq) + " does not follow seq " + std::to_string(last_seq_) +
               " (the records of a feed are consecutive)";
      return false;
    }
    if (first_seq_ == 0) first_seq_ = item.seq;
    last_seq_ = item.seq;
    const bool is_changes = family_ == Family::kChanges;
    if (!pending_.empty() && ((is_changes && pending_.front().time_ms != item.time_ms) ||
                              pending_.size() >= (is_changes ? kChangeRecordsPerBlob : kAuditRecordsPerBlob))) {
      Flush(batch);
    }
    pending_.push_back(std::move(item));
    return true;
  }

  // Writes the pending records as one blob.
  void Flush(storage::WriteBatch& batch) {
    if (pending_.empty()) return;
    if (family_ == Family::kChanges) {
      // One writer per blob: a change blob has one time (when compaction wrote it).
      ff::ChangeBlobWriter writer(pending_.front().seq, pending_.front().time_ms, kChangeRecordsPerBlob);
      for (const ndjson::FeedItem& item : pending_) {
        if (item.kind & ff::kDeleteBit) {
          writer.AddDelete(item.owner, item.key, item.kind);
        } else {
          writer.AddUpsert(item.owner, item.key, item.kind, item.period, item.value);
        }
      }
      writer.Finish();
      std::string time = storage::log_format::EncodeInt64(pending_.front().time_ms);
      for (const ff::ChangeBlobWriter::Blob& blob : writer.blobs()) {
        batch.Put(family_, ff::FeedKey(blob.last_seq), blob.value);
        batch.Put(Family::kMeta, ff::ChangesTimeKey(blob.last_seq), time);  // retention's index
      }
    } else {
      std::vector<ff::AuditRecord> records;
      records.reserve(pending_.size());
      for (const ndjson::FeedItem& item : pending_) {
        records.push_back({item.seq, item.time_ms, item.actor, item.command, item.owner, item.key, item.details});
      }
      batch.Put(family_, ff::FeedKey(pending_.back().seq), ff::EncodeAuditBlob(pending_.front().seq, records));
    }
    pending_.clear();
  }

  // The feed's counters in meta, once every record is in: `next` (from the
  // export's feed record, or after the last seq) and, for changes, `trimmed`.
  bool Finish(storage::WriteBatch& batch, std::string_view next_key, std::string* error) {
    Flush(batch);
    if (!next_) next_ = last_seq_ + 1;
    if (*next_ <= last_seq_) {
      *error = "the " + name_ + " feed's next seq " + std::to_string(*next_) + " is not past its last record (seq " +
               std::to_string(last_seq_) + ")";
      return false;
    }
    if (trimmed_ && first_seq_ != 0 && first_seq_ <= *trimmed_) {
      *error = "the changes feed holds seq " + std::to_string(first_seq_) + ", which it says was trimmed (up to " +
               std::to_string(*trimmed_) + ")";
      return false;
    }
    if (*next_ > 1) batch.Put(Family::kMeta, next_key, Fixed64(*next_));
    if (trimmed_ && *trimmed_ > 0) batch.Put(Family::kMeta, ff::kChangesTrimmedKey, Fixed64(*trimmed_));
    return true;
  }

  bool SetCounters(uint64_t next, std::optional<uint64_t> trimmed, std::string* error) {
    if (next_) {
      *error = "a second feed record for " + name_;
      return false;
    }
    next_ = next;
    trimmed_ = trimmed;
    return true;
  }

 private:
  static std::string Fixed64(uint64_t v) {
    std::string out;
    storage::codec::PutFixed64(out, v);
    return out;
  }

  const std::string name_;
  const Family family_;
  uint64_t first_seq_ = 0;
  uint64_t last_seq_ = 0;
  std::optional<uint64_t> next_;
  std::optional<uint64_t> trimmed_;
  std::vector<ndjson::FeedItem> pending_;
};

class Importer {
 public:
  explicit Importer(storage::Store& store) : store_(store), batch_(store) {}

  // Reads every line of `in`; nullopt when all is in (and written).
  std::optional<LineError> Run(std::istream& in, uint64_t input_bytes) {
    std::optional<LineError> error = ReadAll(in, input_bytes);
    progress_.Finish();
    return error;
  }

  const std::map<std::string, uint64_t>& counts() const { return counts_; }
  const std::string& source_version() const { return source_version_; }

 private:
  std::optional<LineError> ReadAll(std::istream& in, uint64_t input_bytes) {
    std::string line;
    uint64_t bytes_read = 0;
    while (std::getline(in, line)) {
      ++line_number_;
      bytes_read += line.size() + 1;
      progress_.Update("KiB read", bytes_read >> 10, input_bytes >> 10);
      if (line.empty()) continue;
      if (std::optional<LineError> error = TakeLine(line)) return error;
      if (batch_.count() >= kRowsPerBatch) {
        if (std::optional<LineError> error = WriteBatch(false)) return error;
      }
    }
    if (in.bad()) return LineError{line_number_, "cannot read the input: " + std::string(std::strerror(errno))};
    if (!header_seen_) return LineError{line_number_ + 1, "the input is empty: no header record"};
    if (!trailer_seen_) {
      return LineError{line_number_ + 1, "the input ends without its trailer record: it is truncated (" +
                                             std::to_string(Total()) + " records read)"};
    }
    std::string error;
    if (!audit_.Finish(batch_, ff::kAuditNextKey, &error) || !alerts_.Finish(batch_, ff::kAlertsNextKey, &error) ||
        !changes_.Finish(batch_, ff::kChangesNextKey, &error)) {
      return LineError{trailer_line_, error};
    }
    return WriteBatch(true);
  }

  std::optional<LineError> TakeLine(std::string_view line) {
    ndjson::DecodedLine decoded;
    std::string error;
    if (trailer_seen_) return LineError{line_number_, "a line after the trailer record"};
    if (!ndjson::DecodeLine(line, storage_format_version_, &decoded, &error)) return LineError{line_number_, error};
    if (!header_seen_ && decoded.type != "header") {
      return LineError{line_number_, "the first record must be the header (this is not a tally export?)"};
    }
    if (decoded.type == "header") {
      if (header_seen_) return LineError{line_number_, "a second header record"};
      header_seen_ = true;
      storage_format_version_ = decoded.storage_format_version;
      source_version_ = decoded.tally_version;
      return std::nullopt;
    }
    if (decoded.type == "trailer") {
      trailer_seen_ = true;
      trailer_line_ = line_number_;
      return CheckTrailer(decoded.trailer_counts);
    }
    ++counts_[decoded.type];
    for (ndjson::Row& row : decoded.rows) batch_.Put(row.family, row.key, row.value);
    if (decoded.feed) {
      FeedBuilder& feed = decoded.type == "audit" ? audit_ : decoded.type == "alert" ? alerts_ : changes_;
      if (!feed.Add(std::move(*decoded.feed), batch_, &error)) return LineError{line_number_, error};
    }
    if (decoded.type == "feed") {
      FeedBuilder& feed = decoded.feed_name == "audit" ? audit_ : decoded.feed_name == "alerts" ? alerts_ : changes_;
      if (!feed.SetCounters(decoded.feed_next, decoded.feed_trimmed, &error)) return LineError{line_number_, error};
    }
    return std::nullopt;
  }

  std::optional<LineError> CheckTrailer(const std::map<std::string, uint64_t>& expected) {
    std::map<std::string, uint64_t> all = expected;
    for (const auto& [type, count] : counts_) all.emplace(type, 0);
    for (const auto& [type, count] : all) {
      auto found = counts_.find(type);
      const uint64_t read = found == counts_.end() ? 0 : found->second;
      if (read != count) {
        return LineError{line_number_, "the trailer counts " + std::to_string(count) + " '" + type +
                                           "' records, the file holds " + std::to_string(read) +
                                           " (lines lost or added)"};
      }
    }
    return std::nullopt;
  }

  std::optional<LineError> WriteBatch(bool sync) {
    Status s = store_.Write(batch_, sync);
    batch_.Clear();
    if (!s.ok()) return LineError{line_number_, "cannot write the new data dir: " + s.ToString()};
    return std::nullopt;
  }

  uint64_t Total() const {
    uint64_t total = 0;
    for (const auto& [type, count] : counts_) total += count;
    return total;
  }

  storage::Store& store_;
  storage::WriteBatch batch_;
  Progress progress_{"import"};
  uint64_t line_number_ = 0;
  uint64_t trailer_line_ = 0;
  bool header_seen_ = false;
  bool trailer_seen_ = false;
  int storage_format_version_ = 0;
  std::string source_version_;
  std::map<std::string, uint64_t> counts_;
  FeedBuilder audit_{"audit", Family::kAudit};
  FeedBuilder alerts_{"alerts", Family::kAlerts};
  FeedBuilder changes_{"changes", Family::kChanges};
};

int Fail(const std::string& message) {
  std::cerr << "tally-admin import: " << message << "\n";
  return 1;
}

// Removes the temporary data dir unless the import reached its rename.
class TempDirGuard {
 public:
  explicit TempDirGuard(fs::path path) : path_(std::move(path)) {}
  ~TempDirGuard() {
    if (path_.empty()) return;
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  void Release() { path_.clear(); }

 private:
  fs::path path_;
};

int RunImport(const ImportArgs& args) {
  std::error_code ec;
  const fs::path target = fs::absolute(fs::path(args.data_dir), ec).lexically_normal();
  const fs::path target_path = target.has_filename() ? target : target.parent_path();
  fs::file_status status = fs::status(target_path, ec);
  const bool target_exists = fs::exists(status);
  if (target_exists) {
    if (!fs::is_directory(status)) return Fail(args.data_dir + " exists and is not a directory");
    if (!fs::is_empty(target_path, ec) || ec) {
      return Fail("data dir " + args.data_dir +
                  " is not empty: import writes only into an empty or new data dir (move the old one away first)");
    }
  }

  std::ifstream file;
  uint64_t input_bytes = 0;
  if (args.input != "-") {
    file.open(args.input, std::ios::binary);
    if (!file) return Fail("cannot read " + args.input + ": " + std::strerror(errno));
    if (fs::is_regular_file(args.input, ec)) input_bytes = fs::file_size(args.input, ec);
  }
  std::istream& in = args.input == "-" ? std::cin : file;

  fs::create_directories(target_path.parent_path(), ec);
  std::string pattern = (target_path.parent_path() / ("." + target_path.filename().string() + ".import-XXXXXX"));
  if (::mkdtemp(pattern.data()) == nullptr) {
    return Fail("cannot create a directory next to " + args.data_dir + ": " + std::strerror(errno));
  }
  const fs::path temp = pattern;
  TempDirGuard guard(temp);

  std::map<std::string, uint64_t> counts;
  std::string source_version;
  {
    storage::StoreOptions options;
    options.path = (temp / "db").string();
    auto opened = storage::Store::Open(options);
    if (!opened.ok()) return Fail("cannot create the data dir: " + opened.status().ToString());
    std::unique_ptr<storage::Store> store = std::move(opened.value());
    Importer importer(*store);
    if (std::optional<LineError> error = importer.Run(in, input_bytes)) {
      const std::string where = args.input == "-" ? "stdin" : args.input;
      return Fail(where + ":" + std::to_string(error->line) + ": " + error->reason + " (nothing imported; " +
                  args.data_dir + " is unchanged)");
    }
    Status flushed = store->FlushMemtables();
    if (!flushed.ok()) return Fail("cannot write the new data dir: " + flushed.ToString());
    counts = importer.counts();
    source_version = importer.source_version();
  }
  // The proof that tallyd can start on it: the engine recovers it.
  {
    Progress progress("import");
    progress.Note("opening the imported data dir");
    core::SystemClock clock;
    core::EngineOptions options;
    options.data_dir = (temp / "db").string();
    auto engine = core::Engine::Open(options, clock);
    progress.Finish();
    if (!engine.ok()) return Fail("the imported data does not open: " + engine.status().ToString());
  }
  if (target_exists) fs::remove(target_path, ec);  // the empty dir the import replaces
  fs::rename(temp, target_path, ec);
  if (ec) return Fail("cannot rename " + temp.string() + " to " + args.data_dir + ": " + ec.message());
  guard.Release();

  if (args.json) {
    std::cout << nlohmann::json{{"data_dir", args.data_dir},
                                {"source_tally_version", source_version},
                                {"counts", counts}}
                     .dump()
              << "\n";
  } else {
    std::cout << "imported " << ndjson::CountsSummary(counts) << " into " << args.data_dir << " (exported by tally "
              << source_version << ")\n";
  }
  return 0;
}

}  // namespace

Subcommand AddImportCommand(CLI::App& app) {
  auto args = std::make_shared<ImportArgs>();
  CLI::App* command = app.add_subcommand(
      "import",
      "Load an export (tally-admin export) into an empty or new data dir, so that tallyd started on it serves the "
      "exported state. Every line is checked first: a bad line, a truncated file or a count that does not match "
      "the trailer is reported with its line number and nothing is imported. The data dir gets a new data dir id "
      "and an empty log. See docs/export-import.md.");
  command->add_option("file", args->input, "the NDJSON export, or - for stdin")->required();
  command->add_option("data_dir", args->data_dir, "the data dir to create (absent or empty)")->required();
  command->add_flag("--json", args->json, "print the summary (counts per record type) as one JSON object");
  return {command, [args]() { return RunImport(*args); }};
}

}  // namespace tally::admin
