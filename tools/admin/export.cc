// tally-admin export: the whole state of a stopped tallyd's data dir as
// NDJSON records (ndjson_records.h; docs/export-import.md).
//
// How: the data dir is opened with the engine, which runs recovery (the
// compacted families, then every log entry past each shard's checkpoint),
// and everything is compacted (Engine::CompactAll), exactly what tallyd does
// at a clean shutdown. The stored families then hold the complete state, and
// are read family by family. Replaying the log here instead would duplicate
// the engine's replay of every log op; the engine is the one reader of the
// log that is kept right.

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>

#include "commands.h"
#include "core/clock.h"
#include "core/engine.h"
#include "ndjson_records.h"
#include "progress.h"
#include "storage/codec.h"
#include "storage/feed_format.h"
#include "storage/log_format.h"

#ifndef TALLY_VERSION
#define TALLY_VERSION "unknown"
#endif

namespace tally::admin {
namespace {

namespace lf = storage::log_format;
namespace ff = storage::feed_format;
using storage::Family;
using storage::Status;

struct ExportArgs {
  std::string data_dir;
  std::string output = "-";
  bool json = false;
};

std::string BusyMessage(const std::string& data_dir) {
  return "data dir " + data_dir +
         " is in use by a running tallyd: stop tallyd first (export reads a stopped data dir; to copy a running "
         "one, use tally-admin backup)";
}

// Holds <data_dir>/tallyd.lock (the lock tallyd takes for its whole life)
// while the export runs, so no tallyd starts on the data dir meanwhile.
class DataDirLock {
 public:
  ~DataDirLock() {
    if (fd_ >= 0) ::close(fd_);
  }
  Status Acquire(const std::string& data_dir) {
    const std::string path = data_dir + "/tallyd.lock";
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ < 0) return Status::IoError("cannot open lock file " + path + ": " + std::strerror(errno));
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      return errno == EWOULDBLOCK ? Status::Busy(BusyMessage(data_dir))
                                  : Status::IoError("cannot lock " + path + ": " + std::strerror(errno));
    }
    return Status::Ok();
  }

 private:
  int fd_ = -1;
};

// Writes records to the output and counts them per type.
class RecordWriter {
 public:
  explicit RecordWriter(std::ostream& out) : out_(out) {}
  void Write(const nlohmann::json& record) {
    out_ << record.dump() << '\n';
    const std::string& type = record["type"].get_ref<const std::string&>();
    if (type != "header" && type != "trailer") ++counts_[type];
  }
  const std::map<std::string, uint64_t>& counts() const { return counts_; }
  bool ok() const { return out_.good(); }

 private:
  std::ostream& out_;
  std::map<std::string, uint64_t> counts_;
};

class Exporter {
 public:
  Exporter(core::Engine& engine, RecordWriter& out, int64_t now_ms) : engine_(engine), out_(out), now_ms_(now_ms) {}

  Status Run() {
    static constexpr Family kOrder[] = {Family::kOwners,  Family::kCells, Family::kUniq,   Family::kDedupe,
                                        Family::kKv,      Family::kMeta,  Family::kAudit,  Family::kAlerts,
                                        Family::kChanges, Family::kPlans, Family::kQuotas, Family::kLedger};
    for (Family family : kOrder) {
      family_ = family;
      rows_ = 0;
      Status s = ExportFamily(family);
      if (!s.ok()) return s;
    }
    progress_.Finish();
    return Status::Ok();
  }

