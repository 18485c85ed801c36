#include "core/engine.h"

#include <spdlog/spdlog.h>

#include <cstdlib>
#include <utility>

#include "core/recovery.h"

namespace tally::core {

using storage::Status;

template <typename Module>
Module* Engine::Register(std::unique_ptr<Module> module) {
  for (storage::log_format::Op op : module->log_ops()) {
    EngineModule*& slot = modules_by_op_[static_cast<uint8_t>(op)];
    if (slot != nullptr) std::abort();  // two modules claim one log op: a programming error
    slot = module.get();
  }
  Module* raw = module.get();
  modules_.push_back(std::move(module));
  return raw;
}

Engine::Engine(const Clock& clock, std::unique_ptr<storage::RetentionPolicy> retention,
               std::unique_ptr<storage::Store> store, const EngineOptions& options)
    : clock_(clock), retention_(std::move(retention)), store_(std::move(store)), quota_options_(options.quotas) {
  wal_ = std::make_unique<storage::WalWriter>(*store_, shards_.logs(), options.fsync_each_write);
  shards_.AttachWal(*wal_);
  // The modules. Each gets the shards, the store and the modules it uses.
  auto keyspace = std::make_unique<KeyspaceModule>(shards_, *store_, clock_);
  auto owners = std::make_unique<OwnersModule>(shards_, *store_, options.counters.default_time_zone);
  auto feeds = std::make_unique<FeedsModule>(shards_, *store_, clock_, options.counters.changes_retention_ms);
  auto counters = std::make_unique<CountersModule>(shards_, *store_, clock_, *owners, *feeds, options.counters);
  auto quotas = std::make_unique<QuotasModule>(shards_, *store_, clock_, *owners, *counters, *feeds, options.quotas);
  auto metering =
      std::make_unique<MeteringModule>(shards_, *store_, clock_, *counters, *quotas, *feeds, options.metering);
  auto uniques = std::make_unique<UniquesModule>(shards_, *store_, clock_, *owners);
  // Registration, in the order recovery loads the modules and compaction
  // snapshots them. The feeds come last: their snapshot writes the change
  // records the other modules added to the batch.
  keyspace_ = Register(std::move(keyspace));
  owners_ = Register(std::move(owners));
  counters_ = Register(std::move(counters));
  quotas_ = Register(std::move(quotas));
  metering_ = Register(std::move(metering));
  uniques_ = Register(std::move(uniques));
  feeds_ = Register(std::move(feeds));
  // Modules whose state makes an owner listed (CTR.OWNERS).
  owners_->AddListingSource(counters_);

  compactor_ = std::make_unique<Compactor>(shards_, *store_, *wal_, clock_, ModuleList(), *feeds_);
}

Engine::~Engine() = default;

storage::StatusOr<std::unique_ptr<Engine>> Engine::Open(const EngineOptions& options, const Clock& clock) {
  auto retention = MakeRetentionPolicy(options.counters, clock);
  storage::StoreOptions store_options;
  store_options.path = options.data_dir;
  store_options.block_cache_bytes = options.block_cache_bytes;
  store_options.memory_limit_bytes = options.memory_limit_bytes;
  store_options.retention = retention.get();
  store_options.fault_control_path = options.fault_control_path;
  auto store = storage::Store::Open(store_options);
  if (!store.ok()) return store.status();
  std::unique_ptr<Engine> engine(new Engine(clock, std::move(retention), std::move(store.value()), options));
  // Before recovery: its compaction must find the index whole.
  Status s = engine->counters_->BuildValueIndex([](uint64_t entries) {
    spdlog::info("building the by_value index (CTR.TOP) of a data dir from before it: {} entries", entries);
  });
  if (!s.ok()) return s;
  s = Recover(engine->shards_, *engine->store_, clock, engine->ModuleList(), engine->modules_by_op_,
              &engine->recovered_entries_);
  if (!s.ok()) return s;
  if (!options.reserve_path.empty() && options.reserve_bytes > 0) {
    engine->reserve_ = std::make_unique<storage::DiskReserve>(options.reserve_path, options.reserve_bytes);
    s = engine->reserve_->Ensure();
    if (!s.ok()) return s;
  }
  Engine* raw = engine.get();
  engine->wal_->set_no_space_handler([raw] {
    raw->disk_full_events_.fetch_add(1);
    if (raw->reserve_) raw->reserve_->Release();
    return raw->store_->Resume().ok();
  });
  return engine;
}

Status Engine::SyncLog() {
  Status s = store_->SyncLog();
  if (!s.ok()) NoteStorageError(s);
  return s;
}

Status Engine::CompactAll() { return NoteCompaction(compactor_->CompactAll()); }

Status Engine::PublishWaitingAlerts(int64_t waited_ms) {
  std::vector<size_t> shards = feeds_->ShardsWithAlertsWaitingSince(clock_.NowMs() - waited_ms);
  if (shards.empty()) return Status::Ok();
  return NoteCompaction(compactor_->CompactShards(shards));
}

Status Engine::NoteCompaction(Status s) {
  // Out of space for the compacted state means out of space for the log
  // soon: stop writes now, while the reserve can still take what is in flight.
  if (s.code() == Status::Code::kNoSpace) NoteStorageError(s);
  return s;
}

void Engine::NoteStorageError(const Status& s) {
  const bool was_ok = wal_->write_state() == storage::WriteState::kOk;
  wal_->OnStorageError(s);
  if (was_ok && wal_->write_state() == storage::WriteState::kDiskFull) {
    disk_full_events_.fetch_add(1);
    if (reserve_) reserve_->Release();
  }
}

Status Engine::TryResumeWrites() {
  if (wal_->write_state() != storage::WriteState::kDiskFull) return wal_->health();
  // Room for the reserve and as much again: resuming into a disk that fills
  // up at once would only flap.
  if (reserve_) {
    auto free = storage::DiskReserve::FreeBytes(reserve_->path().substr(0, reserve_->path().rfind('/') + 1));
    if (!free.ok()) return free.status();
    if (*free < 2 * reserve_->bytes()) {
      return Status::NoSpace(std::to_string(*free) + " bytes free, waiting for " +
                             std::to_string(2 * reserve_->bytes()));
    }
  }
  Status s = store_->Resume();
  if (s.ok() && reserve_) s = reserve_->Ensure();
  if (s.ok()) s = wal_->Resume();
  if (s.ok()) {
    write_resumes_.fetch_add(1);
    return s;
  }
  // Only lack of space (or RocksDB's own recovery at work) is worth waiting
  // out; anything else fails closed.
  if (s.code() != Status::Code::kNoSpace && s.code() != Status::Code::kBusy) wal_->OnStorageError(s);
  return s;
}

std::vector<EngineModule*> Engine::ModuleList() const {
  std::vector<EngineModule*> modules;
  for (const auto& module : modules_) modules.push_back(module.get());
  return modules;
}

std::vector<ModuleStats> Engine::module_stats() {
  std::vector<ModuleStats> stats;
  for (auto& module : modules_) stats.push_back(module->Stats());
  return stats;
}

}  // namespace tally::core
