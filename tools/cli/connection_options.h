#pragma once
// Where tallyd is and who to be, for every tool that talks to a running
// tallyd (`tally`, `tally-admin backup`): the options -s, -h, -p, --user and
// --password with their environment variables, and the connection they
// describe, opened and authenticated.
//
// Order: -s, then -h/-p, then TALLY_SOCKET, then TALLY_HOST/TALLY_PORT, then
// the packaged socket /run/tally/tally.sock.

#include <CLI/CLI.hpp>
#include <optional>
#include <string>

#include "commands.h"

namespace tally::cli {

struct ConnectionOptions {
  std::string socket;
  std::string host;
  int port = 0;
  std::string user;
  std::string password;
  CLI::Option* host_option = nullptr;
  CLI::Option* port_option = nullptr;
};

// Adds -s/--socket, -h/--host, -p/--port, --user and --password to `app`
// (-h is the host, as in redis-cli: give the app a --help flag of its own).
void AddConnectionOptions(CLI::App& app, ConnectionOptions& options);

// Connects and, with a password, authenticates. On failure prints the
// one-line reason (Session::Fail) and sets *exit_code: kExitUsage for bad
// options, kExitUnreachable when tallyd cannot be reached or refuses the
// password.
std::optional<Session> OpenSession(const ConnectionOptions& options, bool json, int* exit_code);

}  // namespace tally::cli
