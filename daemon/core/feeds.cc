// The changefeed (CHANGES.READ) and the audit trail (AUDIT.READ).
//
// Both get their sequence numbers at compaction, not when the change is made:
// compaction is serialised (one run at a time) and writes the cells and the
// checkpoint in ONE RocksDB batch, so writing the feed
// records into that batch makes them durable together with the state they
// describe. A crash before the batch leaves the old checkpoint and the log;
// replay rebuilds the same dirty state (audits from their log entries), and
// the next compaction writes the records again from the same next seq, which
// no reader has seen. A crash after it leaves the records, the next seq and
// the checkpoint together. Readers only see seqs up to the last *synced*
// write (Publish), so a seq never changes meaning, even after a power
// loss. See docs/changefeed.md and storage/FORMAT.md.

#include "core/feeds.h"
#include "core/read_errors.h"

#include <algorithm>
#include <deque>

#include "storage/codec.h"

namespace tally::core {

namespace ff = storage::feed_format;
namespace lf = storage::log_format;
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
  ReadFault fault;
  if (!fault.Check(Family::kMeta, key, value.status())) {
    if (status->ok()) *status = fault.ToStatus();
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
  ReadFault fault;
  fault.Check(family, ff::FeedKey(since + 1), s);
  if (corrupt) fault.Check(family, ff::FeedKey(since + 1), Status::Corruption("undecodable feed record"));
  if (fault) return fault.Result<Page>();
  if (gap || page.records.empty()) {
    // since < visible, yet since + 1 is gone: trimmed while we looked.
    page.records.clear();
    page.cursor = FeedCursor::kTooOld;
    return OpResult<Page>::Ok(std::move(page));
  }
  page.next = page.records.back().seq;
  return OpResult<Page>::Ok(std::move(page));
}

// `pattern` empty, equal to `value`, or ending in '*' and a prefix of it.
bool FieldMatches(std::string_view pattern, std::string_view value) {
  if (pattern.empty()) return true;
  if (pattern.back() == '*') return value.starts_with(pattern.substr(0, pattern.size() - 1));
  return value == pattern;
}

bool RecordMatches(const RecordFilter& filter, const ff::AuditRecord& r) {
  return FieldMatches(filter.actor, r.actor) && FieldMatches(filter.command, r.command) &&
         FieldMatches(filter.owner, r.owner) && FieldMatches(filter.key, r.key);
}

AuditEntry ToEntry(const ff::AuditRecord& r) {
  return {r.seq,
          r.time_ms,
          std::string(r.actor),
          std::string(r.command),
          std::string(r.owner),
          std::string(r.key),
          std::string(r.details)};
}

}  // namespace

bool ValidActor(std::string_view actor) {
  if (actor.empty() || actor.size() > 128 || actor.front() == ' ' || actor.back() == ' ') return false;
  for (char c : actor) {
    if (c < ' ' || c > '~') return false;
  }
  return true;
}

FeedsModule::FeedsModule(ShardSet& shards, storage::Store& store, const Clock& clock, int64_t changes_retention_ms)
    : shard_set_(shards), store_(store), clock_(clock), changes_retention_ms_(changes_retention_ms) {}

std::vector<storage::log_format::Op> FeedsModule::log_ops() const { return {storage::log_format::Op::kAudited}; }

Status FeedsModule::LoadCompacted() {
  std::lock_guard<std::mutex> lock(mu_);
  Status s;
  changes_next_ = changes_tentative_ = std::max<uint64_t>(1, ReadFixed64(store_, ff::kChangesNextKey, 1, &s));
  bool any = changes_next_ > 1;
  for (Stream& stream : streams_) {
    stream.next = stream.tentative = std::max<uint64_t>(1, ReadFixed64(store_, stream.next_key, 1, &s));
    any = any || stream.next > 1;
  }
  const uint64_t trimmed = ReadFixed64(store_, ff::kChangesTrimmedKey, 0, &s);
  if (!s.ok()) return s;
  // What a previous process wrote may still be only in the OS: make it
  // durable before anyone can read it.
  if (any) {
    s = store_.SyncLog();
    if (!s.ok()) return s;
  }
  changes_trimmed_.store(std::min(trimmed, changes_next_ - 1), std::memory_order_release);
  changes_visible_.store(changes_next_ - 1, std::memory_order_release);
  for (Stream& stream : streams_) stream.visible.store(stream.next - 1, std::memory_order_release);
  return Status::Ok();
}

