// tally-admin restore: copies a backup (BACKUP, `tally-admin backup`) into
// an empty data dir, checking every file against the backup's manifest as
// it is copied. tallyd then starts on the data dir as after a clean stop
// (it replays the copy's log above its checkpoints).

#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "commands.h"
#include "progress.h"
#include "storage/backup_manifest.h"

namespace tally::admin {
namespace {

struct RestoreArgs {
  std::string backup;
  std::string data_dir;
  bool json = false;
};

int RunRestore(const RestoreArgs& args) {
  auto fail = [&](const std::string& why, int code) {
    if (args.json) {
      std::cout << nlohmann::json{{"ok", false}, {"error", why}}.dump(2) << "\n";
    } else {
      std::cerr << "tally-admin restore: " << why << "\n";
    }
    return code;
  };
  auto manifest = storage::ReadBackupManifest(args.backup);
  if (!manifest.ok()) {
    if (manifest.status().code() == storage::Status::Code::kNotFound) {
      return fail(args.backup + " is not a tally backup (it has no " + storage::kBackupManifestName + ")", 2);
    }
    return fail(manifest.status().ToString(), 1);
  }
  std::error_code ec;
  if (std::filesystem::exists(args.data_dir, ec) && !std::filesystem::is_empty(args.data_dir, ec)) {
    return fail(args.data_dir +
                    " is not empty: restore only into an empty or new data dir (stop tallyd, move the "
                    "old data dir away, then restore)",
                2);
  }
  Progress progress("restore");
  storage::Status s =
      storage::CopyBackupFiles(args.backup, manifest.value(), args.data_dir,
                               [&](uint64_t done, uint64_t total) { progress.Update("copying (bytes)", done, total); });
  progress.Finish();
  if (!s.ok()) return fail(s.ToString() + "; nothing was left in " + args.data_dir, 1);
  const storage::BackupManifest& m = manifest.value();
  if (args.json) {
    std::cout << nlohmann::json{{"ok", true},
                                {"backup", args.backup},
                                {"data_dir", args.data_dir},
                                {"files", m.files.size()},
                                {"bytes", m.total_bytes()},
                                {"backup_created_ms", m.created_ms},
                                {"backup_tally_version", m.tally_version}}
                     .dump(2)
              << "\n";
  } else {
    std::cout << "restored " << m.files.size() << " files (" << m.total_bytes() << " bytes, every checksum as in the "
              << "manifest) from " << args.backup << " into " << args.data_dir << "\n"
              << "start tallyd with data_dir = " << args.data_dir << " (it replays the copy's log at start)\n";
  }
  return 0;
}

}  // namespace

Subcommand AddRestoreCommand(CLI::App& app) {
  auto args = std::make_shared<RestoreArgs>();
  CLI::App* sub = app.add_subcommand(
      "restore",
      "Copy a backup into an empty (or new) data dir, checking every file against the backup's manifest. Exit 0 "
      "when restored, 1 when the copy failed or the backup is damaged (nothing is left behind), 2 on a bad argument");
  sub->add_option("backup", args->backup, "the backup directory (holding tally-backup.manifest)")->required();
  sub->add_option("data_dir", args->data_dir, "the data dir to create (must be empty or not exist)")->required();
  sub->add_flag("--json", args->json, "print the result as JSON");
  return {sub, [args] { return RunRestore(*args); }};
}

}  // namespace tally::admin
