// tally: the command-line client of tallyd. Reads and changes counters,
// quotas and credits, and follows the changefeed and the alerts, over the
// unix socket (default) or TCP, by sending tallyd's own commands.
//
// The subcommands come from one table (commands.h); this file adds the
// connection options, parses, connects, authenticates and runs the one given.

#include <CLI/CLI.hpp>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "commands.h"
#include "connection_options.h"
#include "resp_client.h"

namespace tally::cli {
namespace {

struct GlobalOptions {
  ConnectionOptions connection;
  bool json = false;
};

constexpr const char* kFooter = R"(Where tallyd is: -s PATH (its unix socket) or -h HOST / -p PORT (TCP); without them
TALLY_SOCKET, or TALLY_HOST / TALLY_PORT; else the unix socket /run/tally/tally.sock.
With --password (or TALLY_PASSWORD) tally authenticates first (AUTH), as --user
(or TALLY_USER): default (read-write) or reader (read-only).

Exit status: 0 done; 1 tallyd answered with an error (printed on stderr);
2 bad usage; 3 cannot connect, connection lost, or authentication failed.

Every subcommand has its own --help, e.g. tally history --help. Docs: docs/cli.md.)";

// Under each subcommand's help, which does not list the options above.
constexpr const char* kSubcommandFooter =
    "Also: -s PATH | -h HOST -p PORT, --user, --password, --json (before or after the subcommand; see tally --help).";

int Main(int argc, char** argv) {
  CLI::App app{"tally: the command-line client of tallyd (counters, quotas, credits, changefeed, alerts)", "tally"};
  // -h is the host, as in redis-cli; help is --help only.
  app.set_help_flag("--help", "Print this help message and exit");
  app.require_subcommand(1);
  app.fallthrough();              // the options below may also follow the subcommand: tally get u k --json
  app.footer(kSubcommandFooter);  // subcommands copy it as they are added; the top level's is set below

  GlobalOptions options;
  AddConnectionOptions(app, options.connection);
  app.add_flag("--json", options.json, "print JSON on stdout (one object per line) instead of text");

  // The subcommands, from the table; groups ("tail") hold their members.
  std::map<std::string, CLI::App*, std::less<>> groups;
  std::vector<std::pair<CLI::App*, RunFunction>> runnable;
  for (const SubcommandSpec& spec : Subcommands()) {
    const size_t space = spec.path.rfind(' ');
    CLI::App* parent = &app;
    if (space != std::string_view::npos) parent = groups.at(std::string(spec.path.substr(0, space)));
    const std::string name(space == std::string_view::npos ? spec.path : spec.path.substr(space + 1));
    CLI::App* command = parent->add_subcommand(name, std::string(spec.description));
    if (spec.define == nullptr) {
      command->require_subcommand(1);
      groups.emplace(std::string(spec.path), command);
      continue;
    }
    runnable.emplace_back(command, spec.define(*command));
  }
  app.footer(kFooter);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help
    std::string message = e.what();
    if (message == "A subcommand is required") {
      // Name the choices: those of the deepest group given (`tally tail`), else the top level's.
      const CLI::App* group = &app;
      for (const auto& [path, command] : groups) {
        if (command->parsed()) group = command;
      }
      message = "give one of these subcommands:";
      for (const CLI::App* choice : group->get_subcommands({})) message += " " + choice->get_name();
    }
    return Session::Fail(kExitUsage, message + " (see tally --help)");
  }
  int failed = kExitOk;
  std::optional<Session> session = OpenSession(options.connection, options.json, &failed);
  if (!session) return failed;
  for (auto& [command, run] : runnable) {
    if (command->parsed()) return run(*session);
  }
  return Session::Fail(kExitUsage, "no subcommand given (see tally --help)");
}

}  // namespace
}  // namespace tally::cli

int main(int argc, char** argv) { return tally::cli::Main(argc, argv); }
