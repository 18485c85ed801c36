#pragma once
// The access-control settings turned into the daemon's AccessControl
// (commands/access.h): each secret from its setting, its file or the
// environment, checked for consistency; and the listeners a configuration
// exposes beyond loopback, which tallyd refuses to open without a secret
// unless allow_public_without_auth = "yes".

#include <string>
#include <string_view>
#include <vector>

#include "commands/access.h"
#include "config.h"

namespace tally {

// False with a message naming the setting on a bad combination or an
// unreadable file (tallyd exits 2). Precedence per secret: the setting, then
// its file, then the environment (TALLY_PASSWORD, TALLY_READER_PASSWORD,
// TALLY_HTTP_TOKEN, TALLY_HTTP_READ_TOKEN).
bool ResolveAccess(const Config& config, AccessControl* access, std::string* error);

// 127.0.0.0/8, ::1, localhost.
bool IsLoopbackHost(std::string_view host);

// The listeners open beyond loopback: "0.0.0.0:6380 (line protocol)", ...
std::vector<std::string> PublicListeners(const Config& config);

}  // namespace tally