// ---------------------------------------------------------------------------
// Audited changes

void FeedsModule::LogAudited(const ShardRef& shard, const AuditInfo& audit, std::string_view owner,
                             std::string_view key, std::string details, std::string_view inner_entry) {
  PendingAudit pending{clock_.NowMs(),     std::string(audit.actor), std::string(audit.command),
                       std::string(owner), std::string(key),         std::move(details)};
  lf::Audit entry{pending.time_ms, pending.actor, pending.command, pending.owner, pending.key, pending.details};
  shard.Append([&](std::string& blob) { lf::AppendAudited(blob, entry, inner_entry); });
  shards_[shard.index()].pending[kAuditStream].push_back(std::move(pending));
}

void FeedsModule::QueueAlert(const ShardRef& shard, int64_t time_ms, std::string_view kind, std::string_view owner,
                             std::string_view feature, std::string details) {
  Shard& state = shards_[shard.index()];
  state.pending[kAlertStream].push_back(
      {time_ms, "", std::string(kind), std::string(owner), std::string(feature), std::move(details)});
  if (state.alerts_waiting_since_ms.load(std::memory_order_relaxed) == 0) {
    state.alerts_waiting_since_ms.store(clock_.NowMs(), std::memory_order_relaxed);
  }
}

std::vector<size_t> FeedsModule::ShardsWithAlertsWaitingSince(int64_t cutoff_ms) const {
  std::vector<size_t> out;
  for (size_t i = 0; i < kShardCount; ++i) {
    const int64_t since = shards_[i].alerts_waiting_since_ms.load(std::memory_order_relaxed);
    if (since != 0 && since <= cutoff_ms) out.push_back(i);
  }
  return out;
}

Status FeedsModule::Replay(const lf::Entry& entry, const ReplayContext& context) {
  lf::Audit audit;
  lf::Entry inner;
  if (!lf::DecodeAudited(entry.payload, &audit, &inner)) return Status::Corruption("malformed audited entry");
  Status s = context.Dispatch(inner);
  if (!s.ok()) return s;
  // The audit record was not compacted yet (this entry is past the
  // checkpoint): the next compaction gives it its seq.
  shards_[context.shard.index()].pending[kAuditStream].push_back({audit.time_ms, std::string(audit.actor),
                                                                  std::string(audit.command), std::string(audit.owner),
                                                                  std::string(audit.key), std::string(audit.details)});
  return Status::Ok();
}

// ---------------------------------------------------------------------------
// Compaction

ff::ChangeBlobWriter FeedsModule::StartChanges() {
  std::lock_guard<std::mutex> lock(mu_);
  return ff::ChangeBlobWriter(changes_next_, clock_.NowMs());
}

void FeedsModule::Snapshot(const ShardRef& ref) {
  Shard& shard = shards_[ref.index()];
  for (int i = 0; i < kStreamCount; ++i) {
    shard.snapshot[i].clear();
    shard.snapshot[i].swap(shard.pending[i]);
  }
  shard.alerts_waiting_since_ms.store(0, std::memory_order_relaxed);
}