 private:
  Status ExportFamily(Family family) {
    switch (family) {
      case Family::kOwners:
        return Scan(family, [&](std::string_view owner, std::string_view zone) {
          zones_[std::string(owner)] = std::string(zone);
          out_.Write(ndjson::OwnerRecord(owner, zone));
          return Status::Ok();
        });
      case Family::kCells:
      case Family::kUniq:
        return Scan(family, [&](std::string_view key, std::string_view value) {
          lf::ParsedCellKey cell;
          if (!lf::ParseCellKey(key, &cell)) return Undecodable(key);
          const core::TimeZone& zone = ZoneOf(cell.owner);
          if (family == Family::kUniq) {
            out_.Write(ndjson::UniqRecord(cell, value, zone));
            return Status::Ok();
          }
          int64_t count = 0;
          if (!lf::DecodeInt64(value, &count)) return Undecodable(key);
          if (count != 0) out_.Write(ndjson::CellRecord(cell, count, zone));
          return Status::Ok();
        });
      case Family::kDedupe:
        return Scan(family, [&](std::string_view key, std::string_view value) {
          int64_t expiry = 0;
          uint64_t fingerprint = 0;
          if (!lf::DecodeDedupeValue(value, &expiry, &fingerprint)) return Undecodable(key);
          if (expiry <= now_ms_) return Status::Ok();  // out of its window: tallyd forgets it too
          auto record = ndjson::EventIdRecord(key, expiry, fingerprint);
          if (!record) return Undecodable(key);
          out_.Write(*record);
          return Status::Ok();
        });
      case Family::kKv:
        return Scan(family, [&](std::string_view key, std::string_view value) {
          // A hash or sorted set: its row as is (core/keyspace_values.h).
          if (core::IsTypedRow(value)) {
            out_.Write(ndjson::RawRecord(family, key, value));
            return Status::Ok();
          }
          int64_t expiry = 0;
          std::string_view bytes;
          if (!lf::DecodeKvValue(value, &expiry, &bytes)) return Undecodable(key);
          if (expiry != 0 && expiry <= now_ms_) return Status::Ok();  // expired: recovery skips it too
          out_.Write(ndjson::KvRecord(key, expiry, bytes));
          return Status::Ok();
        });
      case Family::kMeta:
        return ExportMeta();
      case Family::kAudit:
      case Family::kAlerts: {
        const char* type = family == Family::kAudit ? "audit" : "alert";
        return Scan(family, [&](std::string_view key, std::string_view value) {
          ff::AuditBlobReader reader(value);
          ff::AuditRecord record;
          while (reader.Next(&record)) out_.Write(ndjson::AuditRecord(type, record));
          return reader.ok() ? Status::Ok() : Undecodable(key);
        });
      }
      case Family::kChanges:
        return Scan(family, [&](std::string_view key, std::string_view value) {
          ff::ChangeBlobReader reader(value);
          ff::ChangeRecord record;
          while (reader.Next(&record)) out_.Write(ndjson::ChangeRecord(record, reader.time_ms()));
          return reader.ok() ? Status::Ok() : Undecodable(key);
        });
      case Family::kPlans:
      case Family::kQuotas:
      case Family::kLedger:
        return Scan(family, [&](std::string_view key, std::string_view value) {
          out_.Write(ndjson::RawRecord(family, key, value));
          return Status::Ok();
        });
      default:
        return Status::Ok();
    }
  }

  // meta: prices and the feeds' counters as records of their own; the
  // checkpoints, the changefeed's time index and the mark of a built
  // by_value index are not exported (the imported data dir has an empty log,
  // import rebuilds the time index, and tallyd builds by_value when it first
  // opens the imported dir); anything else raw.
  Status ExportMeta() {
    Status s = Scan(Family::kMeta, [&](std::string_view key, std::string_view value) {
      if (key.starts_with(lf::kCheckpointPrefix) || key.starts_with("feed/") || key == lf::kValueIndexBuiltKey) {
        return Status::Ok();
      }
      if (key.starts_with("price/")) {
        int64_t micros = 0;
        if (!lf::DecodeInt64(value, &micros)) return Undecodable(key);
        out_.Write(ndjson::PriceRecord(key.substr(6), micros));
        return Status::Ok();
      }
      out_.Write(ndjson::RawRecord(Family::kMeta, key, value));
      return Status::Ok();
    });
    if (!s.ok()) return s;
    struct FeedCounter {
      const char* feed;
      std::string_view next_key;
      std::string_view trimmed_key;
    };
    for (const FeedCounter& feed :
         {FeedCounter{"audit", ff::kAuditNextKey, {}}, FeedCounter{"alerts", ff::kAlertsNextKey, {}},
          FeedCounter{"changes", ff::kChangesNextKey, ff::kChangesTrimmedKey}}) {
      auto next = ReadFixed64(feed.next_key, 1);
      if (!next.ok()) return next.status();
      std::optional<uint64_t> trimmed;
      if (!feed.trimmed_key.empty()) {
        auto value = ReadFixed64(feed.trimmed_key, 0);
        if (!value.ok()) return value.status();
        trimmed = value.value();
      }
      out_.Write(ndjson::FeedRecord(feed.feed, next.value(), trimmed));
    }
    return Status::Ok();
  }

