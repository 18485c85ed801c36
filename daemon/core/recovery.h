#pragma once
// Recovery (Engine::Open): every module loads its compacted state, then the
// log is replayed past each shard's checkpoint, in (shard, sequence) order,
// each entry dispatched to the module that owns its op (storage/FORMAT.md §9).

#include <array>
#include <cstdint>
#include <vector>

#include "core/clock.h"
#include "core/engine_module.h"
#include "core/shard_set.h"
#include "storage/status.h"
#include "storage/store.h"

namespace tally::core {

// Runs before anything else touches the engine. On success, every shard's
// log continues at max(checkpoint, last replayed) + 1 and `*replayed` holds
// the number of entries applied. A log damaged anywhere (an unknown op, a
// malformed entry or key) stops it with a Corruption status: the daemon
// refuses to start rather than skip data.
storage::Status Recover(ShardSet& shards, storage::Store& store, const Clock& clock,
                        const std::vector<EngineModule*>& modules, const std::array<EngineModule*, 256>& modules_by_op,
                        uint64_t* replayed);

}  // namespace tally::core
