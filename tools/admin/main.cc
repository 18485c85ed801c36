// tally-admin: maintenance of a tally data dir. `backup` asks a running
// tallyd; the other subcommands work on a stopped one.
// One binary, one subcommand per task (commands.h).

#include <CLI/CLI.hpp>
#include <vector>

#include "commands.h"

int main(int argc, char** argv) {
  CLI::App app{
      "tally-admin: maintenance of a tally data dir: backup (of a running tallyd), restore, verify, export, import, "
      "salvage (the others with tallyd stopped)"};
  app.require_subcommand(1);
  const std::vector<tally::admin::Subcommand> commands = {
      tally::admin::AddSalvageCommand(app), tally::admin::AddExportCommand(app),  tally::admin::AddImportCommand(app),
      tally::admin::AddBackupCommand(app),  tally::admin::AddRestoreCommand(app), tally::admin::AddVerifyCommand(app)};
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // app.exit prints the help or the usage error; every subcommand
    // documents status 2 for bad usage (CLI11's own codes are 100 and more).
    return app.exit(e) == 0 ? 0 : 2;
  }
  for (const tally::admin::Subcommand& command : commands) {
    if (command.parsed_by->parsed()) return command.run();
  }
  return 2;
}
