#include "core/keyspace_values.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "core/hash.h"
#include "storage/codec.h"

namespace tally::core {

namespace codec = storage::codec;

std::string_view ValueTypeName(ValueType type) {
  switch (type) {
    case ValueType::kString:
      return "string";
    case ValueType::kHash:
      return "hash";
    case ValueType::kSortedSet:
      return "zset";
  }
  return "none";
}

// ---------------------------------------------------------------------------
// HashValue

size_t HashValue::FindPacked(std::string_view field, std::string_view* value) const {
  std::string_view rest = packed_;
  for (uint32_t i = 0; i < packed_count_; ++i) {
    const size_t at = packed_.size() - rest.size();
    std::string_view name, stored;
    codec::GetLengthPrefixed(rest, &name);
    codec::GetLengthPrefixed(rest, &stored);
    if (name == field) {
      if (value != nullptr) *value = stored;
      return at;
    }
  }
  return std::string::npos;
}

std::optional<std::string_view> HashValue::Find(std::string_view field) const {
  if (map_) {
    auto it = map_->find(field);
    if (it == map_->end()) return std::nullopt;
    return std::string_view(it->second);
  }
  std::string_view value;
  if (FindPacked(field, &value) == std::string::npos) return std::nullopt;
  return value;
}

void HashValue::ToMap() {
  auto map = std::make_unique<StringMap<std::string>>();
  map->reserve(packed_count_ + 1);
  ForEach([&](std::string_view field, std::string_view value) { map->emplace(field, value); });
  map_ = std::move(map);
  std::string().swap(packed_);
  packed_count_ = 0;
}

bool HashValue::Set(std::string_view field, std::string_view value) {
  if (!map_) {
    std::string_view old_value;
    const size_t at = FindPacked(field, &old_value);
    const bool fits = field.size() <= kMaxPackedBytes && value.size() <= kMaxPackedBytes;
    if (fits && (at != std::string::npos || packed_count_ < kMaxPackedFields)) {
      std::string entry;
      codec::PutLengthPrefixed(entry, field);
      codec::PutLengthPrefixed(entry, value);
      if (at == std::string::npos) {
        // Grow by an eighth, not double: the buffer is the hash's memory.
        if (packed_.capacity() < packed_.size() + entry.size()) {
          packed_.reserve(packed_.size() + entry.size() + packed_.size() / 8);
        }
        packed_.append(entry);
        ++packed_count_;
        return true;
      }
      std::string_view rest = std::string_view(packed_).substr(at);
      std::string_view name, stored;
      codec::GetLengthPrefixed(rest, &name);
      codec::GetLengthPrefixed(rest, &stored);
      const size_t old_size = packed_.size() - at - rest.size();
      packed_.replace(at, old_size, entry);
      return false;
    }
    ToMap();
  }
  auto [it, inserted] = map_->try_emplace(field);
  it->second.assign(value);
  return inserted;
}

bool HashValue::Erase(std::string_view field) {
  if (map_) {
    auto it = map_->find(field);
    if (it == map_->end()) return false;
    map_->erase(it);
    return true;
  }
  const size_t at = FindPacked(field, nullptr);
  if (at == std::string::npos) return false;
  std::string_view rest = std::string_view(packed_).substr(at);
  std::string_view name, stored;
  codec::GetLengthPrefixed(rest, &name);
  codec::GetLengthPrefixed(rest, &stored);
  packed_.erase(at, packed_.size() - at - rest.size());
  --packed_count_;
  if (packed_count_ == 0) std::string().swap(packed_);
  return true;
}

namespace {

// A name's scan position: 63 bits of its stable hash, never 0 (cursor 0
// starts an iteration).
uint64_t ScanPosition(std::string_view name) { return (StableHash(name) >> 1) | 1; }

// The scan step shared by hashes and sorted sets, as KeyspaceModule::Scan:
// of the names at positions >= cursor, the `take` smallest positions (plus
// any sharing the last one, so that a position is never split); the next
// cursor is the smallest position left, 0 when none is. At least an eighth
// of the collection per call, so a full iteration costs O(n), not O(n^2 / COUNT).
template <typename Entry, typename ForEach, typename Emit>
uint64_t ScanStep(uint64_t cursor, size_t count, size_t size, ForEach&& for_each, Emit&& emit) {
  const size_t take = std::max(std::max<size_t>(count, 1), size / 8 + 1);
  std::vector<std::pair<uint64_t, Entry>> candidates;
  for_each([&](std::string_view name, const Entry& entry) {
    const uint64_t position = ScanPosition(name);
    if (position >= cursor) candidates.emplace_back(position, entry);
  });
  uint64_t next = 0;
  if (candidates.size() > take) {
    std::nth_element(candidates.begin(), candidates.begin() + static_cast<std::ptrdiff_t>(take - 1), candidates.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    const uint64_t boundary = candidates[take - 1].first;
    auto rest = std::partition(candidates.begin() + static_cast<std::ptrdiff_t>(take), candidates.end(),
                               [boundary](const auto& c) { return c.first == boundary; });
    uint64_t smallest_left = UINT64_MAX;
    for (auto it = rest; it != candidates.end(); ++it) smallest_left = std::min(smallest_left, it->first);
    candidates.erase(rest, candidates.end());
    next = smallest_left;
  }
  for (const auto& candidate : candidates) emit(candidate.second);
  return next;
}

}  // namespace

uint64_t HashValue::Scan(uint64_t cursor, size_t count, std::vector<std::pair<std::string, std::string>>& out) const {
  if (!map_) {
    ForEach([&](std::string_view field, std::string_view value) { out.emplace_back(field, value); });
    return 0;
  }
  using View = std::pair<std::string_view, std::string_view>;
  return ScanStep<View>(
      cursor, count, map_->size(),
      [&](auto&& visit) {
        for (const auto& [field, value] : *map_) visit(field, View(field, value));
      },
      [&](const View& pair) { out.emplace_back(pair.first, pair.second); });
}

// ---------------------------------------------------------------------------
// SortedSet

std::optional<double> SortedSet::ScoreOf(std::string_view member) const {
  auto it = scores_.find(member);
  if (it == scores_.end()) return std::nullopt;
  return it->second;
}

bool SortedSet::Set(std::string_view member, double score) {
  if (listpack_like_ && (member.size() > 64 || (size() >= 128 && !scores_.contains(member)))) listpack_like_ = false;
  if (listpack_like_ && score == 0) score = 0.0;  // -0 as Redis's listpack reads it back
  auto it = scores_.find(member);
  bool created = true;
  Item item{score, std::string(member)};
  if (it != scores_.end()) {
    if (it->second == score) return false;  // as Redis: 0 and -0 are the same score
    // The map's key views the old node's bytes: drop it before the node.
    const double old_score = it->second;
    scores_.erase(it);
    tree_.erase(Item{old_score, item.member});
    created = false;
  }
  auto [node, inserted] = tree_.insert(std::move(item));
  scores_.emplace(std::string_view(node->member), score);
  return created;
}

bool SortedSet::Erase(std::string_view member) {
  auto it = scores_.find(member);
  if (it == scores_.end()) return false;
  Item item{it->second, std::string(member)};
  scores_.erase(it);
  tree_.erase(item);
  return true;
}

std::optional<size_t> SortedSet::RankOf(std::string_view member) const {
  auto it = scores_.find(member);
  if (it == scores_.end()) return std::nullopt;
  return tree_.order_of_key(Item{it->second, std::string(member)});
}

size_t SortedSet::FirstRankFrom(double min, bool exclusive) const {
  // score > min is score >= the next double up (+inf excluded: nothing is above it).
  if (exclusive) {
    if (min == HUGE_VAL) return size();
    min = std::nextafter(min, HUGE_VAL);
  }
  return tree_.order_of_key(Item{min, std::string()});
}

size_t SortedSet::EndRankTo(double max, bool exclusive) const {
  // The first item past the range: score >= max if exclusive, else score > max.
  if (!exclusive) {
    if (max == HUGE_VAL) return size();
    max = std::nextafter(max, HUGE_VAL);
  }
  return tree_.order_of_key(Item{max, std::string()});
}

uint64_t SortedSet::Scan(uint64_t cursor, size_t count, std::vector<std::pair<std::string, double>>& out) const {
  if (size() <= HashValue::kMaxPackedFields && cursor == 0) {
    // Small sets in one call, as Redis replies for its listpack form.
    for (const Item& item : tree_) out.emplace_back(item.member, item.score);
    return 0;
  }
  using View = std::pair<std::string_view, double>;
  return ScanStep<View>(
      cursor, count, size(),
      [&](auto&& visit) {
        for (const auto& [member, score] : scores_) visit(member, View(member, score));
      },
      [&](const View& pair) { out.emplace_back(pair.first, pair.second); });
}

// ---------------------------------------------------------------------------
// Log payloads

std::string EncodeHashSet(std::string_view key, int64_t expire_at_ms,
                          std::span<const std::pair<std::string_view, std::string_view>> pairs) {
  std::string out;
  codec::PutLengthPrefixed(out, key);
  codec::PutFixed64(out, static_cast<uint64_t>(expire_at_ms));
  for (const auto& [field, value] : pairs) {
    codec::PutLengthPrefixed(out, field);
    codec::PutLengthPrefixed(out, value);
  }
  return out;
}

std::string EncodeZsetSet(std::string_view key, int64_t expire_at_ms,
                          std::span<const std::pair<std::string_view, double>> pairs) {
  std::string out;
  codec::PutLengthPrefixed(out, key);
  codec::PutFixed64(out, static_cast<uint64_t>(expire_at_ms));
  for (const auto& [member, score] : pairs) {
    codec::PutLengthPrefixed(out, member);
    uint64_t bits = 0;
    std::memcpy(&bits, &score, sizeof(bits));
    codec::PutFixed64(out, bits);
  }
  return out;
}

std::string EncodeRemoval(std::string_view key, std::span<const std::string_view> names) {
  std::string out;
  codec::PutLengthPrefixed(out, key);
  for (std::string_view name : names) codec::PutLengthPrefixed(out, name);
  return out;
}

std::string EncodeExpire(std::string_view key, int64_t expire_at_ms) {
  std::string out;
  codec::PutLengthPrefixed(out, key);
  codec::PutFixed64(out, static_cast<uint64_t>(expire_at_ms));
  return out;
}

CollectionPayload::CollectionPayload(std::string_view payload, bool with_expiry) : rest_(payload) {
  if (!codec::GetLengthPrefixed(rest_, &key_)) return;
  if (with_expiry) {
    uint64_t expiry = 0;
    if (!codec::GetFixed64(rest_, &expiry)) return;
    expire_at_ms_ = static_cast<int64_t>(expiry);
  }
  ok_ = true;
}

bool CollectionPayload::NextName(std::string_view* name) { return codec::GetLengthPrefixed(rest_, name); }

bool CollectionPayload::NextPair(std::string_view* name, std::string_view* value) {
  return codec::GetLengthPrefixed(rest_, name) && codec::GetLengthPrefixed(rest_, value);
}

bool CollectionPayload::NextScored(std::string_view* name, double* score) {
  uint64_t bits = 0;
  if (!codec::GetLengthPrefixed(rest_, name) || !codec::GetFixed64(rest_, &bits)) return false;
  std::memcpy(score, &bits, sizeof(bits));
  return !std::isnan(*score);
}

// ---------------------------------------------------------------------------
// kv rows

bool IsTypedRow(std::string_view encoded) {
  return encoded.size() >= kTypedRowMarker.size() + 1 && encoded.starts_with(kTypedRowMarker);
}

namespace {
std::string RowHeader(ValueType type, int64_t expire_at_ms, size_t count) {
  std::string out(kTypedRowMarker);
  out.push_back(static_cast<char>(type));
  codec::PutFixed64(out, static_cast<uint64_t>(expire_at_ms));
  codec::PutVarint(out, count);
  return out;
}
}  // namespace

std::string EncodeHashRow(int64_t expire_at_ms, const HashValue& hash) {
  std::string out = RowHeader(ValueType::kHash, expire_at_ms, hash.size());
  hash.ForEach([&](std::string_view field, std::string_view value) {
    codec::PutLengthPrefixed(out, field);
    codec::PutLengthPrefixed(out, value);
  });
  return out;
}

std::string EncodeZsetRow(int64_t expire_at_ms, const SortedSet& zset) {
  std::string out = RowHeader(ValueType::kSortedSet, expire_at_ms, zset.size());
  for (auto it = zset.begin(); it != zset.end(); ++it) {
    codec::PutLengthPrefixed(out, it->member);
    uint64_t bits = 0;
    std::memcpy(&bits, &it->score, sizeof(bits));
    codec::PutFixed64(out, bits);
  }
  return out;
}

bool DecodeTypedRow(std::string_view encoded, ValueType* type, int64_t* expire_at_ms, std::unique_ptr<HashValue>* hash,
                    std::unique_ptr<SortedSet>* zset) {
  if (!IsTypedRow(encoded)) return false;
  std::string_view rest = encoded.substr(kTypedRowMarker.size());
  const auto type_byte = static_cast<uint8_t>(rest[0]);
  rest.remove_prefix(1);
  uint64_t expiry = 0, count = 0;
  if (!codec::GetFixed64(rest, &expiry) || !codec::GetVarint(rest, &count)) return false;
  *expire_at_ms = static_cast<int64_t>(expiry);
  if (type_byte == static_cast<uint8_t>(ValueType::kHash)) {
    *type = ValueType::kHash;
    auto value = std::make_unique<HashValue>();
    for (uint64_t i = 0; i < count; ++i) {
      std::string_view field, stored;
      if (!codec::GetLengthPrefixed(rest, &field) || !codec::GetLengthPrefixed(rest, &stored)) return false;
      value->Set(field, stored);
    }
    *hash = std::move(value);
    return rest.empty();
  }
  if (type_byte == static_cast<uint8_t>(ValueType::kSortedSet)) {
    *type = ValueType::kSortedSet;
    auto value = std::make_unique<SortedSet>();
    for (uint64_t i = 0; i < count; ++i) {
      std::string_view member;
      uint64_t bits = 0;
      if (!codec::GetLengthPrefixed(rest, &member) || !codec::GetFixed64(rest, &bits)) return false;
      double score = 0;
      std::memcpy(&score, &bits, sizeof(bits));
      if (std::isnan(score)) return false;
      value->Set(member, score);
    }
    *zset = std::move(value);
    return rest.empty();
  }
  return false;
}

// ---------------------------------------------------------------------------
// Numbers

bool ParseScore(std::string_view text, double* out) {
  if (text.empty() || std::isspace(static_cast<unsigned char>(text[0]))) return false;
  const std::string buffer(text);
  char* end = nullptr;
  errno = 0;
  const double value = std::strtod(buffer.c_str(), &end);
  if (static_cast<size_t>(end - buffer.c_str()) != buffer.size()) return false;
  if (errno == ERANGE && (value == HUGE_VAL || value == -HUGE_VAL || std::fpclassify(value) == FP_ZERO)) return false;
  if (std::isnan(value)) return false;
  *out = value;
  return true;
}

bool ParseLongDouble(std::string_view text, long double* out) {
  constexpr size_t kMaxLongDoubleChars = 5 * 1024;  // Redis's MAX_LONG_DOUBLE_CHARS
  if (text.empty() || text.size() >= kMaxLongDoubleChars) return false;
  const std::string buffer(text);
  char* end = nullptr;
  errno = 0;
  const long double value = std::strtold(buffer.c_str(), &end);
  if (std::isspace(static_cast<unsigned char>(buffer[0])) || *end != '\0') return false;
  if ((errno == ERANGE || errno == EINVAL) &&
      (value == HUGE_VALL || value == -HUGE_VALL || std::fpclassify(value) == FP_ZERO)) {
    return false;
  }
  if (std::isnan(value)) return false;
  *out = value;
  return true;
}

std::string FormatLongDouble(long double value) {
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  char buffer[5 * 1024];
  int length = std::snprintf(buffer, sizeof(buffer), "%.17Lf", value);
  if (length <= 0 || static_cast<size_t>(length) >= sizeof(buffer)) return "0";
  if (std::memchr(buffer, '.', static_cast<size_t>(length)) != nullptr) {
    while (buffer[length - 1] == '0') --length;
    if (buffer[length - 1] == '.') --length;
  }
  if (length == 2 && buffer[0] == '-' && buffer[1] == '0') return "0";
  return std::string(buffer, static_cast<size_t>(length));
}

bool ParseScoreBound(std::string_view text, double* value, bool* exclusive) {
  // strtod on the argument's C string, as Redis: it stops at a NUL byte, and
  // an empty rest parses as 0.
  const std::string buffer(text);
  const char* start = buffer.c_str();
  *exclusive = !buffer.empty() && buffer[0] == '(';
  if (*exclusive) ++start;
  char* end = nullptr;
  *value = std::strtod(start, &end);
  return *end == '\0' && !std::isnan(*value);
}

}  // namespace tally::core
