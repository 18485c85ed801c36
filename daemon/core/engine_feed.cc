// The changefeed (CHANGES.READ) and the audit trail (AUDIT.READ).
//
// Both get their sequence numbers at compaction, not when the change is made:
// compaction is serialised (compaction_mu_) and writes the cells, the
// checkpoint and the trim of the log in ONE RocksDB batch, so writing the feed
// records into that batch makes them durable together with the state they
// describe. A crash before the batch leaves the old checkpoint and the log;
// replay rebuilds the same dirty state (audits from their log entries), and
// the next compaction writes the records again from the same next seq, which
// no reader has seen. A crash after it leaves the records, the next seq and
// the checkpoint together. Readers only see seqs up to the last *synced*
// write (PublishFeeds), so a seq never changes meaning, even after a power
// loss. See docs/changefeed.md and storage/FORMAT.md.

#include <algorithm>

#include "core/engine.h"
#include "storage/codec.h"

namespace tally::core {

namespace ff = storage::feed_format;
using storage::Family;
using storage::Status;

namespace {

std::string Fixed64(uint64_t v) {
  std::string out;
  storage::codec::PutFixed64(out, v);
  return out;
}

uint64_t ReadFixed64(storage::Store& store, std::string_view key, uint64_t fallback, Status* status) {
  auto value = store.Get(Family::kMeta, key);
  if (!value.ok()) {
    *status = value.status();
    return fallback;
  }
  if (!value.value() || value.value()->size() != 8) return fallback;
  return storage::codec::GetFixed64(value.value()->data());
}

void RaiseTo(std::atomic<uint64_t>& target, uint64_t value) {
  uint64_t current = target.load(std::memory_order_acquire);
  while (current < value && !target.compare_exchange_weak(current, value, std::memory_order_acq_rel)) {
  }
}

// Reads records with seq > since from a feed family, checking that they are
// consecutive from since + 1 (anything else means the records were trimmed
// under the reader). `Decode(value, emit)` calls emit(seq, record) per record
// in order; emit returns false to stop.
template <typename Page, typename Decode>
OpResult<Page> ReadFeed(storage::Store& store, Family family, uint64_t since, size_t limit, uint64_t visible,
                        uint64_t trimmed, Decode&& decode) {
  Page page;
  page.newest = visible;
  page.oldest = trimmed + 1;
  page.next = since;
  if (since > visible) {
    page.cursor = FeedCursor::kAhead;
    return OpResult<Page>::Ok(std::move(page));
  }
  if (since < trimmed) {
    page.cursor = FeedCursor::kTooOld;
    return OpResult<Page>::Ok(std::move(page));
  }
  if (since == visible || limit == 0) return OpResult<Page>::Ok(std::move(page));
  uint64_t expect = since + 1;
  bool gap = false, corrupt = false;
  Status s = store.Scan(family, ff::FeedKey(since + 1), ff::FeedKey(visible + 1),
                        [&](std::string_view, std::string_view value) {
                          bool more = true;
                          bool ok = decode(value, [&](uint64_t seq, auto&& record) {
                            if (seq <= since) return true;
                            if (seq != expect) {
                              gap = true;
                              return more = false;
                            }
                            ++expect;
                            page.records.push_back(std::move(record));
                            if (page.records.size() >= limit) more = false;
                            return more;
                          });
                          if (!ok) corrupt = true;
                          return more && ok;
                        });
  if (!s.ok() || corrupt) return OpResult<Page>::Error(OpStatus::kStorageFailed);
  if (gap || page.records.empty()) {
    // since < visible, yet since + 1 is gone: trimmed while we looked.
    page.records.clear();
    page.cursor = FeedCursor::kTooOld;
    return OpResult<Page>::Ok(std::move(page));
  }
  page.next = page.records.back().seq;
  return OpResult<Page>::Ok(std::move(page));
}

}  // namespace

bool ValidActor(std::string_view actor) {
  if (actor.empty() || actor.size() > 128 || actor.front() == ' ' || actor.back() == ' ') return false;
  for (char c : actor) {
    if (c < ' ' || c > '~') return false;
  }
  return true;
}

Status Engine::LoadFeeds() {
  Status s;
  changes_next_ = changes_tentative_ = std::max<uint64_t>(1, ReadFixed64(*store_, ff::kChangesNextKey, 1, &s));
  audit_next_ = audit_tentative_ = std::max<uint64_t>(1, ReadFixed64(*store_, ff::kAuditNextKey, 1, &s));
  const uint64_t trimmed = ReadFixed64(*store_, ff::kChangesTrimmedKey, 0, &s);
  if (!s.ok()) return s;
  // What a previous process wrote may still be only in the OS: make it
  // durable before anyone can read it.
  if (changes_next_ > 1 || audit_next_ > 1) {
    s = store_->SyncLog();
    if (!s.ok()) return s;
  }
  changes_trimmed_.store(std::min(trimmed, changes_next_ - 1), std::memory_order_release);
  changes_visible_.store(changes_next_ - 1, std::memory_order_release);
  audit_visible_.store(audit_next_ - 1, std::memory_order_release);
  return Status::Ok();
}

void Engine::AppendFeeds(Shard& shard, ff::ChangeBlobWriter& changes, storage::WriteBatch& batch, size_t* written) {
  changes.Finish();
  const int64_t now = clock_.NowMs();
  const std::string now_value = Fixed64(static_cast<uint64_t>(now));
  for (const ff::ChangeBlobWriter::Blob& blob : changes.blobs()) {
    batch.Put(Family::kChanges, ff::FeedKey(blob.last_seq), blob.value);
    batch.Put(Family::kMeta, ff::ChangesTimeKey(blob.last_seq), now_value);  // for trimming by age
  }
  changes_tentative_ = changes.next_seq();
  if (changes.records() > 0) batch.Put(Family::kMeta, ff::kChangesNextKey, Fixed64(changes_tentative_));

  // Audits: one blob per shard compaction (they are rare). The snapshot
  // vector is only touched by this thread until FinishCounterCompaction.
  audit_tentative_ = audit_next_;
  if (!shard.snapshot_audits.empty()) {
    std::vector<ff::AuditRecord> records;
    records.reserve(shard.snapshot_audits.size());
    for (const Shard::PendingAudit& a : shard.snapshot_audits) {
      records.push_back({0, a.time_ms, a.actor, a.command, a.owner, a.key, a.details});
    }
    audit_tentative_ = audit_next_ + records.size();
    batch.Put(Family::kAudit, ff::FeedKey(audit_tentative_ - 1), ff::EncodeAuditBlob(audit_next_, records));
    batch.Put(Family::kMeta, ff::kAuditNextKey, Fixed64(audit_tentative_));
    *written += records.size();
  }
}

void Engine::FinishFeeds(bool ok) {
  if (ok) {
    changes_next_ = changes_tentative_;
    audit_next_ = audit_tentative_;
  } else {
    changes_tentative_ = changes_next_;
    audit_tentative_ = audit_next_;
  }
}

Status Engine::PublishFeeds() {
  uint64_t changes_written = 0, audit_written = 0;
  {
    std::lock_guard<std::mutex> lock(compaction_mu_);
    changes_written = changes_next_ - 1;
    audit_written = audit_next_ - 1;
  }
  if (changes_written > changes_visible_.load(std::memory_order_acquire) ||
      audit_written > audit_visible_.load(std::memory_order_acquire)) {
    // One fsync of RocksDB's log per compaction run that wrote records:
    // until then a power loss could take back records a reader has seen.
    Status s = store_->SyncLog();
    if (!s.ok()) return s;
    RaiseTo(changes_visible_, changes_written);
    RaiseTo(audit_visible_, audit_written);
  }

  // Trim change records older than the retention: whole blobs, oldest first
  // (a prefix of the seqs), found through the small time index in meta.
  const int64_t retention = counter_options_.changes_retention_ms;
  if (retention <= 0) return Status::Ok();
  std::lock_guard<std::mutex> lock(compaction_mu_);
  const int64_t cutoff = clock_.NowMs() - retention;
  const uint64_t visible = changes_visible_.load(std::memory_order_acquire);
  constexpr size_t kMaxTrimPerRun = 100000;
  std::vector<uint64_t> expired;
  std::string end(ff::kChangesTimePrefix);
  end.back() = static_cast<char>(end.back() + 1);
  Status s =
      store_->Scan(Family::kMeta, ff::kChangesTimePrefix, end, [&](std::string_view key, std::string_view value) {
        uint64_t last_seq = 0;
        if (!ff::ParseChangesTimeKey(key, &last_seq) || value.size() != 8) return true;
        const int64_t written_ms = static_cast<int64_t>(storage::codec::GetFixed64(value.data()));
        if (written_ms >= cutoff || last_seq > visible) return false;
        expired.push_back(last_seq);
        return expired.size() < kMaxTrimPerRun;
      });
  if (!s.ok() || expired.empty()) return s;
  storage::WriteBatch batch(*store_);
  for (uint64_t last_seq : expired) {
    batch.Delete(Family::kChanges, ff::FeedKey(last_seq));
    batch.Delete(Family::kMeta, ff::ChangesTimeKey(last_seq));
  }
  batch.Put(Family::kMeta, ff::kChangesTrimmedKey, Fixed64(expired.back()));
  s = store_->Write(batch, false);
  // A reader that checked the old trim point and then finds its next record
  // gone sees the gap and reports the cursor as too old (ReadFeed).
  if (s.ok()) RaiseTo(changes_trimmed_, expired.back());
  return s;
}

OpResult<ChangesPage> Engine::ReadChanges(uint64_t since, size_t limit) {
  const uint64_t visible = changes_visible_.load(std::memory_order_acquire);
  const uint64_t trimmed = changes_trimmed_.load(std::memory_order_acquire);
  return ReadFeed<ChangesPage>(*store_, Family::kChanges, since, limit, visible, trimmed,
                               [](std::string_view value, auto&& emit) {
                                 ff::ChangeBlobReader reader(value);
                                 ff::ChangeRecord r;
                                 while (reader.Next(&r)) {
                                   ChangeEntry entry;
                                   entry.seq = r.seq;
                                   entry.owner.assign(r.owner);
                                   entry.key.assign(r.key);
                                   if (r.kind == ff::kDeleteAll) {
                                     // every cell: interval and value stay empty
                                   } else if (r.is_delete()) {
                                     const uint8_t interval = r.kind & static_cast<uint8_t>(~ff::kDeleteBit);
                                     if (interval >= kIntervalCount) return false;
                                     entry.interval = static_cast<Interval>(interval);
                                   } else {
                                     if (r.kind >= kIntervalCount) return false;
                                     entry.interval = static_cast<Interval>(r.kind);
                                     entry.period.assign(r.period);
                                     entry.value = r.value;
                                   }
                                   if (!emit(r.seq, std::move(entry))) return true;
                                 }
                                 return reader.ok();
                               });
}

OpResult<AuditPage> Engine::ReadAudit(uint64_t since, size_t limit) {
  const uint64_t visible = audit_visible_.load(std::memory_order_acquire);
  return ReadFeed<AuditPage>(*store_, Family::kAudit, since, limit, visible, 0,
                             [](std::string_view value, auto&& emit) {
                               ff::AuditBlobReader reader(value);
                               ff::AuditRecord r;
                               while (reader.Next(&r)) {
                                 AuditEntry entry{r.seq,
                                                  r.time_ms,
                                                  std::string(r.actor),
                                                  std::string(r.command),
                                                  std::string(r.owner),
                                                  std::string(r.key),
                                                  std::string(r.details)};
                                 if (!emit(r.seq, std::move(entry))) return true;
                               }
                               return reader.ok();
                             });
}

}  // namespace tally::core
