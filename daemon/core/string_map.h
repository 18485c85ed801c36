#pragma once
// Hash maps keyed by std::string that look up by std::string_view without
// building a string (transparent hashing). Debian's abseil has its own
// string_view type, so absl's default string hash does not accept
// std::string_view; this adapter does.
//
// Not StableHash: its low bits pick the shard, so within one shard they are
// all alike and would make a poor table hash.

#include <absl/container/flat_hash_map.h>
#include <absl/hash/hash.h>

#include <string>
#include <string_view>

namespace tally::core {

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const {
    return absl::Hash<absl::string_view>{}(absl::string_view(s.data(), s.size()));
  }
};

struct StringEq {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const { return a == b; }
};

template <typename Value>
using StringMap = absl::flat_hash_map<std::string, Value, StringHash, StringEq>;

}  // namespace tally::core
