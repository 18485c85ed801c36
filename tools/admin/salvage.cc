// tally-admin salvage: rebuilds a damaged db-log from every record that can
// still be read (storage/log_salvage.h) and reports what was lost.

#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "commands.h"
#include "storage/log_salvage.h"

namespace tally::admin {
namespace {

struct SalvageArgs {
  std::string data_dir;
  bool json = false;
  bool dry_run = false;
  bool no_backup = false;
};

nlohmann::json ToJson(const storage::SalvageReport& report) {
  nlohmann::json gaps = nlohmann::json::array();
  for (const storage::SequenceGap& gap : report.gaps) {
    gaps.push_back({{"shard", gap.shard}, {"first_seq", gap.first}, {"last_seq", gap.last}, {"entries", gap.count()}});
  }
  nlohmann::json out = {{"log_dir", report.log_dir},
                        {"backup_dir", report.backup_dir},
                        {"data_dir_id", report.data_dir_id},
                        {"dry_run", report.dry_run},
                        {"checkpoints_known", report.checkpoints_known},
                        {"blobs_kept", report.blobs_kept},
                        {"entries_kept", report.entries_kept},
                        {"blobs_recovered_from_wal", report.recovered_from_wal},
                        {"entries_lost", report.entries_lost()},
                        {"gaps", gaps},
                        {"dropped_by_rocksdb", report.dropped_by_rocksdb},
                        {"unreadable", report.unreadable}};
  if (report.wal_damage) {
    out["wal_damage"] = {{"file", report.wal_damage->file},
                         {"offset", report.wal_damage->offset},
                         {"reason", report.wal_damage->reason}};
  } else {
    out["wal_damage"] = nullptr;
  }
  return out;
}

void PrintText(const storage::SalvageReport& report) {
  std::cout << (report.dry_run ? "dry run (nothing changed): " : "") << "salvaged " << report.log_dir << "\n";
  if (report.wal_damage) std::cout << "  damage found: " << report.wal_damage->ToString() << "\n";
  for (const std::string& line : report.dropped_by_rocksdb) std::cout << "  RocksDB skipped: " << line << "\n";
  for (const std::string& line : report.unreadable) std::cout << "  unreadable: " << line << "\n";
  std::cout << "  kept " << report.entries_kept << " log entries in " << report.blobs_kept << " blobs ("
            << report.recovered_from_wal << " of them found intact in the WAL files after RocksDB skipped them)\n";
  if (report.gaps.empty()) {
    std::cout << "  no gaps in any shard's sequence numbers";
  } else {
    std::cout << "  LOST " << report.entries_lost() << " log entries (acknowledged writes) in " << report.gaps.size()
              << " gaps:\n";
    for (const storage::SequenceGap& gap : report.gaps) {
      std::cout << "    shard " << gap.shard << ": seq " << gap.first << ".." << gap.last << " (" << gap.count()
                << " entries)\n";
    }
    std::cout << "  (writes lost at the very end of a shard's log leave no gap and cannot be counted)";
  }
  std::cout << "\n";
  if (!report.checkpoints_known) {
    std::cout << "  the compacted state (db) could not be read: gaps are counted between log blobs only\n";
  }
  if (!report.backup_dir.empty()) std::cout << "  the damaged log is kept at " << report.backup_dir << "\n";
  if (!report.dry_run) std::cout << "tallyd can start on this data dir again.\n";
}

}  // namespace

Subcommand AddSalvageCommand(CLI::App& app) {
  auto args = std::make_shared<SalvageArgs>();
  CLI::App* command = app.add_subcommand(
      "salvage",
      "Rebuild a damaged write-ahead log (<data-dir>/db-log) from every record that can still be read, and report "
      "what could not (per shard, the missing sequence numbers). tallyd must be stopped. It changes only db-log: "
      "the damaged instance is moved to db-log.damaged-<UTC time> (deleted instead with --no-backup) and a new "
      "db-log holding every intact record takes its place. The compacted state (db) is only read.");
  command->add_option("--data-dir", args->data_dir, "tallyd's data dir (the one holding db and db-log)")->required();
  command->add_flag("--json", args->json, "print the report as one JSON object on stdout");
  command->add_flag("--dry-run", args->dry_run, "read and report only; change nothing");
  command->add_flag("--no-backup", args->no_backup, "delete the damaged db-log instead of keeping it");
  return {command, [args]() {
            storage::SalvageOptions options;
            options.data_dir = args->data_dir;
            options.dry_run = args->dry_run;
            options.keep_backup = !args->no_backup;
            options.progress = [](int shard, uint64_t blobs) {
              std::cerr << "salvage: shard " << shard << " read, " << blobs << " blobs kept so far\n";
            };
            auto report = storage::SalvageLog(options);
            if (!report.ok()) {
              std::cerr << "tally-admin salvage: " << report.status().ToString() << "\n";
              return 1;
            }
            if (args->json) {
              std::cout << ToJson(report.value()).dump() << "\n";
            } else {
              PrintText(report.value());
            }
            return 0;
          }};
}

}  // namespace tally::admin