  storage::StatusOr<uint64_t> ReadFixed64(std::string_view key, uint64_t absent) {
    auto value = engine_.store().Get(Family::kMeta, key);
    if (!value.ok()) return value.status();
    if (!value.value()) return absent;
    if (value.value()->size() != 8) return Undecodable(key);
    return storage::codec::GetFixed64(value.value()->data());
  }

  template <typename Fn>
  Status Scan(Family family, Fn&& visit) {
    Status failed;
    Status s = engine_.store().Scan(
        family, "", "",
        [&](std::string_view key, std::string_view value) {
          failed = visit(key, value);
          progress_.Update(std::string(storage::FamilyName(family)) + " rows", ++rows_, 0);
          return failed.ok() && out_.ok();
        },
        storage::Store::ScanMode::kBulk);
    if (!s.ok()) return s;
    if (!failed.ok()) return failed;
    if (!out_.ok()) return Status::IoError("cannot write the export");
    return Status::Ok();
  }

  Status Undecodable(std::string_view key) {
    return Status::Corruption("undecodable row in family " + std::string(storage::FamilyName(family_)) + " (key " +
                              ndjson::Base64Encode(key.substr(0, 96)) + " in base64): nothing exported");
  }

  // The zone that labels an owner's periods: its own, or UTC for an owner
  // on the daemon's zone (which lives in tallyd's config, not in the data dir).
  const core::TimeZone& ZoneOf(std::string_view owner) {
    auto it = zones_.find(std::string(owner));
    const std::string name = it == zones_.end() ? std::string() : it->second;
    auto cached = zone_cache_.find(name);
    if (cached != zone_cache_.end()) return cached->second;
    std::optional<core::TimeZone> zone = name.empty() ? std::nullopt : core::TimeZone::Find(name);
    return zone_cache_.emplace(name, zone ? *zone : core::TimeZone::Utc()).first->second;
  }

  core::Engine& engine_;
  RecordWriter& out_;
  const int64_t now_ms_;
  Progress progress_{"export"};
  Family family_ = Family::kOwners;
  uint64_t rows_ = 0;
  std::unordered_map<std::string, std::string> zones_;
  std::unordered_map<std::string, core::TimeZone> zone_cache_;
};

int Fail(const std::string& message) {
  std::cerr << "tally-admin export: " << message << "\n";
  return 1;
}

