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
// Over HTTP a request also has a name, which the audit trail records as the
// actor of its changes (HttpIdentity): a named token's own name
// (http_named_tokens), "admin-token" or "read-token" for the shared tokens,
// "local" when no secret is configured. The client cannot choose it.
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

// A named HTTP token (http_named_tokens): its holder's name and role.
struct NamedToken {
  std::string name;    // [A-Za-z0-9._@-]{1,64}: the audit trail's actor for its requests
  Identity role;       // kAdmin or kReader
  std::string secret;  // from its file; never logged
};

// The names of the shared tokens' and the unauthenticated identities
// (named tokens cannot take them).
inline constexpr std::string_view kAdminTokenName = "admin-token";
inline constexpr std::string_view kReadTokenName = "read-token";
inline constexpr std::string_view kLocalName = "local";

// Who an HTTP request is: what it may do, and the name the audit trail
// records for its changes ("" while role is kNone).
struct HttpIdentity {
  Identity role = Identity::kNone;
  std::string name;
};

// Named tokens' names: 1-64 of A-Z a-z 0-9 . _ @ - (no space, so the actor's
// first word is always the identity).
bool ValidTokenName(std::string_view name);

struct AccessControl {
  std::string password;         // the `default` user's; empty: no authentication at all
  std::string reader_password;  // the `reader` user's; empty: no reader user
  std::string http_token;       // the HTTP admin Bearer token; empty: `password`
  std::string http_read_token;  // the HTTP read-only Bearer token; empty: `reader_password`
  // Bearer tokens of their own, each with a name and a role; their secrets
  // differ from each other and from the shared ones (ResolveAccess checks).
  std::vector<NamedToken> http_named_tokens;
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
  // Authorization: Bearer <token>: kNone when it is no token at all.
  Identity ForBearer(std::string_view token) const { return IdentifyBearer(token).role; }
  // The same with the name: a named token's, "admin-token", "read-token";
  // "local" (admin) while no secret is configured. Every configured secret
  // is compared, in constant time each, whichever matches.
  HttpIdentity IdentifyBearer(std::string_view token) const;
  // A request without a token: "local" (admin) while no secret is
  // configured, else kNone.
  HttpIdentity Unauthenticated() const;
};

// Constant-time equality of a given secret and a configured one (an empty
// configured secret never matches).
bool SecretMatches(std::string_view given, std::string_view configured);

}  // namespace tally
