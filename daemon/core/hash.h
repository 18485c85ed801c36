#pragma once
// MurmurHash64A (Austin Appleby, public domain), and StableHash, the one for
// choosing shards. StableHash must never change between versions or runs: a
// key's shard decides which log stream orders its changes, and SCAN cursors
// encode positions in hash order. The distinct-count sketch uses the same
// function with Redis's seed (core/distinct_sketch.h). 8-byte blocks are read
// in host order: little-endian on every platform tally builds for.

#include <cstdint>
#include <cstring>
#include <string_view>

namespace tally::core {

inline uint64_t MurmurHash64A(std::string_view data, uint64_t seed) {
  constexpr uint64_t m = 0xc6a4a7935bd1e995ULL;
  constexpr int r = 47;
  uint64_t h = seed ^ (data.size() * m);
  const char* p = data.data();
  size_t n = data.size();
  while (n >= 8) {
    uint64_t k;
    std::memcpy(&k, p, 8);
    k *= m;
    k ^= k >> r;
    k *= m;
    h ^= k;
    h *= m;
    p += 8;
    n -= 8;
  }
  switch (n) {
    case 7:
      h ^= uint64_t(static_cast<uint8_t>(p[6])) << 48;
      [[fallthrough]];
    case 6:
      h ^= uint64_t(static_cast<uint8_t>(p[5])) << 40;
      [[fallthrough]];
    case 5:
      h ^= uint64_t(static_cast<uint8_t>(p[4])) << 32;
      [[fallthrough]];
    case 4:
      h ^= uint64_t(static_cast<uint8_t>(p[3])) << 24;
      [[fallthrough]];
    case 3:
      h ^= uint64_t(static_cast<uint8_t>(p[2])) << 16;
      [[fallthrough]];
    case 2:
      h ^= uint64_t(static_cast<uint8_t>(p[1])) << 8;
      [[fallthrough]];
    case 1:
      h ^= uint64_t(static_cast<uint8_t>(p[0]));
      h *= m;
  }
  h ^= h >> r;
  h *= m;
  h ^= h >> r;
  return h;
}

inline uint64_t StableHash(std::string_view data) { return MurmurHash64A(data, 0x9747b28c1234abcdULL); }

}  // namespace tally::core
