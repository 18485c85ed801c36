#include "core/owners.h"

#include <set>

#include "storage/log_format.h"

namespace tally::core {

namespace lf = storage::log_format;
using storage::Family;
using storage::Status;

OwnersModule::OwnersModule(ShardSet& shards, storage::Store& store, const TimeZone& default_zone)
    : shard_set_(shards), store_(store), default_zone_(default_zone) {}

std::vector<lf::Op> OwnersModule::log_ops() const { return {lf::Op::kOwnerTimeZone}; }

// ---------------------------------------------------------------------------
// For other modules (the shard's lock held)

uint32_t OwnersModule::Intern(const ShardRef& ref, std::string_view owner) {
  Shard& shard = state(ref);
  auto it = shard.ids.find(owner);
  if (it != shard.ids.end()) return it->second;
  const uint32_t id = static_cast<uint32_t>(shard.owners.size());
  shard.ids.emplace(std::string(owner), id);
  Owner state;
  state.name.assign(owner);
  // Settings compacted earlier (a time zone) live in the owners family.
  auto stored = store_.Get(Family::kOwners, owner);
  if (stored.ok() && stored.value()) {
    state.persisted = true;
    state.may_have_stored_state = true;
    if (!stored.value()->empty()) state.zone = TimeZone::Find(*stored.value());
  }
  shard.owners.push_back(std::move(state));
  if (!shard.owners.back().persisted) shard.dirty.push_back(id);
  return id;
}

std::optional<uint32_t> OwnersModule::Find(const ShardRef& ref, std::string_view owner) const {
  const Shard& shard = state(ref);
  auto it = shard.ids.find(owner);
  if (it == shard.ids.end()) return std::nullopt;
  return it->second;
}

const TimeZone& OwnersModule::ZoneForRead(const ShardRef& ref, std::string_view owner,
                                          std::optional<TimeZone>* storage) {
  if (std::optional<uint32_t> id = Find(ref, owner)) return ZoneOf(ref, *id);
  auto stored = store_.Get(Family::kOwners, owner);
  if (stored.ok() && stored.value() && !stored.value()->empty()) *storage = TimeZone::Find(*stored.value());
  return *storage ? **storage : default_zone_;
}

void OwnersModule::SetZoneLocked(const ShardRef& ref, std::string_view owner, const TimeZone& zone) {
  const uint32_t id = Intern(ref, owner);
  Shard& shard = state(ref);
  Owner& state = shard.owners[id];
  state.zone = zone;
  if (state.persisted) {  // the owners family must learn the new zone
    state.persisted = false;
    shard.dirty.push_back(id);
  }
}

// ---------------------------------------------------------------------------
// Operations

TimeZone OwnersModule::TimeZoneOf(std::string_view owner) {
  return shard_set_.Read(owner, [&](const ShardRef& ref) {
    std::optional<TimeZone> storage;
    return ZoneForRead(ref, owner, &storage);
  });
}

OpResult<bool> OwnersModule::SetTimeZone(std::string_view owner, const TimeZone& zone) {
  return shard_set_.Write(owner, [&](const ShardRef& ref) {
    SetZoneLocked(ref, owner, zone);
    ref.Append([&](std::string& blob) { lf::AppendOwnerTimeZone(blob, owner, zone.name()); });
    return OpResult<bool>::Ok(true);
  });
}

OwnersPage OwnersModule::List(std::string_view prefix, std::string_view cursor, size_t count) {
  // Each source adds at least its first count + 1 owners after the cursor,
  // so the first count + 1 of the union are the first of all: a page, and
  // whether another one follows.
  std::set<std::string> names;
  for (OwnerListingSource* source : listing_sources_) source->ListOwners(prefix, cursor, count + 1, &names);
  OwnersPage page;
  for (const std::string& name : names) {
    if (page.owners.size() == count) {
      page.next_cursor = page.owners.back();
      break;
    }
    page.owners.push_back(name);
  }
  return page;
}

ModuleStats OwnersModule::Stats() {
  ModuleStats stats{name()};
  for (size_t i = 0; i < kShardCount; ++i) {
    shard_set_.Locked(i, [&](const ShardRef& ref) {
      stats.items += state(ref).owners.size();
      stats.pending += state(ref).dirty.size();
    });
  }
  return stats;
}

// ---------------------------------------------------------------------------
// Recovery and compaction

Status OwnersModule::Replay(const lf::Entry& entry, const ReplayContext&) {
  std::string_view owner, zone_name;
  if (!lf::DecodeOwnerTimeZone(entry.payload, &owner, &zone_name)) {
    return Status::Corruption("malformed owner time zone");
  }
  auto zone = TimeZone::Find(zone_name);
  if (!zone) return Status::Corruption("unknown time zone in log: " + std::string(zone_name));
  SetZoneLocked(shard_set_.Exclusive(ShardSet::ShardOf(owner)), owner, *zone);
  return Status::Ok();
}

void OwnersModule::Snapshot(const ShardRef& ref) {
  Shard& shard = state(ref);
  shard.snapshot_ids.clear();
  shard.snapshot_rows.clear();
  for (uint32_t id : shard.dirty) {
    Owner& owner = shard.owners[id];
    if (owner.persisted) continue;  // listed twice
    owner.persisted = true;
    shard.snapshot_ids.push_back(id);
    shard.snapshot_rows.emplace_back(owner.name, owner.zone ? owner.zone->name() : std::string());
  }
  shard.dirty.clear();
}

Status OwnersModule::WriteSnapshot(CompactionBatch& batch) {
  const Shard& shard = shards_[batch.shard];
  for (const auto& [owner, zone] : shard.snapshot_rows) batch.batch.Put(Family::kOwners, owner, zone);
  batch.written += shard.snapshot_rows.size();
  return Status::Ok();
}

void OwnersModule::FinishSnapshot(const ShardRef& ref, bool ok) {
  Shard& shard = state(ref);
  if (!ok) {
    for (uint32_t id : shard.snapshot_ids) {
      shard.owners[id].persisted = false;
      shard.dirty.push_back(id);
    }
  }
  shard.snapshot_ids.clear();
  shard.snapshot_rows.clear();
}

}  // namespace tally::core
