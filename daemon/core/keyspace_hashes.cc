// The plain keyspace's hashes (HSET, HINCRBY, ...), INCRBYFLOAT, FLUSHDB,
// and what every collection type shares: its kv row, its recovery and its
// replay. The sorted sets' ops are in core/keyspace_sorted_sets.cc.

#include <cmath>
#include <utility>
#include <vector>

#include "core/keyspace.h"
#include "protocol/resp_parser.h"
#include "storage/log_format.h"

namespace tally::core {

namespace lf = storage::log_format;
using storage::Status;

namespace {
using FieldValue = std::pair<std::string_view, std::string_view>;

void LogHashSet(const ShardRef& ref, std::string_view key, int64_t expire_at_ms, std::span<const FieldValue> pairs) {
  ref.Append([&](std::string& blob) {
    lf::AppendEntry(blob, lf::Op::kPlainHashSet, EncodeHashSet(key, expire_at_ms, pairs));
  });
}
}  // namespace

// ---------------------------------------------------------------------------
// Shared by hashes and sorted sets (the shard's lock held)

KeyspaceModule::Entry& KeyspaceModule::CreateCollection(Shard& shard, std::string_view key, ValueType type) {
  Entry& entry = shard.keys.try_emplace(key).first->second;
  entry.type = type;
  std::string().swap(entry.value);
  if (type == ValueType::kHash) {
    entry.collection = std::make_unique<HashValue>();
  } else {
    entry.collection = std::make_unique<SortedSet>();
  }
  return entry;
}

std::string KeyspaceModule::EncodeRow(const Entry& entry) {
  switch (entry.type) {
    case ValueType::kString:
      break;
    case ValueType::kHash:
      return EncodeHashRow(entry.expire_at_ms, static_cast<const HashValue&>(*entry.collection));
    case ValueType::kSortedSet:
      return EncodeZsetRow(entry.expire_at_ms, static_cast<const SortedSet&>(*entry.collection));
  }
  return lf::EncodeKvValue(entry.expire_at_ms, entry.value);
}

void KeyspaceModule::LoadTypedRow(Shard& shard, std::string_view key, std::string_view encoded, int64_t now_ms) {
  ValueType type = ValueType::kString;
  int64_t expire_at = 0;
  std::unique_ptr<HashValue> hash;
  std::unique_ptr<SortedSet> zset;
  if (!DecodeTypedRow(encoded, &type, &expire_at, &hash, &zset)) return;  // counted by verify tools, as for strings
  if (expire_at != 0 && expire_at <= now_ms) {
    shard.dirty.emplace_back(key);  // expired while we were down: compaction deletes the row
    return;
  }
  Entry& entry = shard.keys[key];
  entry.type = type;
  if (hash) {
    entry.collection = std::move(hash);
  } else {
    entry.collection = std::move(zset);
  }
  entry.expire_at_ms = expire_at;
  if (expire_at != 0) ++shard.keys_with_expiry;
}

std::optional<ValueType> KeyspaceModule::TypeOf(std::string_view key) {
  return shard_set_.Read(key, [&](const ShardRef& ref) -> std::optional<ValueType> {
    Entry* entry = FindLive(state(ref), key, clock_.NowMs());
    if (entry == nullptr) return std::nullopt;
    return entry->type;
  });
}

// ---------------------------------------------------------------------------
// Hashes

OpResult<int64_t> KeyspaceModule::HashSet(std::string_view key, std::span<const std::string_view> pairs,
                                          bool only_if_absent) {
  return shard_set_.Write(key, [&](const ShardRef& ref) {
    Shard& shard = state(ref);
    Entry* entry = FindLive(shard, key, clock_.NowMs());
    if (!Holds(entry, ValueType::kHash)) return OpResult<int64_t>::Error(OpStatus::kWrongKind);
    if (only_if_absent && entry != nullptr && entry->hash().Find(pairs[0])) return OpResult<int64_t>::Ok(0);
    if (entry == nullptr) entry = &CreateCollection(shard, key, ValueType::kHash);
    HashValue& hash = entry->hash();
    std::vector<FieldValue> logged;
    logged.reserve(pairs.size() / 2);
    int64_t added = 0;
    for (size_t i = 0; i + 1 < pairs.size(); i += 2) {
      added += hash.Set(pairs[i], pairs[i + 1]) ? 1 : 0;
      logged.emplace_back(pairs[i], pairs[i + 1]);
    }
    MarkDirty(shard, key, entry);
    LogHashSet(ref, key, entry->expire_at_ms, logged);
    return OpResult<int64_t>::Ok(added);
  });
}

OpResult<int64_t> KeyspaceModule::HashDelete(std::string_view key, std::span<const std::string_view> fields) {
  return shard_set_.Write(key, [&](const ShardRef& ref) {
    Shard& shard = state(ref);
    Entry* entry = FindLive(shard, key, clock_.NowMs());
    if (entry == nullptr) return OpResult<int64_t>::Ok(0);
    if (entry->type != ValueType::kHash) return OpResult<int64_t>::Error(OpStatus::kWrongKind);
    std::vector<std::string_view> removed;
    for (std::string_view field : fields) {
      if (entry->hash().Erase(field)) removed.push_back(field);
    }
    if (removed.empty()) return OpResult<int64_t>::Ok(0);
    ref.Append([&](std::string& blob) { lf::AppendEntry(blob, lf::Op::kPlainHashDel, EncodeRemoval(key, removed)); });
    if (entry->hash().empty()) {
      Remove(shard, key, *entry);
    } else {
      MarkDirty(shard, key, entry);
    }
    return OpResult<int64_t>::Ok(static_cast<int64_t>(removed.size()));
  });
}

OpResult<int64_t> KeyspaceModule::HashIncrBy(std::string_view key, std::string_view field, int64_t delta) {
  return shard_set_.Write(key, [&](const ShardRef& ref) {
    Shard& shard = state(ref);
    Entry* entry = FindLive(shard, key, clock_.NowMs());
    if (!Holds(entry, ValueType::kHash)) return OpResult<int64_t>::Error(OpStatus::kWrongKind);
    int64_t current = 0;
    if (entry != nullptr) {
      std::optional<std::string_view> stored = entry->hash().Find(field);
      if (stored && !protocol::ParseInt64(*stored, &current)) {
        return OpResult<int64_t>::Error(OpStatus::kHashNotInteger);
      }
    }
    int64_t next = 0;
    if (__builtin_add_overflow(current, delta, &next)) return OpResult<int64_t>::Error(OpStatus::kOverflow);
    if (entry == nullptr) entry = &CreateCollection(shard, key, ValueType::kHash);
    const std::string text = std::to_string(next);
    entry->hash().Set(field, text);
    MarkDirty(shard, key, entry);
    const FieldValue pair(field, text);
    LogHashSet(ref, key, entry->expire_at_ms, std::span<const FieldValue>(&pair, 1));
    return OpResult<int64_t>::Ok(next);
  });
}

OpResult<std::string> KeyspaceModule::HashIncrByFloat(std::string_view key, std::string_view field, long double delta) {
  return shard_set_.Write(key, [&](const ShardRef& ref) {
    Shard& shard = state(ref);
    Entry* entry = FindLive(shard, key, clock_.NowMs());
    if (!Holds(entry, ValueType::kHash)) return OpResult<std::string>::Error(OpStatus::kWrongKind);
    long double current = 0;
    if (entry != nullptr) {
      std::optional<std::string_view> stored = entry->hash().Find(field);
      if (stored && !ParseLongDouble(*stored, &current)) return OpResult<std::string>::Error(OpStatus::kHashNotFloat);
    }
    const long double next = current + delta;
    if (std::isnan(next) || std::isinf(next)) return OpResult<std::string>::Error(OpStatus::kNanOrInfinity);
    if (entry == nullptr) entry = &CreateCollection(shard, key, ValueType::kHash);
    std::string text = FormatLongDouble(next);
    entry->hash().Set(field, text);
    MarkDirty(shard, key, entry);
    const FieldValue pair(field, text);
    LogHashSet(ref, key, entry->expire_at_ms, std::span<const FieldValue>(&pair, 1));
    return OpResult<std::string>::Ok(std::move(text));
  });
}

// ---------------------------------------------------------------------------
// INCRBYFLOAT

OpResult<std::string> KeyspaceModule::IncrByFloat(std::string_view key, long double delta) {
  return shard_set_.Write(key, [&](const ShardRef& ref) {
    Shard& shard = state(ref);
    Entry* entry = FindLive(shard, key, clock_.NowMs());
    if (!Holds(entry, ValueType::kString)) return OpResult<std::string>::Error(OpStatus::kWrongKind);
    long double current = 0;
    if (entry != nullptr && !ParseLongDouble(entry->value, &current)) {
      return OpResult<std::string>::Error(OpStatus::kNotFloat);
    }
    const long double next = current + delta;
    if (std::isnan(next) || std::isinf(next)) return OpResult<std::string>::Error(OpStatus::kNanOrInfinity);
    if (entry == nullptr) entry = &shard.keys.try_emplace(key).first->second;
    entry->value = FormatLongDouble(next);
    MarkDirty(shard, key, entry);
    LogPut(ref, key, *entry);  // the value itself (as Redis replicates a SET): replay needs no float math
    return OpResult<std::string>::Ok(entry->value);
  });
}

// ---------------------------------------------------------------------------
// FLUSHDB / FLUSHALL

OpResult<bool> KeyspaceModule::Flush() {
  // Outside an atomic scope, refuse up front rather than flush some shards only.
  if (!ThreadAtomicScope().active && !shard_set_.writable()) return OpResult<bool>::Error(OpStatus::kStorageFailed);
  for (size_t i = 0; i < kShardCount; ++i) {
    shard_set_.Locked(i, [&](const ShardRef& ref) {
      Shard& shard = state(ref);
      if (shard.keys.empty()) return;
      for (auto& [key, entry] : shard.keys) {
        TouchWatched(shard, key);
        if (!entry.dirty) shard.dirty.push_back(key);  // compaction deletes its row
      }
      shard.keys.clear();
      shard.keys_with_expiry = 0;
      ref.Append([](std::string& blob) { lf::AppendEntry(blob, lf::Op::kPlainFlush, {}); });
    });
  }
  return OpResult<bool>::Ok(true);
}

// ---------------------------------------------------------------------------
// Replay of the collection ops

Status KeyspaceModule::ReplayCollection(const lf::Entry& entry, const ReplayContext& context) {
  if (entry.op == lf::Op::kPlainFlush) {
    Shard& shard = shards_[context.shard.index()];
    for (auto& [key, value] : shard.keys) {
      if (!value.dirty) shard.dirty.push_back(key);
    }
    shard.keys.clear();
    shard.keys_with_expiry = 0;
    return Status::Ok();
  }
  const bool sets = entry.op == lf::Op::kPlainHashSet || entry.op == lf::Op::kPlainZsetSet;
  const bool with_expiry = sets || entry.op == lf::Op::kPlainExpire;
  CollectionPayload payload(entry.payload, with_expiry);
  if (!payload.ok()) return Status::Corruption("malformed hash or sorted set entry in log");
  const std::string_view key = payload.key();
  Shard& shard = shards_[ShardSet::ShardOf(key)];
  auto it = shard.keys.find(key);
  Entry* target = it == shard.keys.end() ? nullptr : &it->second;
  // As a PlainPut: an entry whose key has expired since leaves nothing.
  if (with_expiry && payload.expire_at_ms() != 0 && payload.expire_at_ms() <= context.now_ms) {
    if (target != nullptr) Remove(shard, key, *target);
    return Status::Ok();
  }
  const bool hash = entry.op == lf::Op::kPlainHashSet || entry.op == lf::Op::kPlainHashDel;
  const ValueType type = hash ? ValueType::kHash : ValueType::kSortedSet;
  if (entry.op == lf::Op::kPlainExpire) {
    if (target == nullptr) return Status::Ok();
    if (target->expire_at_ms != 0) --shard.keys_with_expiry;
    target->expire_at_ms = payload.expire_at_ms();
    if (target->expire_at_ms != 0) ++shard.keys_with_expiry;
    MarkDirty(shard, key, target);
    return Status::Ok();
  }
  if (!sets) {  // HDEL, ZREM: fields of a key that still holds them
    if (target == nullptr || target->type != type) return Status::Ok();
    std::string_view name;
    while (!payload.done()) {
      if (!payload.NextName(&name)) return Status::Corruption("malformed HDEL or ZREM entry in log");
      if (hash) {
        target->hash().Erase(name);
      } else {
        target->zset().Erase(name);
      }
    }
    const bool empty = hash ? target->hash().empty() : target->zset().empty();
    if (empty) {
      Remove(shard, key, *target);
    } else {
      MarkDirty(shard, key, target);
    }
    return Status::Ok();
  }
  // HSET, ZADD: the log says the key holds this type now.
  if (target != nullptr && target->type != type) {
    Remove(shard, key, *target);
    target = nullptr;
  }
  if (target == nullptr) target = &CreateCollection(shard, key, type);
  if (target->expire_at_ms != 0) --shard.keys_with_expiry;
  target->expire_at_ms = payload.expire_at_ms();
  if (target->expire_at_ms != 0) ++shard.keys_with_expiry;
  while (!payload.done()) {
    if (hash) {
      std::string_view field, value;
      if (!payload.NextPair(&field, &value)) return Status::Corruption("malformed HSET entry in log");
      target->hash().Set(field, value);
    } else {
      std::string_view member;
      double score = 0;
      if (!payload.NextScored(&member, &score)) return Status::Corruption("malformed ZADD entry in log");
      target->zset().Set(member, score);
    }
  }
  MarkDirty(shard, key, target);
  return Status::Ok();
}

}  // namespace tally::core
