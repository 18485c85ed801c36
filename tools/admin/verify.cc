// tally-admin verify: checks a stopped data dir or a backup without changing
// it (both instances opened read-only) and reports every problem it finds:
//   - a backup's files against its manifest (size and CRC-32C);
//   - every block of every table file against its checksum (RocksDB);
//   - each shard's log continues exactly at its checkpoint, without a gap
//     (a gap is a lost acknowledged write);
//   - every counter cell decodes, names a real period of its interval, and
//     has its `by_key` index row with the same value;
//   - the changefeed, the audit trail and the alerts are dense sequences;
//   - event ids, plain keys and owners decode.
// Exit 0: no problem found; 1: problems (listed); 2: it could not check.

#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "commands.h"
#include "core/calendar.h"
#include "progress.h"
#include "storage/backup_manifest.h"
#include "storage/codec.h"
#include "storage/feed_format.h"
#include "storage/log_format.h"
#include "storage/store.h"

namespace tally::admin {
namespace {

namespace lf = storage::log_format;
namespace ff = storage::feed_format;
using storage::Family;
using storage::Status;

struct VerifyArgs {
  std::string path;
  bool json = false;
  bool skip_checksums = false;
};

class Verifier {
 public:
  explicit Verifier(storage::Store& store) : store_(store) {}

  // Each check reads one part of the data; a Status that is not Ok means it
  // could not read (the problems found are in problems()).
  Status CheckLog();
  Status CheckCells();
  Status CheckFeed(Family family, std::string_view next_key, std::string_view trimmed_key, const char* name);
  Status CheckSmallFamilies();

  void Problem(std::string what) {
    if (problems_.size() < kMaxListed) problems_.push_back(std::move(what));
    ++problem_count_;
  }
  const std::vector<std::string>& problems() const { return problems_; }
  uint64_t problem_count() const { return problem_count_; }
  nlohmann::json& figures() { return figures_; }

