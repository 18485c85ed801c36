#pragma once
// The value types a plain key can hold besides a string: a hash (field ->
// value) and a sorted set (member -> score, ordered by score then member),
// their log payloads and their compacted kv rows (storage/FORMAT.md, "kv"),
// and Redis's number formats shared by their commands.
//
// Not thread-safe: a value lives in a KeyspaceModule entry and is only
// touched under its key's shard lock.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <ext/pb_ds/assoc_container.hpp>
#include <ext/pb_ds/tree_policy.hpp>

#include "core/string_map.h"

namespace tally::core {

enum class ValueType : uint8_t { kString = 0, kHash = 1, kSortedSet = 2 };

// What a key holding a hash or a sorted set owns (one pointer per key entry).
class CollectionValue {
 public:
  virtual ~CollectionValue() = default;
};

// TYPE's name of a value type ("string", "hash", "zset").
std::string_view ValueTypeName(ValueType type);
// ASCII case-insensitive equality (SCAN's TYPE name).
inline bool EqualsIgnoringCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// A hash. Up to kMaxPackedFields fields of at most kMaxPackedBytes each it
// is one packed buffer (varint length, field, varint length, value, ...), as
// Redis's listpack: ~2 bytes of overhead per field, lookups by a linear
// walk. Past either limit it becomes a hash map, for good.
class HashValue final : public CollectionValue {
 public:
  static constexpr size_t kMaxPackedFields = 128;
  static constexpr size_t kMaxPackedBytes = 64;

  size_t size() const { return map_ ? map_->size() : packed_count_; }
  bool empty() const { return size() == 0; }
  std::optional<std::string_view> Find(std::string_view field) const;
  // Sets the field; true if it is new.
  bool Set(std::string_view field, std::string_view value);
  // False if there was no such field.
  bool Erase(std::string_view field);
  // fn(std::string_view field, std::string_view value) for every field, in
  // no particular order (stable while the hash does not change).
  template <typename Fn>
  void ForEach(Fn&& fn) const;

  // HSCAN: the fields from `cursor` on, at least `count` of them (or all);
  // returns the next cursor (0: done). A field present for the whole
  // iteration is returned exactly once: the large form walks the fields in
  // the order of a hash of their name, as the keyspace's SCAN does; the
  // packed form returns everything in one call, as Redis does.
  uint64_t Scan(uint64_t cursor, size_t count, std::vector<std::pair<std::string, std::string>>& out) const;

 private:
  // The field's offset in packed_ (its length varint), or npos.
  size_t FindPacked(std::string_view field, std::string_view* value) const;
  void ToMap();

  std::string packed_;
  uint32_t packed_count_ = 0;
  std::unique_ptr<StringMap<std::string>> map_;  // set: the large form (packed_ is empty)
};

// A sorted set: an order-statistics tree of (score, member) for ranks and
// ranges in O(log n + k), and a hash map member -> score (the members'
// bytes live once, in the tree's nodes; the map's keys view them).
class SortedSet final : public CollectionValue {
 public:
  struct Item {
    double score;
    std::string member;
  };
  struct ItemLess {
    bool operator()(const Item& a, const Item& b) const {
      if (a.score != b.score) return a.score < b.score;
      return a.member < b.member;
    }
  };
  using Tree = __gnu_pbds::tree<Item, __gnu_pbds::null_type, ItemLess, __gnu_pbds::rb_tree_tag,
                                __gnu_pbds::tree_order_statistics_node_update>;
  using Iterator = Tree::const_iterator;

  SortedSet() = default;
  SortedSet(const SortedSet&) = delete;
  SortedSet& operator=(const SortedSet&) = delete;

  size_t size() const { return scores_.size(); }
  bool empty() const { return scores_.empty(); }
  std::optional<double> ScoreOf(std::string_view member) const;
  // Sets the member's score; true if the member is new.
  bool Set(std::string_view member, double score);
  bool Erase(std::string_view member);
  // The member's 0-based rank in score order; nullopt if absent. O(log n).
  std::optional<size_t> RankOf(std::string_view member) const;
  // The item at 0-based `rank` (< size()). O(log n).
  Iterator AtRank(size_t rank) const { return tree_.find_by_order(rank); }
  Iterator begin() const { return tree_.begin(); }
  Iterator end() const { return tree_.end(); }
  // Ranks of the first item with a score >= min (> min if exclusive), and
  // of the first with a score > max (>= max if exclusive): the score range
  // is [first, last). O(log n).
  size_t FirstRankFrom(double min, bool exclusive) const;
  size_t EndRankTo(double max, bool exclusive) const;
  // ZSCAN, as HashValue::Scan.
  uint64_t Scan(uint64_t cursor, size_t count, std::vector<std::pair<std::string, double>>& out) const;