int RunExport(const ExportArgs& args) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(fs::path(args.data_dir) / "db" / "CURRENT", ec)) {
    return Fail(args.data_dir + " is not a tally data dir (it has no db/ with a RocksDB database)");
  }
  DataDirLock lock;
  Status locked = lock.Acquire(args.data_dir);
  if (!locked.ok()) return Fail(locked.message());

  core::SystemClock clock;
  core::EngineOptions options;
  options.data_dir = args.data_dir + "/db";
  // Keep everything: the export's own compaction must not drop cells or
  // change records that tallyd's settings would still keep.
  for (int64_t& retention : options.counters.retention_ms) retention = 0;
  options.counters.changes_retention_ms = 0;
  Progress progress("export");
  progress.Note("recovering and compacting " + args.data_dir);
  auto opened = core::Engine::Open(options, clock);
  // Folds the log into the stored families (what tallyd does at a clean stop).
  Status compacted = opened.ok() ? opened.value()->CompactAll() : opened.status();
  progress.Finish();
  if (!opened.ok()) {
    if (opened.status().code() == Status::Code::kBusy) return Fail(BusyMessage(args.data_dir));
    return Fail("cannot open " + args.data_dir + ": " + opened.status().ToString());
  }
  std::unique_ptr<core::Engine> engine = std::move(opened.value());
  if (!compacted.ok()) return Fail("compaction failed: " + compacted.ToString());
  if (uint64_t left = engine->UncompactedEntries(); left > 0) {
    return Fail(std::to_string(left) + " log entries are still not compacted; nothing exported");
  }

  const bool to_stdout = args.output == "-";
  std::ofstream file;
  const std::string partial = args.output + ".partial";
  if (!to_stdout) {
    file.open(partial, std::ios::binary | std::ios::trunc);
    if (!file) return Fail("cannot write " + partial + ": " + std::strerror(errno));
  }
  std::ostream& out = to_stdout ? std::cout : file;
  RecordWriter writer(out);
  const int64_t now_ms = clock.NowMs();
  writer.Write(ndjson::HeaderRecord(TALLY_VERSION, now_ms));
  Exporter exporter(*engine, writer, now_ms);
  Status exported = exporter.Run();
  if (exported.ok()) {
    writer.Write(ndjson::TrailerRecord(writer.counts()));
    out.flush();
    if (!writer.ok()) exported = Status::IoError("cannot write the export");
  }
  if (!to_stdout) {
    file.close();
    if (exported.ok() && !file) exported = Status::IoError("cannot write " + partial);
    std::error_code rename_error;
    if (exported.ok()) fs::rename(partial, args.output, rename_error);
    if (!exported.ok() || rename_error) fs::remove(partial, rename_error);
    if (exported.ok() && rename_error) exported = Status::IoError("cannot rename " + partial + " to " + args.output);
  }
  Status flushed = engine->FlushMemtables();
  engine.reset();
  if (!exported.ok()) return Fail(exported.ToString());
  if (!flushed.ok()) return Fail("exported, but flushing the data dir failed: " + flushed.ToString());

  std::ostream& report = to_stdout ? std::cerr : std::cout;
  if (args.json) {
    report << nlohmann::json{{"data_dir", args.data_dir}, {"output", args.output}, {"counts", writer.counts()}}.dump()
           << "\n";
  } else {
    report << "exported " << ndjson::CountsSummary(writer.counts()) << " from " << args.data_dir << " to "
           << (to_stdout ? "stdout" : args.output) << "\n";
  }
  return 0;
}

}  // namespace

Subcommand AddExportCommand(CLI::App& app) {
  auto args = std::make_shared<ExportArgs>();
  CLI::App* command = app.add_subcommand(
      "export",
      "Write everything in a data dir as NDJSON (one JSON record per line: a header, owners and their time zones, "
      "counter cells, distinct-count sketches, event ids still in their dedupe window, plain keys, prices, the "
      "audit trail, alerts, the changefeed, quota rows, a trailer with counts), to move a data dir across versions "
      "or rebuild it with `tally-admin import`. tallyd must be stopped: the log is folded into the data dir first, "
      "as at a clean shutdown. See docs/export-import.md.");
  command->add_option("data_dir", args->data_dir, "tallyd's data dir (the one holding db and db-log)")->required();
  command->add_option("-o,--output", args->output, "where to write the NDJSON (default -: stdout)");
  command->add_flag("--json", args->json, "print the summary (counts per record type) as one JSON object");
  return {command, [args]() { return RunExport(*args); }};
}

}  // namespace tally::admin
