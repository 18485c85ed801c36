#include "core/recovery.h"
#include "core/read_errors.h"

#include <algorithm>

#include "storage/codec.h"
#include "storage/log_format.h"
#include "storage/log_salvage.h"

namespace tally::core {

namespace lf = storage::log_format;
using storage::Family;
using storage::Status;

Status Recover(ShardSet& shards, storage::Store& store, const Clock& clock, const std::vector<EngineModule*>& modules,
               const std::array<EngineModule*, 256>& modules_by_op, uint64_t* replayed) {
  *replayed = 0;
  // 1. Compacted state that lives in memory from the start.
  for (EngineModule* module : modules) {
    Status s = module->LoadCompacted();
    if (!s.ok()) return s;
  }

  // 2. Checkpoints: the last sequence folded into the compacted state.
  std::array<uint64_t, kShardCount> checkpoint{};
  Status s = store.Scan(Family::kMeta, lf::kCheckpointPrefix, "checkpoint0",
                        [&](std::string_view key, std::string_view value) {
                          if (key.size() != lf::kCheckpointPrefix.size() + 2 || value.size() != 8) return true;
                          uint16_t shard = storage::codec::GetBigEndian16(key.data() + lf::kCheckpointPrefix.size());
                          if (shard < kShardCount) checkpoint[shard] = storage::codec::GetFixed64(value.data());
                          return true;
                        });
  ReadFault fault;
  if (!fault.Check(Family::kMeta, lf::kCheckpointPrefix, s)) return fault.ToStatus();

  // 3. Replay the log past each checkpoint, in (shard, sequence) order.
  const int64_t now = clock.NowMs();
  std::array<uint64_t, kShardCount> last_seq = checkpoint;
  Status replay_status;
  s = store.Scan(
      Family::kLog, "", "",
      [&](std::string_view key, std::string_view blob) {
        uint16_t shard_index = 0;
        uint64_t seq = 0;
        if (!lf::ParseLogKey(key, &shard_index, &seq) || shard_index >= kShardCount) {
          replay_status = Status::Corruption("malformed log key");
          return false;
        }
        const ShardRef shard = shards.Exclusive(shard_index);
        const ReplayContext context{shard, now, modules_by_op};
        lf::BlobReader reader(blob);
        lf::Entry entry;
        for (; reader.Next(&entry); ++seq) {
          if (seq <= checkpoint[shard_index]) continue;
          last_seq[shard_index] = std::max(last_seq[shard_index], seq);
          ++*replayed;
          replay_status = context.Dispatch(entry);
          if (!replay_status.ok()) return false;
        }
        if (!reader.status().ok()) {
          replay_status = reader.status();
          return false;
        }
        return true;
      },
      storage::Store::ScanMode::kBulk);
  if (s.code() == Status::Code::kCorruption) {
    // A damaged block of the log (an SST of db-log): refuse, and say what to do.
    return Status::Corruption("reading the write-ahead log failed: " + s.message() +
                              ". Starting would silently drop the acknowledged writes in and after the damaged block, "
                              "so tallyd refuses. Run `" +
                              storage::SalvageCommand(store.path()) + "`, then start tallyd again.");
  }
  if (!s.ok()) return s;
  if (!replay_status.ok()) return replay_status;
  for (size_t i = 0; i < kShardCount; ++i) {
    const ShardRef shard = shards.Exclusive(i);
    shards.log(shard).set_next_seq(last_seq[i] + 1);
    shards.set_checkpoint(shard, checkpoint[i]);
  }
  return Status::Ok();
}

}  // namespace tally::core
