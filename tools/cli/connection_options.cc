#include "connection_options.h"

#include <cstdlib>

namespace tally::cli {
namespace {

// The socket the packaged tallyd listens on (systemd/tally.toml: unix_socket).
constexpr const char* kDefaultSocket = "/run/tally/tally.sock";
constexpr const char* kDefaultHost = "127.0.0.1";
constexpr int kDefaultPort = 6380;

std::optional<std::string> Env(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return std::nullopt;
  return std::string(value);
}

// Flags first, then the environment, then the default socket. Returns the
// usage error when TALLY_PORT is not a port.
std::optional<std::string> ResolveEndpoint(const ConnectionOptions& options, Endpoint* endpoint) {
  if (!options.socket.empty()) {
    endpoint->unix_socket = options.socket;
    return std::nullopt;
  }
  const bool tcp_flags = options.host_option->count() > 0 || options.port_option->count() > 0;
  const std::optional<std::string> env_socket = Env("TALLY_SOCKET");
  const std::optional<std::string> env_host = Env("TALLY_HOST");
  const std::optional<std::string> env_port = Env("TALLY_PORT");
  if (!tcp_flags && env_socket) {
    endpoint->unix_socket = *env_socket;
    return std::nullopt;
  }
  if (!tcp_flags && !env_host && !env_port) {
    endpoint->unix_socket = kDefaultSocket;
    return std::nullopt;
  }
  endpoint->host = options.host_option->count() > 0 ? options.host : env_host.value_or(kDefaultHost);
  endpoint->port = kDefaultPort;
  if (options.port_option->count() > 0) {
    endpoint->port = options.port;
  } else if (env_port) {
    char* end = nullptr;
    const long port = std::strtol(env_port->c_str(), &end, 10);
    if (*end != '\0' || port < 1 || port > 65535) return "TALLY_PORT '" + *env_port + "' is not a port (1-65535)";
    endpoint->port = static_cast<int>(port);
  }
  return std::nullopt;
}

}  // namespace

void AddConnectionOptions(CLI::App& app, ConnectionOptions& options) {
  CLI::Option* socket = app.add_option("-s,--socket", options.socket,
                                       "unix socket of tallyd (default: /run/tally/tally.sock, or TALLY_SOCKET)");
  options.host_option =
      app.add_option("-h,--host", options.host, "connect over TCP to this host (default 127.0.0.1 with -p)")
          ->excludes(socket);
  options.port_option =
      app.add_option("-p,--port", options.port, "connect over TCP to this port (default 6380 with -h)")
          ->check(CLI::Range(1, 65535))
          ->excludes(socket);
  app.add_option("--user", options.user, "the user to authenticate as: default (read-write) or reader (read-only)")
      ->envname("TALLY_USER");
  app.add_option("--password", options.password, "the user's password (prefer TALLY_PASSWORD: flags show in ps)")
      ->envname("TALLY_PASSWORD");
}

std::optional<Session> OpenSession(const ConnectionOptions& options, bool json, int* exit_code) {
  if (!options.user.empty() && options.password.empty()) {
    *exit_code =
        Session::Fail(kExitUsage, "--user " + options.user + " needs a password (--password or TALLY_PASSWORD)");
    return std::nullopt;
  }
  Endpoint endpoint;
  if (std::optional<std::string> error = ResolveEndpoint(options, &endpoint)) {
    *exit_code = Session::Fail(kExitUsage, *error);
    return std::nullopt;
  }
  ClientResult<RespConnection> connection = RespConnection::Connect(endpoint);
  if (!connection.ok()) {
    *exit_code = Session::Fail(kExitUnreachable, connection.error().message);
    return std::nullopt;
  }
  Session session(std::move(connection.value()), json);
  if (!options.password.empty()) {
    // "AUTH default <password>" rather than "AUTH <password>": a tallyd without
    // a password accepts it too (the default user takes any password).
    std::optional<Reply> auth =
        session.Call({"AUTH", options.user.empty() ? "default" : options.user, options.password});
    if (!auth) {
      *exit_code = session.failure() == kExitRefused ? kExitUnreachable : session.failure();
      return std::nullopt;
    }
  }
  return session;
}

}  // namespace tally::cli
