// The plain keyspace's sorted sets (ZADD, ZINCRBY, ZREM, ZPOPMIN, ZPOPMAX);
// their reads go through KeyspaceModule::ReadSortedSet. Their kv rows,
// recovery and replay are shared with the hashes (core/keyspace_hashes.cc).

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include "core/keyspace.h"
#include "storage/log_format.h"

namespace tally::core {

namespace lf = storage::log_format;

namespace {
using MemberScore = std::pair<std::string_view, double>;

void LogZsetSet(const ShardRef& ref, std::string_view key, int64_t expire_at_ms, std::span<const MemberScore> pairs) {
  ref.Append([&](std::string& blob) {
    lf::AppendEntry(blob, lf::Op::kPlainZsetSet, EncodeZsetSet(key, expire_at_ms, pairs));
  });
}
}  // namespace

OpResult<KeyspaceModule::SortedSetAddResult> KeyspaceModule::SortedSetAdd(
    std::string_view key, const SortedSetAddOptions& options,
    std::span<const std::pair<double, std::string_view>> pairs) {
  using Result = OpResult<SortedSetAddResult>;
  return shard_set_.Write(key, [&](const ShardRef& ref) {
    Shard& shard = state(ref);
    Entry* entry = FindLive(shard, key, clock_.NowMs());
    if (!Holds(entry, ValueType::kSortedSet)) return Result::Error(OpStatus::kWrongKind);
    SortedSetAddResult result;
    if (entry == nullptr) {
      if (options.only_existing) return Result::Ok(result);  // XX on no key: nothing to do
      entry = &CreateCollection(shard, key, ValueType::kSortedSet);
    }
    SortedSet& zset = entry->zset();
    std::vector<MemberScore> logged;
    OpStatus failed = OpStatus::kOk;
    // Redis's zsetAdd, pair by pair.
    for (const auto& [score, member] : pairs) {
      const std::optional<double> current = zset.ScoreOf(member);
      if (current) {
        if (options.only_new) continue;
        double next = score;
        if (options.increment) {
          next += *current;
          if (std::isnan(next)) {
            failed = OpStatus::kScoreNan;
            break;
          }
        }
        if ((options.only_less && next >= *current) || (options.only_greater && next <= *current)) continue;
        result.applied = true;
        result.score = next;
        if (next != *current) {
          zset.Set(member, next);
          ++result.updated;
          logged.emplace_back(member, next);
        }
      } else if (!options.only_existing) {
        zset.Set(member, score);
        ++result.added;
        result.applied = true;
        result.score = score;
        logged.emplace_back(member, score);
      }
    }
    if (!logged.empty()) {
      MarkDirty(shard, key, entry);
      LogZsetSet(ref, key, entry->expire_at_ms, logged);
    }
    if (zset.empty()) Remove(shard, key, *entry);  // created, but nothing was added (never logged)
    if (failed != OpStatus::kOk) return Result::Error(failed);
    return Result::Ok(result);
  });
}

OpResult<int64_t> KeyspaceModule::SortedSetRemove(std::string_view key, std::span<const std::string_view> members) {
  return shard_set_.Write(key, [&](const ShardRef& ref) {
    Shard& shard = state(ref);
    Entry* entry = FindLive(shard, key, clock_.NowMs());
    if (entry == nullptr) return OpResult<int64_t>::Ok(0);
    if (entry->type != ValueType::kSortedSet) return OpResult<int64_t>::Error(OpStatus::kWrongKind);
    std::vector<std::string_view> removed;
    for (std::string_view member : members) {
      if (entry->zset().Erase(member)) removed.push_back(member);
    }
    if (removed.empty()) return OpResult<int64_t>::Ok(0);
    ref.Append([&](std::string& blob) { lf::AppendEntry(blob, lf::Op::kPlainZsetRem, EncodeRemoval(key, removed)); });
    if (entry->zset().empty()) {
      Remove(shard, key, *entry);
    } else {
      MarkDirty(shard, key, entry);
    }
    return OpResult<int64_t>::Ok(static_cast<int64_t>(removed.size()));
  });
}

OpResult<std::vector<std::pair<std::string, double>>> KeyspaceModule::SortedSetPop(std::string_view key, size_t count,
                                                                                   bool highest) {
  using Popped = std::vector<std::pair<std::string, double>>;
  return shard_set_.Write(key, [&](const ShardRef& ref) {
    Shard& shard = state(ref);
    Entry* entry = FindLive(shard, key, clock_.NowMs());
    if (entry == nullptr) return OpResult<Popped>::Ok({});
    if (entry->type != ValueType::kSortedSet) return OpResult<Popped>::Error(OpStatus::kWrongKind);
    SortedSet& zset = entry->zset();
    Popped popped;
    const size_t take = std::min(count, zset.size());
    popped.reserve(take);
    auto it = highest && take > 0 ? zset.AtRank(zset.size() - 1) : zset.begin();
    for (size_t i = 0; i < take; ++i) {
      popped.emplace_back(it->member, it->score);
      if (i + 1 == take) break;
      if (highest) {
        --it;
      } else {
        ++it;
      }
    }
    if (popped.empty()) return OpResult<Popped>::Ok(std::move(popped));
    std::vector<std::string_view> names;
    names.reserve(popped.size());
    for (const auto& [member, score] : popped) names.push_back(member);
    for (std::string_view name : names) zset.Erase(name);
    ref.Append([&](std::string& blob) { lf::AppendEntry(blob, lf::Op::kPlainZsetRem, EncodeRemoval(key, names)); });
    if (zset.empty()) {
      Remove(shard, key, *entry);
    } else {
      MarkDirty(shard, key, entry);
    }
    return OpResult<Popped>::Ok(std::move(popped));
  });
}

}  // namespace tally::core
