#pragma once
// Redis's glob matching (stringmatchlen) for SCAN MATCH and friends:
// * ? [abc] [^a-z] and backslash escapes.

#include <string_view>

namespace tally::core {

bool GlobMatch(std::string_view pattern, std::string_view text);

}  // namespace tally::core
