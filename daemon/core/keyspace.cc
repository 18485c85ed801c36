#include "core/keyspace.h"
#include "core/read_errors.h"

#include <algorithm>
#include <charconv>

#include "core/glob.h"
#include "protocol/resp_parser.h"
#include "storage/codec.h"
#include "storage/log_format.h"

namespace tally::core {

namespace lf = storage::log_format;
using storage::Family;
using storage::Status;

KeyspaceModule::KeyspaceModule(ShardSet& shards, storage::Store& store, const Clock& clock)
    : shard_set_(shards), store_(store), clock_(clock) {}

std::vector<lf::Op> KeyspaceModule::log_ops() const {
  return {lf::Op::kPlainPut,     lf::Op::kPlainDel,     lf::Op::kPlainSketchAdd,
          lf::Op::kPlainHashSet, lf::Op::kPlainHashDel, lf::Op::kPlainZsetSet,
          lf::Op::kPlainZsetRem, lf::Op::kPlainExpire,  lf::Op::kPlainFlush};
}

// ---------------------------------------------------------------------------
// Helpers (the shard's lock held)

KeyspaceModule::Entry* KeyspaceModule::FindLive(Shard& shard, std::string_view key, int64_t now_ms) {
  auto it = shard.keys.find(key);
  if (it == shard.keys.end()) return nullptr;
  if (it->second.expire_at_ms != 0 && it->second.expire_at_ms <= now_ms) {
    // Expired: gone. No log entry is needed, since the logged expiry time
    // already makes recovery drop it; compaction deletes it from the kv family.
    Remove(shard, key, it->second);
    return nullptr;
  }
  return &it->second;
}

void KeyspaceModule::MarkDirty(Shard& shard, std::string_view key, Entry* entry) {
  TouchWatched(shard, key);
  if (entry != nullptr && entry->dirty) return;
  if (entry != nullptr) entry->dirty = true;
  shard.dirty.emplace_back(key);
}

void KeyspaceModule::Remove(Shard& shard, std::string_view key, Entry& entry) {
  TouchWatched(shard, key);
  // A removed key must reach compaction as a delete: list it unless already listed.
  if (!entry.dirty) shard.dirty.emplace_back(key);
  if (entry.expire_at_ms != 0) --shard.keys_with_expiry;
  shard.keys.erase(shard.keys.find(key));
}

void KeyspaceModule::LogPut(const ShardRef& ref, std::string_view key, const Entry& entry) {
  if (entry.type != ValueType::kString) {
    // A hash's or sorted set's expiry alone: its fields are in their own entries.
    ref.Append(
        [&](std::string& blob) { lf::AppendEntry(blob, lf::Op::kPlainExpire, EncodeExpire(key, entry.expire_at_ms)); });
    return;
  }
  ref.Append([&](std::string& blob) { lf::AppendPlainPut(blob, key, entry.expire_at_ms, entry.value); });
}

std::optional<DistinctSketch> KeyspaceModule::SketchOf(std::string_view value) {
  if (value.size() < kSketchHeaderSize || !value.starts_with(kSketchMagic)) return std::nullopt;
  return DistinctSketch::Decode(value.substr(kSketchHeaderSize));
}

std::string KeyspaceModule::SketchValue(const DistinctSketch& sketch) {
  std::string value(kSketchMagic);
  value.append(8, '\0');  // not counted yet
  sketch.EncodeTo(value);
  return value;
}

bool KeyspaceModule::AddToSketchValue(std::string& value, std::span<const uint64_t> hashes,
                                      std::vector<uint64_t>* changed) {
  // A dense sketch (12 KiB) is raised in place: decoding, checking and
  // re-encoding it for every PFADD would cost ~100 times the adds.
  if (IsDenseSketchValue(value)) {
    auto* registers = reinterpret_cast<uint8_t*>(value.data() + kSketchHeaderSize + 1);
    bool any = false;
    for (uint64_t hash : hashes) {
      if (!DistinctSketch::RaiseEncodedDense(registers, hash)) continue;
      any = true;
      if (changed != nullptr) changed->push_back(hash);
    }
    if (any) std::fill(value.begin() + kSketchMagic.size(), value.begin() + kSketchHeaderSize, '\0');
    return true;
  }
  DistinctSketch sketch;
  if (!value.empty()) {
    std::optional<DistinctSketch> stored = SketchOf(value);
    if (!stored) return false;
    sketch = std::move(*stored);
  }
  bool any = false;
  for (uint64_t hash : hashes) {
    if (sketch.AddHash(hash)) {
      any = true;
      if (changed != nullptr) changed->push_back(hash);
    }
  }
  if (any || value.empty()) value = SketchValue(sketch);
  return true;
}

// ---------------------------------------------------------------------------
// Operations

OpResult<bool> KeyspaceModule::Set(std::string_view key, std::string_view value, const SetOptions& options,
                                   std::optional<std::string>* old_value) {
  return shard_set_.Write(key, [&](const ShardRef& ref) {
    Shard& shard = state(ref);
    Entry* entry = FindLive(shard, key, clock_.NowMs());
    // SET ... GET and GETSET read the old value: a hash has none (WRONGTYPE, as Redis).
    if (old_value != nullptr && !Holds(entry, ValueType::kString)) return OpResult<bool>::Error(OpStatus::kWrongKind);
    if (old_value != nullptr && entry != nullptr) *old_value = entry->value;
    if (options.condition == SetCondition::kIfAbsent && entry != nullptr) return OpResult<bool>::Ok(false);
    if (options.condition == SetCondition::kIfPresent && entry == nullptr) return OpResult<bool>::Ok(false);
    if (entry == nullptr) entry = &shard.keys.try_emplace(key).first->second;
    MakeString(*entry);  // SET replaces any type
    const int64_t expire_at = options.keep_ttl ? entry->expire_at_ms : options.expire_at_ms;
    if (entry->expire_at_ms != 0) --shard.keys_with_expiry;
    if (expire_at != 0) ++shard.keys_with_expiry;
    entry->value.assign(value);
    entry->expire_at_ms = expire_at;
    MarkDirty(shard, key, entry);
    LogPut(ref, key, *entry);
    return OpResult<bool>::Ok(true);
  });
}

OpResult<int64_t> KeyspaceModule::IncrBy(std::string_view key, int64_t delta) {
  return shard_set_.Write(key, [&](const ShardRef& ref) {
    Shard& shard = state(ref);
    Entry* entry = FindLive(shard, key, clock_.NowMs());
    if (!Holds(entry, ValueType::kString)) return OpResult<int64_t>::Error(OpStatus::kWrongKind);
    int64_t current = 0;
    if (entry != nullptr && !protocol::ParseInt64(entry->value, &current)) {
      return OpResult<int64_t>::Error(OpStatus::kNotInteger);
    }
    int64_t next = 0;
    if (__builtin_add_overflow(current, delta, &next)) return OpResult<int64_t>::Error(OpStatus::kOverflow);
    if (entry == nullptr) entry = &shard.keys.try_emplace(key).first->second;
    char digits[24];
    auto [end, ec] = std::to_chars(digits, digits + sizeof(digits), next);
    entry->value.assign(digits, end);
    MarkDirty(shard, key, entry);
    LogPut(ref, key, *entry);
    return OpResult<int64_t>::Ok(next);
  });
}

OpResult<int64_t> KeyspaceModule::Append(std::string_view key, std::string_view suffix) {
  return shard_set_.Write(key, [&](const ShardRef& ref) {
    Shard& shard = state(ref);
    Entry* entry = FindLive(shard, key, clock_.NowMs());
    if (!Holds(entry, ValueType::kString)) return OpResult<int64_t>::Error(OpStatus::kWrongKind);
    if (entry == nullptr) entry = &shard.keys.try_emplace(key).first->second;
    entry->value.append(suffix);
    MarkDirty(shard, key, entry);
    LogPut(ref, key, *entry);
    return OpResult<int64_t>::Ok(static_cast<int64_t>(entry->value.size()));
  });
}

OpResult<bool> KeyspaceModule::Delete(std::string_view key, std::optional<std::string>* old_value) {
  return shard_set_.Write(key, [&](const ShardRef& ref) {
    Shard& shard = state(ref);
    Entry* entry = FindLive(shard, key, clock_.NowMs());
    if (entry == nullptr) return OpResult<bool>::Ok(false);
    if (old_value != nullptr && entry->type != ValueType::kString) return OpResult<bool>::Error(OpStatus::kWrongKind);
    if (old_value != nullptr) *old_value = std::move(entry->value);
    Remove(shard, key, *entry);
    ref.Append([&](std::string& blob) { lf::AppendPlainDel(blob, key); });
    return OpResult<bool>::Ok(true);
  });
}

OpResult<bool> KeyspaceModule::SketchAdd(std::string_view key, std::span<const std::string_view> members) {
  std::vector<uint64_t> hashes;
  hashes.reserve(members.size());
  for (std::string_view member : members) hashes.push_back(DistinctSketch::HashMember(member));
  return shard_set_.Write(key, [&](const ShardRef& ref) {
    Shard& shard = state(ref);
    Entry* entry = FindLive(shard, key, clock_.NowMs());
    // Only the hashes that changed the sketch are logged: replay starts from
    // the same sketch, so the others would change nothing there either.
    std::vector<uint64_t> changed;
    if (!Holds(entry, ValueType::kString)) return OpResult<bool>::Error(OpStatus::kWrongKind);
    if (entry != nullptr) {
      // (An empty string is a string: "" means "no sketch yet" only for a new key.)
      if (entry->value.empty() || !AddToSketchValue(entry->value, hashes, &changed)) {
        return OpResult<bool>::Error(OpStatus::kWrongType);
      }
      if (changed.empty()) return OpResult<bool>::Ok(false);
    } else {
      entry = &shard.keys.try_emplace(key).first->second;
      AddToSketchValue(entry->value, hashes, &changed);  // a new key: "" is the empty sketch
    }
    MarkDirty(shard, key, entry);
    ref.Append([&](std::string& blob) { lf::AppendPlainSketchAdd(blob, key, entry->expire_at_ms, changed); });
    return OpResult<bool>::Ok(true);
  });
}

OpResult<DistinctSketch> KeyspaceModule::ReadSketch(std::string_view key) {
  return shard_set_.Read(key, [&](const ShardRef& ref) {
    Entry* entry = FindLive(state(ref), key, clock_.NowMs());
    if (entry == nullptr) return OpResult<DistinctSketch>::Ok(DistinctSketch());
    if (entry->type != ValueType::kString) return OpResult<DistinctSketch>::Error(OpStatus::kWrongKind);
    std::optional<DistinctSketch> stored = SketchOf(entry->value);
    if (!stored) return OpResult<DistinctSketch>::Error(OpStatus::kWrongType);
    return OpResult<DistinctSketch>::Ok(std::move(*stored));
  });
}

bool KeyspaceModule::IsDenseSketchValue(std::string_view value) {
  return value.size() == kSketchHeaderSize + 1 + DistinctSketch::kDenseBytes && value.starts_with(kSketchMagic) &&
         static_cast<uint8_t>(value[kSketchHeaderSize]) == static_cast<uint8_t>(DistinctSketch::Form::kDense);
}

OpResult<uint64_t> KeyspaceModule::CountSketch(std::string_view key) {
  return shard_set_.Read(key, [&](const ShardRef& ref) {
    Entry* entry = FindLive(state(ref), key, clock_.NowMs());
    if (entry == nullptr) return OpResult<uint64_t>::Ok(0);
    if (entry->type != ValueType::kString) return OpResult<uint64_t>::Error(OpStatus::kWrongKind);
    std::string& value = entry->value;
    // Only a dense sketch keeps its count: counting it reads 16,384
    // registers; the smaller forms are counted as fast as they are read.
    const bool dense = IsDenseSketchValue(value);
    if (dense) {
      std::string_view cache(value.data() + kSketchMagic.size(), 8);
      uint64_t cached = 0;
      if (storage::codec::GetFixed64(cache, &cached) && cached != 0) return OpResult<uint64_t>::Ok(cached - 1);
    }
    std::optional<DistinctSketch> stored = SketchOf(value);
    if (!stored) return OpResult<uint64_t>::Error(OpStatus::kWrongType);
    const uint64_t count = stored->Count();
    if (dense) {
      // Memory only (not logged): the cache is part of the value's bytes but
      // not of its meaning, and every change of the registers clears it.
      std::string encoded;
      storage::codec::PutFixed64(encoded, count + 1);
      value.replace(kSketchMagic.size(), 8, encoded);
    }
    return OpResult<uint64_t>::Ok(count);
  });
}

OpResult<bool> KeyspaceModule::MergeSketch(std::string_view key, const DistinctSketch& sources) {
  return shard_set_.Write(key, [&](const ShardRef& ref) {
    Shard& shard = state(ref);
    Entry* entry = FindLive(shard, key, clock_.NowMs());
    DistinctSketch sketch;
    if (!Holds(entry, ValueType::kString)) return OpResult<bool>::Error(OpStatus::kWrongKind);
    if (entry != nullptr) {
      std::optional<DistinctSketch> stored = SketchOf(entry->value);
      if (!stored) return OpResult<bool>::Error(OpStatus::kWrongType);
      sketch = std::move(*stored);
    }
    const bool changed = sketch.Merge(sources);
    if (entry != nullptr && !changed) return OpResult<bool>::Ok(false);
    if (entry == nullptr) entry = &shard.keys.try_emplace(key).first->second;
    entry->value = SketchValue(sketch);
    MarkDirty(shard, key, entry);
    LogPut(ref, key, *entry);
    return OpResult<bool>::Ok(true);
  });
}

bool KeyspaceModule::Exists(std::string_view key) {
  return shard_set_.Read(key,
                         [&](const ShardRef& ref) { return FindLive(state(ref), key, clock_.NowMs()) != nullptr; });
}

OpResult<bool> KeyspaceModule::Expire(std::string_view key, int64_t expire_at_ms, ExpireCondition condition,
                                      std::optional<std::string>* value) {
  return shard_set_.Write(key, [&](const ShardRef& ref) {
    Shard& shard = state(ref);
    const int64_t now = clock_.NowMs();
    Entry* entry = FindLive(shard, key, now);
    if (entry == nullptr) return OpResult<bool>::Ok(false);
    if (value != nullptr && entry->type != ValueType::kString) return OpResult<bool>::Error(OpStatus::kWrongKind);
    if (value != nullptr) *value = entry->value;
    // Redis: a key without expiry counts as an infinite TTL for GT and LT.
    const bool has_expiry = entry->expire_at_ms != 0;
    switch (condition) {
      case ExpireCondition::kAlways:
        break;
      case ExpireCondition::kIfNoExpiry:
        if (has_expiry) return OpResult<bool>::Ok(false);
        break;
      case ExpireCondition::kIfHasExpiry:
        if (!has_expiry) return OpResult<bool>::Ok(false);
        break;
      case ExpireCondition::kIfGreater:
        if (!has_expiry || expire_at_ms <= entry->expire_at_ms) return OpResult<bool>::Ok(false);
        break;
      case ExpireCondition::kIfLess:
        if (has_expiry && expire_at_ms >= entry->expire_at_ms) return OpResult<bool>::Ok(false);
        break;
    }
    if (expire_at_ms <= now) {
      Remove(shard, key, *entry);
      ref.Append([&](std::string& blob) { lf::AppendPlainDel(blob, key); });
      return OpResult<bool>::Ok(true);
    }
    if (entry->expire_at_ms == 0) ++shard.keys_with_expiry;
    entry->expire_at_ms = expire_at_ms;
    MarkDirty(shard, key, entry);
    LogPut(ref, key, *entry);
    return OpResult<bool>::Ok(true);
  });
}

OpResult<bool> KeyspaceModule::Persist(std::string_view key, std::optional<std::string>* value) {
  return shard_set_.Write(key, [&](const ShardRef& ref) {
    Shard& shard = state(ref);
    Entry* entry = FindLive(shard, key, clock_.NowMs());
    if (value != nullptr && !Holds(entry, ValueType::kString)) return OpResult<bool>::Error(OpStatus::kWrongKind);
    if (entry != nullptr && value != nullptr) *value = entry->value;
    if (entry == nullptr || entry->expire_at_ms == 0) return OpResult<bool>::Ok(false);
    entry->expire_at_ms = 0;
    --shard.keys_with_expiry;
    MarkDirty(shard, key, entry);
    LogPut(ref, key, *entry);
    return OpResult<bool>::Ok(true);
  });
}

int64_t KeyspaceModule::Pttl(std::string_view key) {
  return shard_set_.Read(key, [&](const ShardRef& ref) -> int64_t {
    const int64_t now = clock_.NowMs();
    Entry* entry = FindLive(state(ref), key, now);
    if (entry == nullptr) return -2;
    if (entry->expire_at_ms == 0) return -1;
    return entry->expire_at_ms - now;
  });
}

int64_t KeyspaceModule::ExpireAtMs(std::string_view key) {
  return shard_set_.Read(key, [&](const ShardRef& ref) -> int64_t {
    Entry* entry = FindLive(state(ref), key, clock_.NowMs());
    if (entry == nullptr) return -2;
    return entry->expire_at_ms == 0 ? -1 : entry->expire_at_ms;
  });
}

// SCAN cursor: shard index in the top 6 bits, then the position in that
// shard's hash order (the top 57 bits of StableHash). Keys are visited in hash
// order, so a key present for the whole scan is returned exactly once even if
// the shard's table is rehashed between calls. Cost per call: one pass over
// one shard, returning at least an eighth of it (see docs/architecture.md).
ScanPage KeyspaceModule::Scan(uint64_t cursor, std::string_view pattern, size_t count, std::string_view type) {
  constexpr int kPositionBits = 57;
  constexpr uint64_t kPositionMask = (uint64_t{1} << kPositionBits) - 1;
  ScanPage page;
  size_t shard_index = cursor >> kPositionBits;
  uint64_t position = cursor & kPositionMask;
  if (count == 0) count = 10;
  const int64_t now = clock_.NowMs();
  std::vector<std::pair<uint64_t, std::string_view>> candidates;
  size_t remaining = count;
  auto emit = [&](const Shard& shard) {
    for (const auto& [pos, key] : candidates) {
      const Entry& entry = shard.keys.find(key)->second;
      if (entry.expire_at_ms != 0 && entry.expire_at_ms <= now) continue;
      if (!type.empty() && !EqualsIgnoringCase(ValueTypeName(entry.type), type)) continue;
      if (pattern.empty() || GlobMatch(pattern, key)) page.keys.emplace_back(key);
    }
  };
  while (shard_index < kShardCount && remaining > 0) {
    const bool page_full = shard_set_.Locked(shard_index, [&](const ShardRef& ref) {
      const Shard& shard = state(ref);
      // COUNT is a hint (as in Redis): take at least an eighth of the shard per
      // call, so a full scan costs O(keys) overall, not O(keys^2 / COUNT).
      const size_t take = std::max(remaining, shard.keys.size() / 8 + 1);
      candidates.clear();
      for (const auto& [key, entry] : shard.keys) {
        uint64_t pos = StableHash(key) >> (64 - kPositionBits);
        if (pos >= position) candidates.emplace_back(pos, key);
      }
      if (candidates.size() <= take) {
        emit(shard);
        return false;
      }
      // The `take` smallest positions, plus any others sharing the boundary
      // position (keys of one position are never split across pages).
      std::nth_element(candidates.begin(), candidates.begin() + static_cast<std::ptrdiff_t>(take - 1),
                       candidates.end());
      const uint64_t boundary = candidates[take - 1].first;
      auto rest = std::partition(candidates.begin() + static_cast<std::ptrdiff_t>(take), candidates.end(),
                                 [boundary](const auto& c) { return c.first == boundary; });
      uint64_t next = UINT64_MAX;
      for (auto it = rest; it != candidates.end(); ++it) next = std::min(next, it->first);
      candidates.erase(rest, candidates.end());
      emit(shard);
      if (next != UINT64_MAX) {
        page.next_cursor = (uint64_t{shard_index} << kPositionBits) | next;
      } else {
        page.next_cursor = shard_index + 1 >= kShardCount ? 0 : (uint64_t{shard_index + 1} << kPositionBits);
      }
      return true;
    });
    if (page_full) return page;
    remaining -= std::min(remaining, candidates.size());
    ++shard_index;
    position = 0;
  }
  page.next_cursor = shard_index >= kShardCount ? 0 : (uint64_t{shard_index} << kPositionBits);
  return page;
}

uint64_t KeyspaceModule::Watch(std::string_view key) {
  return shard_set_.Read(key, [&](const ShardRef& ref) {
    Shard& shard = state(ref);
    FindLive(shard, key, clock_.NowMs());  // an expired key goes now, not as a change after WATCH
    auto [it, inserted] = shard.watched.try_emplace(key);
    if (inserted) it->second.version = ++shard.watch_clock;
    ++it->second.watchers;
    return it->second.version;
  });
}

bool KeyspaceModule::KeyChangedSince(std::string_view key, uint64_t version) {
  return shard_set_.Read(key, [&](const ShardRef& ref) {
    Shard& shard = state(ref);
    FindLive(shard, key, clock_.NowMs());  // expiring since WATCH is a change, as in Redis
    auto it = shard.watched.find(key);
    return it == shard.watched.end() || it->second.version != version;
  });
}

void KeyspaceModule::Unwatch(std::string_view key) {
  shard_set_.Read(key, [&](const ShardRef& ref) {
    Shard& shard = state(ref);
    auto it = shard.watched.find(key);
    if (it != shard.watched.end() && --it->second.watchers == 0) shard.watched.erase(it);
  });
}

KeyspaceStats KeyspaceModule::Sizes() {
  KeyspaceStats stats;
  for (size_t i = 0; i < kShardCount; ++i) {
    shard_set_.Locked(i, [&](const ShardRef& ref) {
      stats.keys += state(ref).keys.size();
      stats.keys_with_expiry += state(ref).keys_with_expiry;
    });
  }
  return stats;
}

ModuleStats KeyspaceModule::Stats() {
  ModuleStats stats{name()};
  for (size_t i = 0; i < kShardCount; ++i) {
    shard_set_.Locked(i, [&](const ShardRef& ref) {
      stats.items += state(ref).keys.size();
      stats.pending += state(ref).dirty.size();
    });
  }
  return stats;
}

// ---------------------------------------------------------------------------
// Recovery

Status KeyspaceModule::LoadCompacted() {
  const int64_t now = clock_.NowMs();
  // Every plain key lives in memory from here on: one that cannot be read
  // would silently be absent, so a failed read stops the start.
  const Status scanned = store_.Scan(
      Family::kKv, "", "",
      [&](std::string_view key, std::string_view encoded) {
        if (IsTypedRow(encoded)) {
          LoadTypedRow(shards_[ShardSet::ShardOf(key)], key, encoded, now);
          return true;
        }
        int64_t expire_at = 0;
        std::string_view value;
        if (!lf::DecodeKvValue(encoded, &expire_at, &value)) return true;  // counted by verify tools
        Shard& shard = shards_[ShardSet::ShardOf(key)];
        if (expire_at != 0 && expire_at <= now) {
          shard.dirty.emplace_back(key);  // expired while we were down: compaction deletes the row
          return true;
        }
        Entry& entry = shard.keys[key];
        entry.value.assign(value);
        entry.expire_at_ms = expire_at;
        if (expire_at != 0) ++shard.keys_with_expiry;
        return true;
      },
      storage::Store::ScanMode::kBulk);
  ReadFault fault;
  fault.Check(Family::kKv, "", scanned);
  return fault.ToStatus();
}

Status KeyspaceModule::Replay(const lf::Entry& entry, const ReplayContext& context) {
  if (entry.op == lf::Op::kPlainDel) {
    Shard& shard = shards_[ShardSet::ShardOf(entry.payload)];
    auto it = shard.keys.find(entry.payload);
    if (it != shard.keys.end()) Remove(shard, entry.payload, it->second);
    return Status::Ok();
  }
  if (entry.op == lf::Op::kPlainSketchAdd) return ReplaySketchAdd(entry.payload, context.now_ms);
  if (entry.op != lf::Op::kPlainPut) return ReplayCollection(entry, context);
  lf::PlainPut put;
  if (!lf::DecodePlainPut(entry.payload, &put)) return Status::Corruption("malformed plain put in log");
  Shard& shard = shards_[ShardSet::ShardOf(put.key)];
  auto it = shard.keys.find(put.key);
  if (put.expire_at_ms != 0 && put.expire_at_ms <= context.now_ms) {
    if (it != shard.keys.end()) Remove(shard, put.key, it->second);
    return Status::Ok();
  }
  Entry* target = nullptr;
  if (it == shard.keys.end()) {
    target = &shard.keys[put.key];
  } else {
    target = &it->second;
    if (target->expire_at_ms != 0) --shard.keys_with_expiry;
  }
  MakeString(*target);
  target->value.assign(put.value);
  target->expire_at_ms = put.expire_at_ms;
  if (put.expire_at_ms != 0) ++shard.keys_with_expiry;
  MarkDirty(shard, put.key, target);
  return Status::Ok();
}

Status KeyspaceModule::ReplaySketchAdd(std::string_view payload, int64_t now_ms) {
  lf::PlainSketchAdd add;
  if (!lf::DecodePlainSketchAdd(payload, &add)) return Status::Corruption("malformed PFADD entry in log");
  Shard& shard = shards_[ShardSet::ShardOf(add.key)];
  auto it = shard.keys.find(add.key);
  // As a PlainPut: an entry whose key has expired since leaves nothing.
  if (add.expire_at_ms != 0 && add.expire_at_ms <= now_ms) {
    if (it != shard.keys.end()) Remove(shard, add.key, it->second);
    return Status::Ok();
  }
  const bool exists = it != shard.keys.end();
  Entry& target = exists ? it->second : shard.keys[add.key];
  if ((exists && target.value.empty()) || !AddToSketchValue(target.value, add.hashes, nullptr)) {
    return Status::Corruption("PFADD entry in the log for key '" + std::string(add.key) +
                              "', which holds a value that is not a HyperLogLog");
  }
  if (target.expire_at_ms != 0) --shard.keys_with_expiry;
  target.expire_at_ms = add.expire_at_ms;
  if (target.expire_at_ms != 0) ++shard.keys_with_expiry;
  MarkDirty(shard, add.key, &target);
  return Status::Ok();
}

// ---------------------------------------------------------------------------
// Compaction

void KeyspaceModule::Snapshot(const ShardRef& ref) {
  Shard& shard = state(ref);
  const int64_t now = clock_.NowMs();
  // Reap expired keys so they leave the kv family too.
  for (auto it = shard.keys.begin(); shard.keys_with_expiry > 0 && it != shard.keys.end();) {
    auto current = it++;
    if (current->second.expire_at_ms != 0 && current->second.expire_at_ms <= now) {
      if (!current->second.dirty) shard.dirty.push_back(current->first);
      --shard.keys_with_expiry;
      shard.keys.erase(current);
    }
  }
  shard.snapshot.clear();
  shard.snapshot.reserve(shard.dirty.size());
  for (std::string& key : shard.dirty) {
    auto it = shard.keys.find(key);
    if (it == shard.keys.end()) {
      shard.snapshot.push_back({std::move(key), std::nullopt});
    } else if (it->second.dirty) {
      it->second.dirty = false;
      shard.snapshot.push_back({std::move(key), EncodeRow(it->second)});
    }  // else: listed twice, already taken
  }
  shard.dirty.clear();
}

Status KeyspaceModule::WriteSnapshot(CompactionBatch& batch) {
  const std::vector<Change>& changes = shards_[batch.shard].snapshot;
  for (const Change& change : changes) {
    if (change.encoded) {
      batch.batch.Put(Family::kKv, change.key, *change.encoded);
    } else {
      batch.batch.Delete(Family::kKv, change.key);
    }
  }
  batch.written += changes.size();
  return Status::Ok();
}

void KeyspaceModule::FinishSnapshot(const ShardRef& ref, bool ok) {
  Shard& shard = state(ref);
  if (!ok) {
    // The snapshot was not written: put the keys back on the dirty list so
    // the next compaction retries them. The log still holds every change.
    for (Change& change : shard.snapshot) {
      auto it = shard.keys.find(change.key);
      if (it == shard.keys.end()) {
        shard.dirty.push_back(std::move(change.key));
      } else if (!it->second.dirty) {
        it->second.dirty = true;
        shard.dirty.push_back(std::move(change.key));
      }
    }
  }
  shard.snapshot.clear();
}

}  // namespace tally::core
