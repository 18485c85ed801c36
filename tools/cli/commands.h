#pragma once
// The `tally` tool's subcommands, as one table. main.cc builds the command
// line (and so every --help) from it; each entry maps a subcommand onto
// tallyd's existing commands (CTR.GET, CTR.HISTORY, CHANGES.READ, ...).

#include <CLI/CLI.hpp>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "resp_client.h"

namespace tally::cli {

// The exit status of `tally`, documented in docs/cli.md.
enum ExitCode : int {
  kExitOk = 0,
  kExitRefused = 1,      // tallyd answered with an error (or a reply tally cannot read)
  kExitUsage = 2,        // bad arguments or options
  kExitUnreachable = 3,  // cannot connect, the connection broke, or authentication failed
};

// What a subcommand runs against: a connection that is open (and
// authenticated) before it runs, the output mode, and how to fail.
class Session {
 public:
  Session(RespConnection connection, bool json) : connection_(std::move(connection)), json_(json) {}

  bool json() const { return json_; }
  RespConnection& connection() { return connection_; }

  // Sends one command and returns its reply. On a broken connection or an
  // error reply, prints the one-line reason on stderr, remembers the exit
  // code (failure()) and returns nullopt.
  std::optional<Reply> Call(const std::vector<std::string>& args);
  // Prints "<program>: <message>" on stderr and returns `code`.
  static int Fail(int code, std::string_view message);
  // The name messages start with ("tally"; tally-admin sets its own).
  static void set_program(std::string name) { program_ = std::move(name); }
  // Reports an error reply (authentication errors exit 3, others 1).
  static int FailWith(const Reply& error);
  // Reports a reply whose shape the tool does not know (a newer or older tallyd).
  static int Unexpected(std::string_view command, const Reply& reply);
  int failure() const { return failure_; }

 private:
  static inline std::string program_ = "tally";
  RespConnection connection_;
  bool json_ = false;
  int failure_ = kExitOk;
};

using RunFunction = std::function<int(Session&)>;

struct SubcommandSpec {
  // "get", or "tail changes": the subcommand `changes` of the group `tail`.
  std::string_view path;
  // One line; `tally --help` and the subcommand's --help show it.
  std::string_view description;
  // Adds the subcommand's arguments and options to `command` and returns the
  // function that runs it with the values parsed into them. Null for a group
  // (`tail`), which only holds subcommands.
  RunFunction (*define)(CLI::App& command);
};

// Every subcommand, in the order --help lists them; a group comes before its members.
const std::vector<SubcommandSpec>& Subcommands();

}  // namespace tally::cli
