// tally-admin backup: asks the running tallyd for an online backup (its
// BACKUP command, core/backup.h) over the unix socket or TCP, as the admin
// user. The copy is written by tallyd, so `dir` is a path on tallyd's
// machine that tallyd's user may create (docs/backup.md).

#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "commands.h"
#include "connection_options.h"

namespace tally::admin {
namespace {

struct BackupArgs {
  std::string dir;
  bool json = false;
  cli::ConnectionOptions connection;
};

int RunBackup(const BackupArgs& args) {
  cli::Session::set_program("tally-admin backup");
  int failed = 0;
  std::optional<cli::Session> session = cli::OpenSession(args.connection, args.json, &failed);
  if (!session) return failed;
  std::vector<std::string> command{"BACKUP"};
  if (!args.dir.empty()) command.push_back(args.dir);
  std::optional<cli::Reply> reply = session->Call(command);
  if (!reply) return session->failure();
  // {dir, files, bytes, ms} as a flat list of pairs (RESP2).
  nlohmann::json taken = nlohmann::json::object();
  for (size_t i = 0; reply->is_list() && i + 1 < reply->elements.size(); i += 2) {
    const cli::Reply& value = reply->elements[i + 1];
    if (value.type == cli::Reply::Type::kInteger) {
      taken[reply->elements[i].text] = value.integer;
    } else {
      taken[reply->elements[i].text] = value.text;
    }
  }
  if (!taken.contains("dir")) return cli::Session::Unexpected("BACKUP", *reply);
  if (args.json) {
    std::cout << taken.dump() << "\n";
  } else {
    std::cout << "backup written to " << taken["dir"].get<std::string>() << ": " << taken.value("files", 0)
              << " files, " << taken.value("bytes", 0) << " bytes in " << taken.value("ms", 0) << " ms\n"
              << "check it with: tally-admin verify " << taken["dir"].get<std::string>() << "\n";
  }
  return 0;
}

}  // namespace

Subcommand AddBackupCommand(CLI::App& app) {
  auto args = std::make_shared<BackupArgs>();
  CLI::App* sub = app.add_subcommand(
      "backup",
      "Ask the running tallyd for an online backup (BACKUP): a consistent copy of its data dir written into dir "
      "while writes go on. Exit 0 written, 1 refused by tallyd, 2 bad usage, 3 cannot connect or authenticate");
  sub->set_help_flag("--help", "Print this help message and exit");  // -h is the host
  sub->add_option("dir", args->dir,
                  "absolute directory on tallyd's machine, new or empty (default: <data_dir>/backups/<UTC time>)");
  sub->add_flag("--json", args->json, "print {dir, files, bytes, ms} as JSON");
  cli::AddConnectionOptions(*sub, args->connection);
  return {sub, [args] { return RunBackup(*args); }};
}

}  // namespace tally::admin
