#pragma once
// tally-admin's subcommands. Each adds itself to the CLI11 app and returns
// the function that runs it once the arguments are parsed (its exit code).

#include <CLI/CLI.hpp>
#include <functional>

namespace tally::admin {

struct Subcommand {
  CLI::App* parsed_by;       // the CLI11 subcommand
  std::function<int()> run;  // runs it once parsed; returns the exit code
};

// tally-admin salvage --data-dir DIR [--json] [--dry-run] [--no-backup]
Subcommand AddSalvageCommand(CLI::App& app);
// tally-admin export DATA_DIR [-o FILE|-] [--json]
Subcommand AddExportCommand(CLI::App& app);
// tally-admin import FILE|- DATA_DIR [--json]
Subcommand AddImportCommand(CLI::App& app);

// tally-admin backup DIR [-s SOCKET | -h HOST -p PORT] [--password PW] [--json]
Subcommand AddBackupCommand(CLI::App& app);
// tally-admin restore BACKUP DATA_DIR [--json]
Subcommand AddRestoreCommand(CLI::App& app);
// tally-admin verify PATH [--json] [--skip-checksums]
Subcommand AddVerifyCommand(CLI::App& app);

}  // namespace tally::admin
