#pragma once
// Access control (docs/operations.md, "Access control"): who a RESP
// connection or an HTTP request is, decided by the secrets configured.
//
// Two identities, as two Redis ACL users: `default` reads and writes,
// `reader` only reads (a command flagged kWrite answers NOPERM). With no
// password configured every client is `default`, as with Redis's nopass
// default user; with one, a RESP connection starts unauthenticated (every
// command but AUTH, HELLO, QUIT and RESET answers NOAUTH) and an HTTP request
// without a valid Bearer token is refused with 401 (except /health and
// /ready). The admin password is also the HTTP admin token unless
// http_token is set, so configuring one secret closes both listeners.
//
// Secrets are compared in constant time (no early exit on the first
// differing byte) and never logged or shown.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tally {

enum class Identity : uint8_t {
  kNone,    // a password is configured and the client has not given it yet
  kReader,  // the `reader` user or the read token: reads only
  kAdmin,   // the `default` user or the admin token: everything
};

// The user name Redis's ACL would show ("default", "reader"; "" for none).
std::string_view IdentityName(Identity identity);

struct AccessControl {
  std::string password;         // the `default` user's; empty: no authentication at all
  std::string reader_password;  // the `reader` user's; empty: no reader user
  std::string http_token;       // the HTTP admin Bearer token; empty: `password`
  std::string http_read_token;  // the HTTP read-only Bearer token; empty: `reader_password`
  // Browser guards (docs/http.md, "Browsers"): host names besides localhost
  // and IP addresses that requests may name in Host (lower case), and the
  // origins ("https://admin.example.com") whose pages may call the API
  // (besides the server's own), which get CORS headers.
  std::vector<std::string> http_allowed_hosts;
  std::vector<std::string> http_allowed_origins;

  bool enabled() const { return !password.empty(); }
  // What a new RESP connection or an HTTP request without a token is.
  Identity initial() const { return enabled() ? Identity::kNone : Identity::kAdmin; }
  // AUTH [user] password: kNone when the pair is wrong. `user` empty or
  // "default": the admin password; "reader": the reader password.
  Identity ForPassword(std::string_view user, std::string_view password) const;
  // Authorization: Bearer <token>: kNone when it is neither token.
  Identity ForBearer(std::string_view token) const;
};

// Constant-time equality of a given secret and a configured one (an empty
// configured secret never matches).
bool SecretMatches(std::string_view given, std::string_view configured);

}  // namespace tally