 private:
  Tree tree_;
  // Whether Redis would still hold this set as a listpack (at most 128
  // members of at most 64 bytes, never more since): there a score of -0 is
  // stored as text and reads back as 0, while its skiplist keeps -0. Only
  // ZSCORE's "0" or "-0" depends on it.
  bool listpack_like_ = true;
  // Member -> score; the key views the member's bytes in its tree node
  // (tree nodes never move).
  absl::flat_hash_map<std::string_view, double, StringHash, StringEq> scores_;
};

// ---- log payloads (storage/FORMAT.md, "log") --------------------------
// kPlainHashSet:  key, expiry (fixed64), then (field, value) pairs, length-prefixed.
// kPlainZsetSet:  key, expiry (fixed64), then (member, score bits fixed64) pairs.
// kPlainHashDel / kPlainZsetRem: key, then the fields/members, length-prefixed.
// kPlainExpire:   key, expiry (fixed64). kPlainFlush: empty.
std::string EncodeHashSet(std::string_view key, int64_t expire_at_ms,
                          std::span<const std::pair<std::string_view, std::string_view>> pairs);
std::string EncodeZsetSet(std::string_view key, int64_t expire_at_ms,
                          std::span<const std::pair<std::string_view, double>> pairs);
std::string EncodeRemoval(std::string_view key, std::span<const std::string_view> names);
std::string EncodeExpire(std::string_view key, int64_t expire_at_ms);

// The reader of those payloads: the key, then (with_expiry) the expiry,
// then items one at a time.
class CollectionPayload {
 public:
  CollectionPayload(std::string_view payload, bool with_expiry);
  bool ok() const { return ok_; }
  std::string_view key() const { return key_; }
  int64_t expire_at_ms() const { return expire_at_ms_; }
  bool done() const { return rest_.empty(); }
  bool NextName(std::string_view* name);
  bool NextPair(std::string_view* name, std::string_view* value);
  bool NextScored(std::string_view* name, double* score);

 private:
  std::string_view rest_;
  std::string_view key_;
  int64_t expire_at_ms_ = 0;
  bool ok_ = false;
};

// ---- compacted kv rows ------------------------------------------------
// A string's row is expiry (i64 LE) + value (unchanged). A hash's or sorted
// set's row starts with kTypedRowMarker (8 bytes 0xFF: no expiry is ever
// negative), then the type byte, the expiry (fixed64 LE), a varint count,
// then count (field, value) length-prefixed pairs, or count (member,
// score bits fixed64 LE) pairs.
inline constexpr std::string_view kTypedRowMarker = "\xff\xff\xff\xff\xff\xff\xff\xff";
bool IsTypedRow(std::string_view encoded);
std::string EncodeHashRow(int64_t expire_at_ms, const HashValue& hash);
std::string EncodeZsetRow(int64_t expire_at_ms, const SortedSet& zset);
// Decodes a typed row into *hash or *zset (whichever its type byte says).
bool DecodeTypedRow(std::string_view encoded, ValueType* type, int64_t* expire_at_ms, std::unique_ptr<HashValue>* hash,
                    std::unique_ptr<SortedSet>* zset);

// ---- Redis's number formats -------------------------------------------
// A double argument as Redis's getDoubleFromObject reads it (strtod: no
// leading space, nothing after, no NaN, no overflow to +-HUGE_VAL or
// underflow to 0 by ERANGE). "inf" and "-inf" are valid.
bool ParseScore(std::string_view text, double* out);
// A long double as Redis's string2ld reads it (INCRBYFLOAT, HINCRBYFLOAT).
bool ParseLongDouble(std::string_view text, long double* out);
// A long double as Redis's ld2string(LD_STR_HUMAN) writes it: "%.17Lf"
// without trailing zeros (and "-0" as "0").
std::string FormatLongDouble(long double value);
// A range bound as Redis's zslParseRange reads it: "(" makes it exclusive,
// then strtod up to the end (NaN refused).
bool ParseScoreBound(std::string_view text, double* value, bool* exclusive);

// ---- inline ---------------------------------------------------------------

template <typename Fn>
void HashValue::ForEach(Fn&& fn) const {
  if (map_) {
    for (const auto& [field, value] : *map_) fn(std::string_view(field), std::string_view(value));
    return;
  }
  std::string_view rest = packed_;
  for (uint32_t i = 0; i < packed_count_; ++i) {
    std::string_view field, value;
    auto take = [&rest](std::string_view* out) {
      uint64_t length = 0;
      size_t shift = 0, at = 0;
      for (;; ++at, shift += 7) {
        const auto byte = static_cast<uint8_t>(rest[at]);
        length |= uint64_t{byte & 0x7fu} << shift;
        if ((byte & 0x80) == 0) break;
      }
      *out = rest.substr(at + 1, length);
      rest.remove_prefix(at + 1 + length);
    };
    take(&field);
    take(&value);
    fn(field, value);
  }
}

}  // namespace tally::core
