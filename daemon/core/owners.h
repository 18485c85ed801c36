#pragma once
// Owners: who counts belong to (`user:42`, `org:acme`). This module interns
// owner names to per-shard 32-bit ids (the other modules key their state by
// them), keeps each owner's settings (today its time zone, OWNER.TZ; plans and
// quotas will hang theirs here), persists them in the `owners` family, and
// lists owners (CTR.OWNERS).
//
// Who is listed: an owner is listed while some module says it holds state
// (an OwnerListingSource; today the counters: an owner with at least one
// non-zero cell). Settings alone do not list an owner: an owner whose every
// cell was deleted, or that only has a time zone, keeps its zone but is not
// listed.
//
// An owner is interned by the writes that need it (an increment, a set, a
// time zone) and by loading stored state; never by a read, and never by a
// delete of something that does not exist. Interned owners stay in memory.
//
// Thread-safety: the public ops take the owner's shard lock. The functions
// taking a ShardRef are for other modules and REQUIRE that shard's lock.

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/calendar.h"
#include "core/engine_module.h"
#include "core/op_result.h"
#include "core/read_errors.h"
#include "core/shard_set.h"
#include "core/string_map.h"
#include "storage/store.h"

namespace tally::core {

struct OwnersPage {
  std::string next_cursor;  // empty: done
  std::vector<std::string> owners;
};

// A module whose state makes an owner listed by OwnersModule::List.
class OwnerListingSource {
 public:
  virtual ~OwnerListingSource() = default;
  // Adds to `out` at least the first `limit` owners in name order (fewer if
  // there are no more) whose names start with `prefix`, sort after `after`
  // (empty: from the first) and hold state of this module. It may add more.
  // Takes shard locks itself (one at a time). A failed read is noted in `fault`.
  virtual void ListOwners(std::string_view prefix, std::string_view after, size_t limit, std::set<std::string>* out,
                          ReadFault& fault) = 0;
};

class OwnersModule final : public EngineModule {
 public:
  OwnersModule(ShardSet& shards, storage::Store& store, const TimeZone& default_zone);

  // ---- operations ---------------------------------------------------------
  // The owner's zone: its own (OWNER.TZ) or the daemon's. Creates nothing.
  // kReadFailed if its stored settings cannot be read.
  OpResult<TimeZone> TimeZoneOf(std::string_view owner);
  // Periods of the owner's events from now on are computed in `zone`.
  OpResult<bool> SetTimeZone(std::string_view owner, const TimeZone& zone);
  // Listed owners (see above) in name order after `cursor`, at most `count`;
  // next_cursor is empty on the last page. Cost: what each listing source
  // spends on count + 1 owners (counters: CountersModule::ListOwners).
  OpResult<OwnersPage> List(std::string_view prefix, std::string_view cursor, size_t count);
  // Registration (Engine's constructor): a module whose state lists owners.
  void AddListingSource(OwnerListingSource* source) { listing_sources_.push_back(source); }
  const TimeZone& default_zone() const { return default_zone_; }

  // ---- for other modules; REQUIRE the shard's lock (`shard`) ----------------
  // The owner's id, interning it (and reading its stored settings) if new.
  // nullopt (nothing interned, the failure noted in `fault`) if the stored
  // settings cannot be read: an owner interned without them would pass for
  // one without stored state.
  std::optional<uint32_t> Intern(const ShardRef& shard, std::string_view owner, ReadFault& fault);
  // The owner's id if it is interned; nullopt otherwise (nothing is created).
  std::optional<uint32_t> Find(const ShardRef& shard, std::string_view owner) const;
  const std::string& Name(const ShardRef& shard, uint32_t id) const { return state(shard).owners[id].name; }
  const TimeZone& ZoneOf(const ShardRef& shard, uint32_t id) const {
    const std::optional<TimeZone>& zone = state(shard).owners[id].zone;
    return zone ? *zone : default_zone_;
  }
  // The zone of an owner that may not be interned: its stored setting is read
  // into `storage` then, without interning it (a failed read is noted in
  // `fault`, and the daemon's zone returned).
  const TimeZone& ZoneForRead(const ShardRef& shard, std::string_view owner, std::optional<TimeZone>* storage,
                              ReadFault& fault);
  // False only for an owner that no compaction has written yet (in this or an
  // earlier process): none of its state can be in RocksDB, so loading it
  // needs no reads.
  bool MayHaveStoredState(const ShardRef& shard, uint32_t id) const {
    return state(shard).owners[id].may_have_stored_state;
  }
  // A compaction is writing state of the owner.
  void NoteCompacted(const ShardRef& shard, uint32_t id) { state(shard).owners[id].may_have_stored_state = true; }
  size_t Count(const ShardRef& shard) const { return state(shard).owners.size(); }

  // EngineModule
  std::string_view name() const override { return "owners"; }
  std::vector<storage::log_format::Op> log_ops() const override;
  storage::Status Replay(const storage::log_format::Entry& entry, const ReplayContext& context) override;
  void Snapshot(const ShardRef& shard) override;
  storage::Status WriteSnapshot(CompactionBatch& batch) override;
  void FinishSnapshot(const ShardRef& shard, bool ok) override;
  ModuleStats Stats() override;

 private:
  struct Owner {
    std::string name;
    std::optional<TimeZone> zone;  // nullopt: the daemon's
    bool persisted = false;        // present in the owners family with its current settings
    bool may_have_stored_state = false;
  };
  // One shard's owners. Protected by the shard's mutex.
  struct alignas(64) Shard {
    StringMap<uint32_t> ids;
    std::vector<Owner> owners;    // by id; never shrinks
    std::vector<uint32_t> dirty;  // owners to (re)write to the owners family
    // Taken by Snapshot, written by WriteSnapshot (only the compaction
    // thread touches them until FinishSnapshot).
    std::vector<uint32_t> snapshot_ids;
    std::vector<std::pair<std::string, std::string>> snapshot_rows;  // name, zone ("" = the daemon's)
  };

  // False (nothing changed) if the owner could not be interned.
  bool SetZoneLocked(const ShardRef& shard, std::string_view owner, const TimeZone& zone, ReadFault& fault);
  Shard& state(const ShardRef& shard) { return shards_[shard.index()]; }
  const Shard& state(const ShardRef& shard) const { return shards_[shard.index()]; }

  ShardSet& shard_set_;
  storage::Store& store_;
  const TimeZone default_zone_;
  std::vector<OwnerListingSource*> listing_sources_;  // set at construction, then read-only
  Shard shards_[kShardCount];                         // element i protected by shard i's mutex
};

}  // namespace tally::core
