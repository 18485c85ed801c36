#include "access_config.h"

#include "protocol/command_table.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace tally {
namespace {

bool ReadSecretFile(const std::string& what, const std::string& file, std::string* secret, std::string* error);

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
  if (!file.empty()) return ReadSecretFile(std::string(file_key) + " =", file, out, error);
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

// The first line of `file` (without the line end) as `secret`; false with a
// message starting with `what` ("password_file =") when it cannot be read or the line is empty.
bool ReadSecretFile(const std::string& what, const std::string& file, std::string* secret, std::string* error) {
  std::ifstream in(file);
  std::string line;
  if (!in || !std::getline(in, line)) {
    *error = what + " '" + file + "' cannot be read (it must hold the secret on its first line)";
    return false;
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line.empty()) {
    *error = what + " '" + file + "': the first line is empty";
    return false;
  }
  *secret = std::move(line);
  return true;
}

// http_named_tokens: "name:role:file, ..." into `tokens`, each checked
// (name, role, a readable file with a secret, names and secrets distinct).
bool ReadNamedTokens(const std::string& list, std::vector<NamedToken>* tokens, std::string* error) {
  constexpr std::string_view kKey = "http_named_tokens";
  for (const std::string& item : SplitList(list)) {
    const size_t first = item.find(':');
    const size_t second = first == std::string::npos ? std::string::npos : item.find(':', first + 1);
    if (second == std::string::npos || second + 1 == item.size()) {
      *error = std::string(kKey) + ": '" + item + "' is not name:role:file (e.g. alice:admin:/etc/tally/tokens/alice)";
      return false;
    }
    NamedToken token;
    token.name = item.substr(0, first);
    const std::string role = item.substr(first + 1, second - first - 1);
    const std::string file = item.substr(second + 1);
    if (!ValidTokenName(token.name)) {
      *error = std::string(kKey) + ": '" + token.name + "' is not a valid token name: use 1-64 of A-Z a-z 0-9 . _ @ -";
      return false;
    }
    if (token.name == kAdminTokenName || token.name == kReadTokenName || token.name == kLocalName) {
      *error = std::string(kKey) + ": '" + token.name + "' is the name of a built-in identity: choose another";
      return false;
    }
    if (role == "admin") {
      token.role = Identity::kAdmin;
    } else if (role == "reader") {
      token.role = Identity::kReader;
    } else {
      *error = std::string(kKey) + ": " + token.name + " has role '" + role + "': use admin or reader";
      return false;
    }
    for (const NamedToken& other : *tokens) {
      if (other.name == token.name) {
        *error = std::string(kKey) + ": the name '" + token.name + "' is given twice";
        return false;
      }
    }
    if (!ReadSecretFile(std::string(kKey) + ": " + token.name + "'s file", file, &token.secret, error)) return false;
    for (const NamedToken& other : *tokens) {
      if (other.secret == token.secret) {
        *error = std::string(kKey) + ": " + other.name + " and " + token.name +
                 " have the same secret: each token must have its own";
        return false;
      }
    }
    tokens->push_back(std::move(token));
  }
  return true;
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
                  &resolved.http_read_token, error) ||
      !ReadNamedTokens(config.http_named_tokens, &resolved.http_named_tokens, error)) {
    return false;
  }
  if (resolved.password.empty()) {
    // A read-only identity or a token without the admin secret would leave
    // the line protocol open while the operator believes it closed.
    for (const auto& [key, value] :
         {std::pair<const char*, const std::string&>{"reader_password", resolved.reader_password},
          {"http_token", resolved.http_token},
          {"http_read_token", resolved.http_read_token},
          {"http_named_tokens", resolved.http_named_tokens.empty() ? kNoFile : config.http_named_tokens}}) {
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
  for (const NamedToken& token : resolved.http_named_tokens) {
    for (const auto& [key, value] : {std::pair<const char*, const std::string&>{"password", resolved.password},
                                     {"reader_password", resolved.reader_password},
                                     {"http_token", resolved.http_token},
                                     {"http_read_token", resolved.http_read_token}}) {
      if (!value.empty() && token.secret == value) {
        *error =
            "http_named_tokens: " + token.name + "'s secret is the same as " + key + ": each token must have its own";
        return false;
      }
    }
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
