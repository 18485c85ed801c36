#pragma once
// Byte helpers for the quota module's state blobs and log entries
// (storage/FORMAT.md, "quotas"): signed integers as zigzag varints, strings
// length-prefixed. A Reader stops at the first malformed field and stays
// failed, so a decoder checks ok() once at the end.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "storage/codec.h"

namespace tally::core::quota_codec {

inline void PutI64(std::string& out, int64_t v) {
  storage::codec::PutVarint(out, (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63));
}
inline void PutStr(std::string& out, std::string_view s) { storage::codec::PutLengthPrefixed(out, s); }
inline void PutOptI64(std::string& out, const std::optional<int64_t>& v) {
  out.push_back(v ? 1 : 0);
  if (v) PutI64(out, *v);
}

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  int64_t I64() {
    uint64_t raw = 0;
    if (!ok_ || !storage::codec::GetVarint(in_, &raw)) return Fail();
    return static_cast<int64_t>(raw >> 1) ^ -static_cast<int64_t>(raw & 1);
  }
  std::string_view Str() {
    std::string_view s;
    if (!ok_ || !storage::codec::GetLengthPrefixed(in_, &s)) {
      ok_ = false;
      return {};
    }
    return s;
  }
  uint8_t Byte() {
    if (!ok_ || in_.empty()) return static_cast<uint8_t>(Fail());
    const uint8_t b = static_cast<uint8_t>(in_.front());
    in_.remove_prefix(1);
    return b;
  }
  std::optional<int64_t> OptI64() {
    if (Byte() == 0) return std::nullopt;
    return I64();
  }
  // A count of items that each take at least one byte (guards allocations).
  size_t Count() {
    const int64_t n = I64();
    if (n < 0 || static_cast<uint64_t>(n) > in_.size()) return static_cast<size_t>(Fail());
    return static_cast<size_t>(n);
  }
  bool ok() const { return ok_; }
  bool done() const { return ok_ && in_.empty(); }
  std::string_view rest() const { return in_; }

 private:
  int64_t Fail() {
    ok_ = false;
    return 0;
  }
  std::string_view in_;
  bool ok_ = true;
};

}  // namespace tally::core::quota_codec