 private:
  static constexpr size_t kMaxListed = 100;
  storage::Store& store_;
  std::vector<std::string> problems_;
  uint64_t problem_count_ = 0;
  nlohmann::json figures_ = nlohmann::json::object();
};

std::string Printable(std::string_view bytes) {
  std::string out;
  for (unsigned char c : bytes) {
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      char hex[5];
      std::snprintf(hex, sizeof(hex), "\\x%02x", c);
      out += hex;
    }
  }
  return out;
}

Status Verifier::CheckLog() {
  std::map<uint16_t, uint64_t> checkpoints;
  std::string end(lf::kCheckpointPrefix);
  end.back() = static_cast<char>(end.back() + 1);
  Status s = store_.Scan(Family::kMeta, lf::kCheckpointPrefix, end, [&](std::string_view key, std::string_view value) {
    if (key.size() != lf::kCheckpointPrefix.size() + 2 || value.size() != 8) {
      Problem("meta: malformed checkpoint row " + Printable(key));
      return true;
    }
    checkpoints[storage::codec::GetBigEndian16(key.data() + lf::kCheckpointPrefix.size())] =
        storage::codec::GetFixed64(value.data());
    return true;
  });
  if (!s.ok()) return s;
  // Per shard: the next sequence the log must hold (checkpoint + 1), and
  // whether a blob above the checkpoint has been seen.
  std::map<uint16_t, uint64_t> expected;
  uint64_t blobs = 0, entries = 0, to_replay = 0;
  s = store_.Scan(
      Family::kLog, "", "",
      [&](std::string_view key, std::string_view value) {
        uint16_t shard = 0;
        uint64_t first = 0;
        if (!lf::ParseLogKey(key, &shard, &first)) {
          Problem("log: malformed key " + Printable(key));
          return true;
        }
        ++blobs;
        lf::BlobReader reader(value);
        lf::Entry entry;
        uint64_t count = 0;
        while (reader.Next(&entry)) ++count;
        if (!reader.status().ok()) {
          Problem("log: shard " + std::to_string(shard) + " blob at seq " + std::to_string(first) +
                  " does not decode: " + reader.status().ToString());
        }
        entries += count;
        const uint64_t checkpoint = checkpoints.count(shard) ? checkpoints[shard] : 0;
        const uint64_t last = first + count - 1;
        if (count == 0 || last <= checkpoint) return true;  // folded already; replay skips it
        auto [it, fresh] = expected.try_emplace(shard, checkpoint + 1);
        if (first > it->second) {
          Problem("log: shard " + std::to_string(shard) + " is missing entries " + std::to_string(it->second) + "-" +
                  std::to_string(first - 1) + " above its checkpoint " + std::to_string(checkpoint) +
                  " (acknowledged writes lost)");
        } else if (first < it->second && !fresh) {
          Problem("log: shard " + std::to_string(shard) + " has overlapping blobs at seq " + std::to_string(first));
        }
        to_replay += last - std::max(checkpoint, first - 1);
        it->second = last + 1;
        return true;
      },
      storage::Store::ScanMode::kBulk);
  figures_["log_blobs"] = blobs;
  figures_["log_entries"] = entries;
  figures_["log_entries_to_replay"] = to_replay;
  figures_["shards_with_checkpoint"] = checkpoints.size();
  return s;
}

// A date-based period id must be the first day of its period; an hour's,
// a whole number of quarter hours (zones are offset by 15-minute steps).
bool PeriodFits(uint8_t interval, int64_t period) {
  if (interval == static_cast<uint8_t>(core::Interval::kTotal)) return period == 0;
  if (interval == static_cast<uint8_t>(core::Interval::kHour)) return period % 15 == 0;
  const auto kind = static_cast<core::Interval>(interval);
  const core::TimeZone utc = core::TimeZone::Utc();
  return core::PeriodOf(kind, core::PeriodStartMs(kind, period, utc), utc) == period;
}

Status Verifier::CheckCells() {
  uint64_t cells = 0, counters = 0;
  // A data dir from before the by_value index gets it when tallyd first
  // opens it (core/counter_compaction.cc): nothing to check until then.
  auto built = store_.Get(Family::kMeta, lf::kValueIndexBuiltKey);
  if (!built.ok()) return built.status();
  const bool value_index_built = built.value().has_value();
  std::string last_counter;
  Status s = store_.Scan(
      Family::kCells, "", "",
      [&](std::string_view key, std::string_view value) {
        ++cells;
        lf::ParsedCellKey cell;
        if (!lf::ParseCellKey(key, &cell) || cell.interval >= core::kIntervalCount) {
          Problem("cells: malformed key " + Printable(key));
          return true;
        }
        const std::string counter = std::string(cell.owner) + " " + std::string(cell.key);
        if (counter != last_counter) ++counters;
        last_counter = counter;
        if (value.size() != 8) {
          Problem("cells: " + counter + " has a value of " + std::to_string(value.size()) + " bytes, not 8");
          return true;
        }
        if (!PeriodFits(cell.interval, cell.period)) {
          Problem("cells: " + counter + " " +
                  std::string(core::IntervalName(static_cast<core::Interval>(cell.interval))) + " period id " +
                  std::to_string(cell.period) + " is not the start of a period");
        }
        auto indexed = store_.Get(Family::kByKey, lf::ByKeyKey(cell.key, cell.interval, cell.period, cell.owner));
        if (!indexed.ok()) {
          Problem("by_key: cannot read the index row of " + counter + ": " + indexed.status().ToString());
        } else if (!indexed.value()) {
          Problem("by_key: no index row for " + counter + " " +
                  std::string(core::IntervalName(static_cast<core::Interval>(cell.interval))) + " period id " +
                  std::to_string(cell.period) + " (CTR.TOP would miss it)");
        } else if (*indexed.value() != value) {
          Problem("by_key: the index row of " + counter + " " +
                  std::string(core::IntervalName(static_cast<core::Interval>(cell.interval))) + " period id " +
                  std::to_string(cell.period) + " holds another value than the cell");
        }
        int64_t decoded = 0;
        if (value_index_built && lf::DecodeInt64(value, &decoded)) {
          auto ranked =
              store_.Get(Family::kByValue, lf::ByValueKey(cell.key, cell.interval, cell.period, decoded, cell.owner));
          if (!ranked.ok()) {
            Problem("by_value: cannot read the index row of " + counter + ": " + ranked.status().ToString());
          } else if (!ranked.value()) {
            Problem("by_value: no index row for " + counter + " " +
                    std::string(core::IntervalName(static_cast<core::Interval>(cell.interval))) + " period id " +
                    std::to_string(cell.period) + " with its value (CTR.TOP would miss it)");
          }
        }
        return true;
      },
      storage::Store::ScanMode::kBulk);
  figures_["cells"] = cells;
  figures_["counters"] = counters;
  if (!s.ok() || !value_index_built) return s;
  // No by_value entry with another value than its by_key entry: it would
  // rank the owner twice. (An entry whose by_key entry is gone is an expired
  // cell's: retention drops the entries of each index when RocksDB compacts
  // that family, not at the same time.)
  uint64_t by_value = 0;
  s = store_.Scan(
      Family::kByValue, "", "",
      [&](std::string_view entry, std::string_view) {
        ++by_value;
        const size_t end_of_key = entry.find('\0');
        int64_t period = 0, value = 0;
        std::string_view owner;
        if (end_of_key == std::string_view::npos || end_of_key + 1 >= entry.size() ||
            !lf::ParseByValueKey(entry, entry.substr(0, end_of_key), static_cast<uint8_t>(entry[end_of_key + 1]),
                                 &period, &value, &owner)) {
          Problem("by_value: malformed entry " + Printable(entry));
          return true;
        }
        const std::string_view key = entry.substr(0, end_of_key);
        const auto interval = static_cast<uint8_t>(entry[end_of_key + 1]);
        auto indexed = store_.Get(Family::kByKey, lf::ByKeyKey(key, interval, period, owner));
        int64_t current = 0;
        if (!indexed.ok()) {
          Problem("by_key: cannot read the index row of " + std::string(owner) + " " + std::string(key) + ": " +
                  indexed.status().ToString());
        } else if (indexed.value() && lf::DecodeInt64(*indexed.value(), &current) && current != value) {
          Problem("by_value: a stale entry for " + std::string(owner) + " " + std::string(key) + " " +
                  std::string(core::IntervalName(static_cast<core::Interval>(interval))) + " period id " +
                  std::to_string(period) + ": " + std::to_string(value) + " where the cell holds " +
                  std::to_string(current) + " (CTR.TOP would rank the owner twice)");
        }
        return true;
      },
      storage::Store::ScanMode::kBulk);
  figures_["by_value_rows"] = by_value;
  return s;
}

// Records of a feed family must be dense: each blob starts right after the
// previous one and its key is its last seq; the last one is below `next`.
Status Verifier::CheckFeed(Family family, std::string_view next_key, std::string_view trimmed_key, const char* name) {
  auto read_meta = [&](std::string_view key, uint64_t* out) -> Status {
    *out = 0;
    if (key.empty()) return Status::Ok();
    auto row = store_.Get(Family::kMeta, key);
    if (!row.ok()) return row.status();
    if (row.value() && row.value()->size() == 8) *out = storage::codec::GetFixed64(row.value()->data());
    return Status::Ok();
  };
  uint64_t next = 0, trimmed = 0;
  Status s = read_meta(next_key, &next);
  if (s.ok()) s = read_meta(trimmed_key, &trimmed);
  if (!s.ok()) return s;
  uint64_t expected = 0, records = 0;  // 0: the first blob may start anywhere above the trim point
  s = store_.Scan(
      family, "", "",
      [&](std::string_view key, std::string_view value) {
        uint64_t last = 0;
        if (!ff::ParseFeedKey(key, &last)) {
          Problem(std::string(name) + ": malformed key " + Printable(key));
          return true;
        }
        uint64_t first = 0, count = 0;
        bool ok = true;
        if (family == Family::kChanges) {
          ff::ChangeBlobReader reader(value);
          ff::ChangeRecord record;
          while (reader.Next(&record)) ++count;
          first = reader.first_seq();
          ok = reader.ok();
        } else {
          ff::AuditBlobReader reader(value);
          ff::AuditRecord record;
          while (reader.Next(&record)) ++count;
          first = reader.first_seq();
          ok = reader.ok();
        }
        records += count;
        if (!ok || count == 0 || first + count - 1 != last) {
          Problem(std::string(name) + ": the blob ending at seq " + std::to_string(last) + " does not decode whole");
          return true;
        }
        if (expected == 0 && first <= trimmed) {
          Problem(std::string(name) + ": seq " + std::to_string(first) + " is below the trim point " +
                  std::to_string(trimmed));
        }
        if (expected != 0 && first != expected) {
          Problem(std::string(name) + ": seqs " + std::to_string(expected) + "-" + std::to_string(first - 1) +
                  " are missing");
        }
        expected = last + 1;
        return true;
      },
      storage::Store::ScanMode::kBulk);
  if (s.ok() && expected != 0 && next != 0 && expected != next) {
    Problem(std::string(name) + ": the last record is seq " + std::to_string(expected - 1) + " but the next seq is " +
            std::to_string(next));
  }
  figures_[std::string(name) + "_records"] = records;
  return s;
}

Status Verifier::CheckSmallFamilies() {
  uint64_t ids = 0, keys = 0, owners = 0;
  Status s = store_.Scan(Family::kDedupe, "", "", [&](std::string_view key, std::string_view value) {
    ++ids;
    int64_t expiry = 0;
    uint64_t fingerprint = 0;
    if (!lf::DecodeDedupeValue(value, &expiry, &fingerprint)) Problem("dedupe: malformed row " + Printable(key));
    return true;
  });
  if (s.ok()) {
    s = store_.Scan(Family::kKv, "", "", [&](std::string_view key, std::string_view value) {
      ++keys;
      int64_t expiry = 0;
      std::string_view bytes;
      if (!lf::DecodeKvValue(value, &expiry, &bytes)) Problem("kv: malformed value of key " + Printable(key));
      return true;
    });
  }
  if (s.ok()) {
    s = store_.Scan(Family::kOwners, "", "", [&](std::string_view owner, std::string_view zone) {
      ++owners;
      if (!zone.empty() && !core::TimeZone::Find(zone)) {
        Problem("owners: " + Printable(owner) + " has an unknown time zone '" + Printable(zone) + "'");
      }
      return true;
    });
  }
  figures_["event_ids"] = ids;
  figures_["plain_keys"] = keys;
  figures_["owners_with_zone"] = owners;
  return s;
}

int RunVerify(const VerifyArgs& args) {
  nlohmann::json report = {{"path", args.path}};
  std::vector<std::string> steps;
  auto say = [&](const std::string& line) {
    steps.push_back(line);
    if (!args.json) std::cout << line << "\n" << std::flush;
  };
  auto fail = [&](const std::string& why) {
    if (args.json) {
      report["error"] = why;
      std::cout << report.dump(2) << "\n";
    } else {
      std::cerr << "tally-admin verify: " << why << "\n";
    }
    return 2;
  };

  std::vector<std::string> file_problems;
  auto manifest = storage::ReadBackupManifest(args.path);
  if (manifest.ok()) {
    Progress progress("verify");
    file_problems = storage::CheckBackupFiles(args.path, manifest.value(), [&](uint64_t done, uint64_t total) {
      progress.Update("backup files (bytes)", done, total);
    });
    progress.Finish();
    report["backup"] = {{"tally_version", manifest.value().tally_version},
                        {"created_ms", manifest.value().created_ms},
                        {"files", manifest.value().files.size()},
                        {"bytes", manifest.value().total_bytes()}};
    say("backup manifest: " + std::to_string(manifest.value().files.size()) + " files, " +
        std::to_string(file_problems.size()) + " damaged or missing");
    if (!file_problems.empty()) {
      // A damaged copy must not be opened: RocksDB may refuse or misread it.
      report["problems"] = file_problems;
      report["ok"] = false;
      if (args.json) {
        std::cout << report.dump(2) << "\n";
      } else {
        for (const std::string& p : file_problems) std::cout << "  PROBLEM " << p << "\n";
        std::cout << "NOT OK: the backup is damaged; do not restore it\n";
      }
      return 1;
    }
  } else if (manifest.status().code() != storage::Status::Code::kNotFound) {
    return fail(manifest.status().ToString());
  }

  storage::StoreOptions options;
  options.path = args.path + "/db";
  options.read_only = true;
  options.create_if_missing = false;
  options.block_cache_bytes = 32ull << 20;
  auto opened = storage::Store::Open(options);
  if (!opened.ok()) return fail("cannot open " + options.path + ": " + opened.status().ToString());
  storage::Store& store = *opened.value();
  Verifier verifier(store);
  Progress progress("verify");

  auto step = [&](const std::string& what, const std::function<Status()>& run) {
    progress.Update(what, 0, 0);
    const uint64_t before = verifier.problem_count();
    Status s = run();
    progress.Finish();
    if (!s.ok()) verifier.Problem(what + ": cannot read: " + s.ToString());
    say(what + ": " +
        (verifier.problem_count() == before ? "ok"
                                            : std::to_string(verifier.problem_count() - before) + " problem(s)"));
  };
  if (!args.skip_checksums) step("table file checksums", [&] { return store.VerifyChecksums(); });
  step("log against checkpoints", [&] { return verifier.CheckLog(); });
  step("counter cells and index", [&] { return verifier.CheckCells(); });
  step("changefeed",
       [&] { return verifier.CheckFeed(Family::kChanges, ff::kChangesNextKey, ff::kChangesTrimmedKey, "changes"); });
  step("audit trail", [&] { return verifier.CheckFeed(Family::kAudit, ff::kAuditNextKey, "", "audit"); });
  step("alerts", [&] { return verifier.CheckFeed(Family::kAlerts, ff::kAlertsNextKey, "", "alerts"); });
  step("event ids, plain keys, owners", [&] { return verifier.CheckSmallFamilies(); });

  report["figures"] = verifier.figures();
  report["problems"] = verifier.problems();
  report["problem_count"] = verifier.problem_count();
  report["ok"] = verifier.problem_count() == 0;
  report["steps"] = steps;
  if (args.json) {
    std::cout << report.dump(2) << "\n";
  } else {
    for (const auto& [name, value] : verifier.figures().items()) std::cout << "  " << name << ": " << value << "\n";
    for (const std::string& p : verifier.problems()) std::cout << "  PROBLEM " << p << "\n";
    if (verifier.problem_count() > verifier.problems().size()) {
      std::cout << "  ... and " << verifier.problem_count() - verifier.problems().size() << " more\n";
    }
    std::cout << (verifier.problem_count() == 0
                      ? "OK: no problem found\n"
                      : "NOT OK: " + std::to_string(verifier.problem_count()) + " problem(s)\n");
  }
  return verifier.problem_count() == 0 ? 0 : 1;
}

}  // namespace

Subcommand AddVerifyCommand(CLI::App& app) {
  auto args = std::make_shared<VerifyArgs>();
  CLI::App* sub = app.add_subcommand(
      "verify",
      "Check a stopped data dir or a backup without changing it: file checksums (and a backup's manifest), the log "
      "against the checkpoints, counter cells and their index, the feeds' sequences. Exit 0 when no problem is "
      "found, 1 when some are (each listed), 2 when it cannot check");
  sub->add_option("path", args->path, "the data dir (holding db/ and db-log/) or a backup directory")->required();
  sub->add_flag("--json", args->json, "print the report as JSON");
  sub->add_flag("--skip-checksums", args->skip_checksums,
                "do not read every table file block (faster; the manifest of a backup is still checked)");
  return {sub, [args] { return RunVerify(*args); }};
}

}  // namespace tally::admin
