#include "storage/wal.h"

namespace tally::storage {

uint64_t ShardLog::last_seq() const {
  std::lock_guard<std::mutex> lock(mu_);
  return next_seq_ - 1;
}

void ShardLog::set_next_seq(uint64_t seq) {
  std::lock_guard<std::mutex> lock(mu_);
  next_seq_ = seq;
}

void ShardLog::Seal() {
  std::lock_guard<std::mutex> lock(mu_);
  if (open_.bytes.empty()) return;
  sealed_.push_back(std::move(open_));
  open_ = PendingBlob{};
}

void ShardLog::TakeBlobs(std::vector<PendingBlob>& out) {
  std::lock_guard<std::mutex> lock(mu_);
  for (PendingBlob& blob : sealed_) out.push_back(std::move(blob));
  sealed_.clear();
  if (!open_.bytes.empty()) {
    out.push_back(std::move(open_));
    open_ = PendingBlob{};
  }
}

size_t ShardLog::pending_bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  size_t bytes = open_.bytes.size();
  for (const PendingBlob& blob : sealed_) bytes += blob.bytes.size();
  return bytes;
}

WalWriter::WalWriter(Store& store, std::vector<ShardLog*> logs, bool sync)
    : store_(store), logs_(std::move(logs)), sync_(sync) {}

Status WalWriter::WaitDurable(uint64_t ticket) {
  if (durable_.load(std::memory_order_acquire) >= ticket) return Status::Ok();
  std::unique_lock<std::mutex> lock(flush_mu_);
  for (;;) {
    // Durable first: a write that landed before a failure stays acknowledged.
    if (durable_.load(std::memory_order_acquire) >= ticket) return Status::Ok();
    if (!failure_.ok()) return failure_;
    if (!writing_) break;
    written_.wait(lock);  // the write in progress may cover this ticket
  }
  lock.unlock();
  return WriteEverything(/*resuming=*/false, ticket);
}

Status WalWriter::Resume() {
  {
    std::unique_lock<std::mutex> lock(flush_mu_);
    if (state_.load() == WriteState::kOk) return Status::Ok();
    if (state_.load() == WriteState::kFailed) return failure_;
    while (writing_) written_.wait(lock);
  }
  return WriteEverything(/*resuming=*/true, 0);
}

// Writes the kept blobs and every shard's pending ones in one RocksDB write
// (unless another writer covered `ticket` meanwhile). Whoever sets writing_
// here is the writer until it clears it.
Status WalWriter::WriteEverything(bool resuming, uint64_t ticket) {
  std::unique_lock<std::mutex> lock(flush_mu_);
  while (writing_) written_.wait(lock);
  if (!resuming && durable_.load(std::memory_order_acquire) >= ticket) return Status::Ok();
  if (!resuming && !failure_.ok()) return failure_;
  if (resuming && state_.load() != WriteState::kDiskFull) return failure_;
  // This thread is the writer until writing_ is cleared.
  writing_ = true;
  // Everything appended before this increment is taken below (see Ticket()).
  const uint64_t generation = collected_.fetch_add(1, std::memory_order_seq_cst) + 1;
  lock.unlock();

  scratch_.clear();
  scratch_.swap(kept_);
  {
    // No atomic group is half-appended while the blobs are taken.
    std::unique_lock<std::shared_mutex> group(group_mu_);
    for (ShardLog* log : logs_) log->TakeBlobs(scratch_);
  }
  uint64_t entries = 0, bytes = 0;
  auto write = [&] {
    if (scratch_.empty()) return Status::Ok();
    WriteBatch batch(store_);
    entries = bytes = 0;
    for (const PendingBlob& blob : scratch_) {
      batch.Put(Family::kLog, log_format::LogKey(blob.shard, blob.first_seq), blob.bytes);
      entries += blob.entries;
      bytes += blob.bytes.size();
    }
    return store_.Write(batch, sync_);
  };
  Status s = write();
  Status no_space;
  if (s.code() == Status::Code::kNoSpace) {
    no_space = s;
    // The reserve makes room for what is already applied in memory.
    if (!resuming && no_space_handler_ && no_space_handler_()) s = write();
  }

  lock.lock();
  writing_ = false;
  if (s.ok()) {
    if (!scratch_.empty()) {
      stats_.writes++;
      stats_.blobs += scratch_.size();
      stats_.entries += entries;
      stats_.bytes += bytes;
    }
    durable_.store(generation, std::memory_order_release);
    if (!no_space.ok()) {
      // Written from the reserve: new writes wait until it is back.
      failure_ = no_space;
      state_.store(WriteState::kDiskFull, std::memory_order_release);
    } else if (resuming) {
      failure_ = Status::Ok();
      state_.store(WriteState::kOk, std::memory_order_release);
    }
  } else if (s.code() == Status::Code::kNoSpace) {
    kept_ = std::move(scratch_);  // memory holds these entries: they go first on resume
    scratch_.clear();
    failure_ = s;
    state_.store(WriteState::kDiskFull, std::memory_order_release);
  } else {
    failure_ = s;
    state_.store(WriteState::kFailed, std::memory_order_release);
  }
  lock.unlock();
  written_.notify_all();
  return s;
}

void WalWriter::OnStorageError(const Status& s) {
  if (s.ok()) return;
  std::lock_guard<std::mutex> lock(flush_mu_);
  if (state_.load() == WriteState::kFailed) return;
  if (s.code() == Status::Code::kNoSpace) {
    if (state_.load() == WriteState::kOk) {
      failure_ = s;
      state_.store(WriteState::kDiskFull, std::memory_order_release);
    }
    return;
  }
  failure_ = s;
  state_.store(WriteState::kFailed, std::memory_order_release);
}

Status WalWriter::health() const {
  if (state_.load(std::memory_order_acquire) == WriteState::kOk) return Status::Ok();  // no lock on the hot path
  std::lock_guard<std::mutex> lock(flush_mu_);
  return failure_;
}

WalStats WalWriter::stats() const {
  std::lock_guard<std::mutex> lock(flush_mu_);
  return stats_;
}

}  // namespace tally::storage
