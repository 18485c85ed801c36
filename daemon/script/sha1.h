#pragma once
// SHA-1 (FIPS 180-4), for naming scripts the way Redis does: EVALSHA and
// SCRIPT LOAD use the lower-case hex SHA-1 of the script's body. Not for
// anything that needs a secure hash.

#include <string>
#include <string_view>

namespace tally::script {

// The 40 lower-case hex digits of SHA-1(`bytes`).
std::string Sha1Hex(std::string_view bytes);

}  // namespace tally::script