Status FeedsModule::WriteSnapshot(CompactionBatch& batch) {
  ff::ChangeBlobWriter& changes = batch.changes;
  changes.Finish();
  const std::string now_value = Fixed64(static_cast<uint64_t>(clock_.NowMs()));
  for (const ff::ChangeBlobWriter::Blob& blob : changes.blobs()) {
    batch.batch.Put(Family::kChanges, ff::FeedKey(blob.last_seq), blob.value);
    batch.batch.Put(Family::kMeta, ff::ChangesTimeKey(blob.last_seq), now_value);  // for trimming by age
  }
  std::lock_guard<std::mutex> lock(mu_);
  changes_tentative_ = changes.next_seq();
  if (changes.records() > 0) batch.batch.Put(Family::kMeta, ff::kChangesNextKey, Fixed64(changes_tentative_));

  // Audits and alerts: one blob per stream per shard compaction (they are
  // rare). The snapshot is only touched by this thread until FinishSnapshot.
  for (int i = 0; i < kStreamCount; ++i) {
    Stream& stream = streams_[i];
    stream.tentative = stream.next;
    const std::vector<PendingAudit>& pending = shards_[batch.shard].snapshot[i];
    if (pending.empty()) continue;
    std::vector<ff::AuditRecord> records;
    records.reserve(pending.size());
    for (const PendingAudit& a : pending)
      records.push_back({0, a.time_ms, a.actor, a.command, a.owner, a.key, a.details});
    stream.tentative = stream.next + records.size();
    batch.batch.Put(stream.family, ff::FeedKey(stream.tentative - 1), ff::EncodeAuditBlob(stream.next, records));
    batch.batch.Put(Family::kMeta, stream.next_key, Fixed64(stream.tentative));
    batch.written += records.size();
  }
  return Status::Ok();
}

void FeedsModule::FinishSnapshot(const ShardRef& ref, bool ok) {
  Shard& shard = shards_[ref.index()];
  for (int i = 0; i < kStreamCount; ++i) {
    if (!ok) {
      // Records go back in front of those logged meanwhile (log order).
      shard.pending[i].insert(shard.pending[i].begin(), std::make_move_iterator(shard.snapshot[i].begin()),
                              std::make_move_iterator(shard.snapshot[i].end()));
    }
    shard.snapshot[i].clear();
  }
  if (!shard.pending[kAlertStream].empty() && shard.alerts_waiting_since_ms.load(std::memory_order_relaxed) == 0) {
    shard.alerts_waiting_since_ms.store(clock_.NowMs(), std::memory_order_relaxed);
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (ok) {
    changes_next_ = changes_tentative_;
    for (Stream& stream : streams_) stream.next = stream.tentative;
  } else {
    changes_tentative_ = changes_next_;
    for (Stream& stream : streams_) stream.tentative = stream.next;
  }
}

ModuleStats FeedsModule::Stats() {
  ModuleStats stats{name()};
  for (size_t i = 0; i < kShardCount; ++i) {
    shard_set_.Locked(i, [&](const ShardRef& ref) {
      for (const auto& pending : shards_[ref.index()].pending) {
        stats.items += pending.size();
        stats.pending += pending.size();
      }
    });
  }
  return stats;
}

Status FeedsModule::Publish() {
  uint64_t changes_written = 0;
  uint64_t stream_written[kStreamCount] = {};
  bool unpublished = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    changes_written = changes_next_ - 1;
    unpublished = changes_written > changes_visible_.load(std::memory_order_acquire);
    for (int i = 0; i < kStreamCount; ++i) {
      stream_written[i] = streams_[i].next - 1;
      unpublished = unpublished || stream_written[i] > streams_[i].visible.load(std::memory_order_acquire);
    }
  }
  if (unpublished) {
    // One fsync of RocksDB's log per compaction run that wrote records:
    // until then a power loss could take back records a reader has seen.
    Status s = store_.SyncLog();
    if (!s.ok()) return s;
    RaiseTo(changes_visible_, changes_written);
    for (int i = 0; i < kStreamCount; ++i) RaiseTo(streams_[i].visible, stream_written[i]);
  }

  // Trim change records older than the retention: whole blobs, oldest first
  // (a prefix of the seqs), found through the small time index in meta.
  const int64_t retention = changes_retention_ms_;
  if (retention <= 0) return Status::Ok();
  std::lock_guard<std::mutex> lock(mu_);
  const int64_t cutoff = clock_.NowMs() - retention;
  const uint64_t visible = changes_visible_.load(std::memory_order_acquire);
  constexpr size_t kMaxTrimPerRun = 100000;
  std::vector<uint64_t> expired;
  std::string end(ff::kChangesTimePrefix);
  end.back() = static_cast<char>(end.back() + 1);
  Status s = store_.Scan(Family::kMeta, ff::kChangesTimePrefix, end, [&](std::string_view key, std::string_view value) {
    uint64_t last_seq = 0;
    if (!ff::ParseChangesTimeKey(key, &last_seq) || value.size() != 8) return true;
    const int64_t written_ms = static_cast<int64_t>(storage::codec::GetFixed64(value.data()));
    if (written_ms >= cutoff || last_seq > visible) return false;
    expired.push_back(last_seq);
    return expired.size() < kMaxTrimPerRun;
  });
  if (!s.ok() || expired.empty()) return s;
  storage::WriteBatch batch(store_);
  for (uint64_t last_seq : expired) {
    batch.Delete(Family::kChanges, ff::FeedKey(last_seq));
    batch.Delete(Family::kMeta, ff::ChangesTimeKey(last_seq));
  }
  batch.Put(Family::kMeta, ff::kChangesTrimmedKey, Fixed64(expired.back()));
  s = store_.Write(batch, false);
  // A reader that checked the old trim point and then finds its next record
  // gone sees the gap and reports the cursor as too old (ReadFeed).
  if (s.ok()) RaiseTo(changes_trimmed_, expired.back());
  return s;
}

