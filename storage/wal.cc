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
  if (durable_.load(std::memory_order_acquire) >= ticket && !failed_flag_.load(std::memory_order_acquire)) {
    return Status::Ok();
  }
  std::unique_lock<std::mutex> lock(flush_mu_);
  for (;;) {
    if (!failure_.ok()) return failure_;
    if (durable_.load(std::memory_order_acquire) >= ticket) return Status::Ok();
    if (!writing_) break;
    written_.wait(lock);  // the write in progress may cover this ticket
  }
  // This thread is the writer until writing_ is cleared.
  writing_ = true;
  // Everything appended before this increment is taken below (see Ticket()).
  const uint64_t generation = collected_.fetch_add(1, std::memory_order_seq_cst) + 1;
  lock.unlock();

  scratch_.clear();
  for (ShardLog* log : logs_) log->TakeBlobs(scratch_);
  Status s;
  uint64_t entries = 0, bytes = 0;
  if (!scratch_.empty()) {
    WriteBatch batch(store_);
    for (const PendingBlob& blob : scratch_) {
      batch.Put(Family::kLog, log_format::LogKey(blob.shard, blob.first_seq), blob.bytes);
      entries += blob.entries;
      bytes += blob.bytes.size();
    }
    s = store_.Write(batch, sync_);
  }

  lock.lock();
  writing_ = false;
  if (!s.ok()) {
    failure_ = s;
    failed_flag_.store(true, std::memory_order_release);
  } else {
    if (!scratch_.empty()) {
      stats_.writes++;
      stats_.blobs += scratch_.size();
      stats_.entries += entries;
      stats_.bytes += bytes;
    }
    durable_.store(generation, std::memory_order_release);
  }
  lock.unlock();
  written_.notify_all();
  return s;
}

Status WalWriter::health() const {
  if (!failed_flag_.load(std::memory_order_acquire)) return Status::Ok();  // no lock on the hot path
  std::lock_guard<std::mutex> lock(flush_mu_);
  return failure_;
}

WalStats WalWriter::stats() const {
  std::lock_guard<std::mutex> lock(flush_mu_);
  return stats_;
}

}  // namespace tally::storage
