#pragma once
// Byte helpers for keys and values. Keys use big-endian fixed-width integers
// so that RocksDB's bytewise order is numeric order; values use little-endian
// fixed-width and LEB128 varints. See storage/FORMAT.md.

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace tally::storage::codec {

inline void PutBigEndian16(std::string& out, uint16_t v) {
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v));
}
inline void PutBigEndian64(std::string& out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift));
}
inline uint16_t GetBigEndian16(const char* p) {
  return static_cast<uint16_t>((static_cast<uint8_t>(p[0]) << 8) | static_cast<uint8_t>(p[1]));
}
inline uint64_t GetBigEndian64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}
inline void PutFixed64(std::string& out, uint64_t v) {
  char bytes[8];
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>(v >> (8 * i));
  out.append(bytes, 8);
}
inline uint64_t GetFixed64(const char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}
inline void PutVarint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}
// Reads a varint from the front of `in` and advances it; false if truncated.
inline bool GetVarint(std::string_view& in, uint64_t* v) {
  uint64_t result = 0;
  for (int shift = 0; shift <= 63 && !in.empty(); shift += 7) {
    uint8_t byte = static_cast<uint8_t>(in.front());
    in.remove_prefix(1);
    result |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) {
      *v = result;
      return true;
    }
  }
  return false;
}
inline void PutLengthPrefixed(std::string& out, std::string_view bytes) {
  PutVarint(out, bytes.size());
  out.append(bytes);
}
inline bool GetLengthPrefixed(std::string_view& in, std::string_view* bytes) {
  uint64_t length = 0;
  if (!GetVarint(in, &length) || length > in.size()) return false;
  *bytes = in.substr(0, length);
  in.remove_prefix(length);
  return true;
}
inline bool GetFixed64(std::string_view& in, uint64_t* v) {
  if (in.size() < 8) return false;
  *v = GetFixed64(in.data());
  in.remove_prefix(8);
  return true;
}

}  // namespace tally::storage::codec
