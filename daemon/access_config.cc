#include "access_config.h"

#include "protocol/command_table.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace tally {
namespace {

// A secret from its setting, its file (the first line, without the line
// end) or the environment, in that order. False with a message on a file
// that cannot be read or is empty, or on both the setting and the file.
bool ReadSecret(std::string_view key, const std::string& value, std::string_view file_key, const std::string& file,
                const char* env, std::string* out, std::string* error) {
  if (!value.empty() && !file.empty()) {
    *error = "set one of " + std::string(key) + " and " + std::string(file_key) + ", not both";
    return false;
  }
  if (!value.empty()) {
    *out = value;
    return true;
  }
  if (!file.empty()) {
    std::ifstream in(file);
    std::string line;
    if (!in || !std::getline(in, line)) {
      *error = std::string(file_key) + " = '" + file + "' cannot be read (it must hold the secret on its first line)";
      return false;
    }
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) {
      *error = std::string(file_key) + " = '" + file + "': the first line is empty";
      return false;
    }
    *out = line;
    return true;
  }
  const char* from_env = env ? std::getenv(env) : nullptr;
  out->assign(from_env ? from_env : "");
  return true;
}

// "a, b,,c" -> {"a", "b", "c"}.
std::vector<std::string> SplitList(const std::string& list) {
  std::vector<std::string> items;
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    if (comma == std::string::npos) comma = list.size();
    std::string item = list.substr(start, comma - start);
    const size_t first = item.find_first_not_of(" \t");
    const size_t last = item.find_last_not_of(" \t");
    if (first != std::string::npos) items.push_back(item.substr(first, last - first + 1));
    start = comma + 1;
  }
  return items;
}

}  // namespace

bool ResolveAccess(const Config& config, AccessControl* access, std::string* error) {
  AccessControl resolved;
  static const std::string kNoFile;
  if (!ReadSecret("password", config.password, "password_file", config.password_file, "TALLY_PASSWORD",
                  &resolved.password, error) ||
      !ReadSecret("reader_password", config.reader_password, "reader_password_file", config.reader_password_file,
                  "TALLY_READER_PASSWORD", &resolved.reader_password, error) ||
      !ReadSecret("http_token", config.http_token, "", kNoFile, "TALLY_HTTP_TOKEN", &resolved.http_token, error) ||
      !ReadSecret("http_read_token", config.http_read_token, "", kNoFile, "TALLY_HTTP_READ_TOKEN",
                  &resolved.http_read_token, error)) {
    return false;
  }
  if (resolved.password.empty()) {
    // A read-only identity or a token without the admin secret would leave
    // the line protocol open while the operator believes it closed.
    for (const auto& [key, value] :
         {std::pair<const char*, const std::string&>{"reader_password", resolved.reader_password},
          {"http_token", resolved.http_token},
          {"http_read_token", resolved.http_read_token}}) {
      if (!value.empty()) {
        *error = std::string(key) +
                 " is set but password is not: set password (or password_file, TALLY_PASSWORD) "
                 "so that both listeners require it";
        return false;
      }
    }
  }
  const std::string& reader_token =
      resolved.http_read_token.empty() ? resolved.reader_password : resolved.http_read_token;
  const std::string& admin_token = resolved.http_token.empty() ? resolved.password : resolved.http_token;
  if (!resolved.reader_password.empty() && resolved.reader_password == resolved.password) {
    *error = "reader_password is the same as password: the reader would be let in as the read-write user";
    return false;
  }
  if (!reader_token.empty() && reader_token == admin_token) {
    *error =
        "the HTTP read token is the same as the admin token (http_read_token, reader_password, http_token, "
        "password)";
    return false;
  }
  for (const std::string& host : SplitList(config.http_allowed_hosts)) {
    if (host.find_first_of("/: ") != std::string::npos) {
      *error = "http_allowed_hosts: '" + host + "' is not a host name (no scheme, port or path)";
      return false;
    }
    resolved.http_allowed_hosts.push_back(protocol::AsciiLower(host));
  }
  for (const std::string& origin : SplitList(config.http_allowed_origins)) {
    const size_t scheme_end = origin.find("://");
    const std::string_view scheme = std::string_view(origin).substr(0, scheme_end);
    if (scheme_end == std::string::npos || (scheme != "http" && scheme != "https") ||
        origin.find('/', scheme_end + 3) != std::string::npos || origin.size() == scheme_end + 3) {
      *error = "http_allowed_origins: '" + origin + "' is not an origin like https://admin.example.com";
      return false;
    }
    resolved.http_allowed_origins.push_back(protocol::AsciiLower(origin));
  }
  *access = std::move(resolved);
  return true;
}

bool IsLoopbackHost(std::string_view host) {
  return host == "localhost" || host == "::1" || host == "[::1]" || host.rfind("127.", 0) == 0;
}

std::vector<std::string> PublicListeners(const Config& config) {
  std::vector<std::string> exposed;
  if (config.port != 0 && !IsLoopbackHost(config.bind)) {
    exposed.push_back(config.bind + ":" + std::to_string(config.port) + " (line protocol)");
  }
  if (config.http_port != 0 && !IsLoopbackHost(config.http_bind)) {
    exposed.push_back(config.http_bind + ":" + std::to_string(config.http_port) + " (HTTP)");
  }
  return exposed;
}

}  // namespace tally
