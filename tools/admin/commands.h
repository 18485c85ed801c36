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

}  // namespace tally::admin