OpResult<ChangesPage> FeedsModule::ReadChanges(uint64_t since, size_t limit) {
  const uint64_t visible = changes_visible_.load(std::memory_order_acquire);
  const uint64_t trimmed = changes_trimmed_.load(std::memory_order_acquire);
  return ReadFeed<ChangesPage>(store_, Family::kChanges, since, limit, visible, trimmed,
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

OpResult<AuditPage> FeedsModule::ReadAudit(uint64_t since, size_t limit) {
  return ReadRecords(kAuditStream, since, limit);
}

OpResult<AuditPage> FeedsModule::ReadAlerts(uint64_t since, size_t limit) {
  return ReadRecords(kAlertStream, since, limit);
}

OpResult<AuditPage> FeedsModule::ReadRecords(StreamId id, uint64_t since, size_t limit) {
  const Stream& stream = streams_[id];
  const uint64_t visible = stream.visible.load(std::memory_order_acquire);
  return ReadFeed<AuditPage>(store_, stream.family, since, limit, visible, 0, [](std::string_view value, auto&& emit) {
    ff::AuditBlobReader reader(value);
    ff::AuditRecord r;
    while (reader.Next(&r)) {
      if (!emit(r.seq, ToEntry(r))) return true;
    }
    return reader.ok();
  });
}

OpResult<AuditPage> FeedsModule::QueryAudit(const RecordQuery& query) { return QueryRecords(kAuditStream, query); }

OpResult<AuditPage> FeedsModule::QueryAlerts(const RecordQuery& query) { return QueryRecords(kAlertStream, query); }

// Both orders read blobs forward (a blob's key is its last seq, so the blob
// holding seq s is the first key >= FeedKey(s)). Newest first goes down in
// windows: the records of [low, cur] are read forward in one scan, then
// looked at from cur down; a window is as large as what is still wanted (the
// records asked for, or with a filter the examination budget left), so an
// unfiltered page of 50 reads about 50 records. The audit trail and the
// alert log are never trimmed: seqs are dense from 1, and a hole is
// corruption.
OpResult<AuditPage> FeedsModule::QueryRecords(StreamId id, const RecordQuery& query) {
  const Stream& stream = streams_[id];
  const uint64_t visible = stream.visible.load(std::memory_order_acquire);
  AuditPage page;
  page.newest = visible;
  page.oldest = 1;
  page.next = query.newest_first ? 0 : query.since;
  if (query.since > visible) {
    page.cursor = FeedCursor::kAhead;
    return OpResult<AuditPage>::Ok(std::move(page));
  }
  uint64_t upper = visible;  // the highest seq to look at
  if (query.before != 0) upper = std::min(upper, query.before - 1);
  if (upper <= query.since || query.limit == 0 || query.max_examined == 0) {
    return OpResult<AuditPage>::Ok(std::move(page));
  }
  const std::string end = ff::FeedKey(visible + 1);
  size_t examined = 0;
  bool corrupt = false;
  ReadFault fault;

  if (!query.newest_first) {
    uint64_t expect = query.since + 1;
    Status s =
        store_.Scan(stream.family, ff::FeedKey(query.since + 1), end, [&](std::string_view, std::string_view value) {
          ff::AuditBlobReader reader(value);
          ff::AuditRecord r;
          while (reader.Next(&r)) {
            if (r.seq <= query.since) continue;
            if (r.seq > upper) return false;
            if (r.seq != expect) return !(corrupt = true);
            ++expect;
            ++examined;
            page.next = r.seq;
            if (RecordMatches(query.filter, r)) page.records.push_back(ToEntry(r));
            if (page.records.size() >= query.limit || examined >= query.max_examined) {
              return false;
            }
          }
          if (!reader.ok()) corrupt = true;
          return reader.ok();
        });
    fault.Check(stream.family, ff::FeedKey(query.since + 1), s);
  } else {
    uint64_t cur = upper;  // the highest seq not looked at yet
    bool done = false;
    while (cur > query.since && !done && !corrupt && !fault) {
      size_t wanted = query.max_examined - examined;
      if (query.filter.empty()) wanted = std::min(wanted, query.limit - page.records.size());
      const uint64_t span = std::min<uint64_t>(std::max<size_t>(wanted, 1), cur - query.since);
      const uint64_t low = cur - span + 1;
      std::deque<std::string> blobs;  // the records below point into these
      std::vector<ff::AuditRecord> window;
      window.reserve(static_cast<size_t>(span));
      Status s = store_.Scan(stream.family, ff::FeedKey(low), end, [&](std::string_view, std::string_view value) {
        const std::string& blob = blobs.emplace_back(value);
        ff::AuditBlobReader reader(blob);
        ff::AuditRecord r;
        while (reader.Next(&r)) {
          if (r.seq < low) continue;
          if (r.seq > cur) return false;
          if (r.seq != low + window.size()) return !(corrupt = true);
          window.push_back(r);
        }
        if (!reader.ok()) corrupt = true;
        return reader.ok() && (window.empty() || window.back().seq < cur);
      });
      fault.Check(stream.family, ff::FeedKey(low), s);
      if (fault || corrupt) break;
      if (window.size() != span) {
        corrupt = true;
        break;
      }
      for (auto r = window.rbegin(); r != window.rend(); ++r) {
        ++examined;
        cur = r->seq - 1;
        if (RecordMatches(query.filter, *r)) page.records.push_back(ToEntry(*r));
        if (page.records.size() >= query.limit || examined >= query.max_examined) {
          done = true;
          break;
        }
      }
    }
    page.next = cur > query.since ? cur + 1 : 0;
  }
  if (corrupt) fault.Check(stream.family, ff::FeedKey(query.since + 1), Status::Corruption("undecodable feed record"));
  if (fault) return fault.Result<AuditPage>();
  return OpResult<AuditPage>::Ok(std::move(page));
}

}  // namespace tally::core
