// tally-admin: offline maintenance of a tally data dir (tallyd stopped).
// One binary, one subcommand per task (commands.h).

#include <CLI/CLI.hpp>
#include <vector>

#include "commands.h"

int main(int argc, char** argv) {
  CLI::App app{"tally-admin: offline maintenance of a tally data dir (run it while tallyd is stopped)"};
  app.require_subcommand(1);
  const std::vector<tally::admin::Subcommand> commands = {tally::admin::AddSalvageCommand(app)};
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  for (const tally::admin::Subcommand& command : commands) {
    if (command.parsed_by->parsed()) return command.run();
  }
  return 2;
}
