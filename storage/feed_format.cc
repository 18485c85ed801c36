#include "storage/feed_format.h"

#include "storage/codec.h"

namespace tally::storage::feed_format {

namespace {
uint64_t ZigZag(int64_t v) { return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63); }
int64_t UnZigZag(uint64_t v) { return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1); }
bool GetZigZag(std::string_view& in, int64_t* v) {
  uint64_t raw = 0;
  if (!codec::GetVarint(in, &raw)) return false;
  *v = UnZigZag(raw);
  return true;
}
}  // namespace

std::string FeedKey(uint64_t last_seq) {
  std::string key;
  key.reserve(8);
  codec::PutBigEndian64(key, last_seq);
  return key;
}

bool ParseFeedKey(std::string_view key, uint64_t* last_seq) {
  if (key.size() != 8) return false;
  *last_seq = codec::GetBigEndian64(key.data());
  return true;
}

std::string ChangesTimeKey(uint64_t last_seq) {
  std::string key(kChangesTimePrefix);
  codec::PutBigEndian64(key, last_seq);
  return key;
}

bool ParseChangesTimeKey(std::string_view key, uint64_t* last_seq) {
  if (key.size() != kChangesTimePrefix.size() + 8 || key.substr(0, kChangesTimePrefix.size()) != kChangesTimePrefix) {
    return false;
  }
  *last_seq = codec::GetBigEndian64(key.data() + kChangesTimePrefix.size());
  return true;
}

// ---------------------------------------------------------------------------
// changes

ChangeBlobWriter::ChangeBlobWriter(uint64_t first_seq, int64_t time_ms, size_t max_records)
    : first_seq_(first_seq),
      time_ms_(time_ms),
      max_records_(max_records == 0 ? 1 : max_records),
      next_seq_(first_seq) {}

void ChangeBlobWriter::AddUpsert(std::string_view owner, std::string_view key, uint8_t interval,
                                 std::string_view period, int64_t value) {
  Add(owner, key, interval, period, value);
}

void ChangeBlobWriter::AddDelete(std::string_view owner, std::string_view key, uint8_t kind) {
  Add(owner, key, kind, {}, 0);
}

void ChangeBlobWriter::Add(std::string_view owner, std::string_view key, uint8_t kind, std::string_view period,
                           int64_t value) {
  if (blob_records_ == max_records_) CloseBlob();
  if (blob_records_ == 0) blob_first_seq_ = next_seq_;
  if (group_count_ > 0 && (owner != group_owner_ || key != group_key_)) CloseGroup();
  if (group_count_ == 0) {
    group_owner_.assign(owner);
    group_key_.assign(key);
  }
  group_records_.push_back(static_cast<char>(kind));
  if ((kind & kDeleteBit) == 0) {
    codec::PutLengthPrefixed(group_records_, period);
    codec::PutVarint(group_records_, ZigZag(value));
  }
  ++group_count_;
  ++blob_records_;
  ++next_seq_;
}

void ChangeBlobWriter::CloseGroup() {
  if (group_count_ == 0) return;
  codec::PutLengthPrefixed(body_, group_owner_);
  codec::PutLengthPrefixed(body_, group_key_);
  codec::PutVarint(body_, group_count_);
  body_.append(group_records_);
  group_records_.clear();
  group_count_ = 0;
}

void ChangeBlobWriter::CloseBlob() {
  CloseGroup();
  if (blob_records_ == 0) return;
  Blob blob;
  blob.last_seq = next_seq_ - 1;
  blob.value.reserve(body_.size() + 24);
  blob.value.push_back(static_cast<char>(kChangesBlobVersion));
  codec::PutVarint(blob.value, blob_first_seq_);
  codec::PutVarint(blob.value, blob_records_);
  codec::PutVarint(blob.value, ZigZag(time_ms_));
  blob.value.append(body_);
  blobs_.push_back(std::move(blob));
  body_.clear();
  blob_records_ = 0;
}

void ChangeBlobWriter::Finish() { CloseBlob(); }

ChangeBlobReader::ChangeBlobReader(std::string_view blob) : rest_(blob) {
  if (rest_.empty() || static_cast<uint8_t>(rest_[0]) != kChangesBlobVersion) {
    ok_ = false;
    return;
  }
  rest_.remove_prefix(1);
  ok_ = codec::GetVarint(rest_, &first_seq_) && codec::GetVarint(rest_, &count_) && GetZigZag(rest_, &time_ms_);
}

bool ChangeBlobReader::Next(ChangeRecord* record) {
  if (!ok_ || read_ == count_) return false;
  while (group_left_ == 0) {
    if (!codec::GetLengthPrefixed(rest_, &owner_) || !codec::GetLengthPrefixed(rest_, &key_) ||
        !codec::GetVarint(rest_, &group_left_)) {
      ok_ = false;
      return false;
    }
  }
  if (rest_.empty()) {
    ok_ = false;
    return false;
  }
  record->seq = first_seq_ + read_;
  record->owner = owner_;
  record->key = key_;
  record->kind = static_cast<uint8_t>(rest_[0]);
  rest_.remove_prefix(1);
  record->period = {};
  record->value = 0;
  if (!record->is_delete()) {
    if (!codec::GetLengthPrefixed(rest_, &record->period) || !GetZigZag(rest_, &record->value)) {
      ok_ = false;
      return false;
    }
  }
  --group_left_;
  ++read_;
  return true;
}

// ---------------------------------------------------------------------------
// audit

std::string EncodeAuditBlob(uint64_t first_seq, const std::vector<AuditRecord>& records) {
  std::string out;
  out.push_back(static_cast<char>(kAuditBlobVersion));
  codec::PutVarint(out, first_seq);
  codec::PutVarint(out, records.size());
  for (const AuditRecord& r : records) {
    codec::PutVarint(out, ZigZag(r.time_ms));
    codec::PutLengthPrefixed(out, r.actor);
    codec::PutLengthPrefixed(out, r.command);
    codec::PutLengthPrefixed(out, r.owner);
    codec::PutLengthPrefixed(out, r.key);
    codec::PutLengthPrefixed(out, r.details);
  }
  return out;
}

AuditBlobReader::AuditBlobReader(std::string_view blob) : rest_(blob) {
  if (rest_.empty() || static_cast<uint8_t>(rest_[0]) != kAuditBlobVersion) {
    ok_ = false;
    return;
  }
  rest_.remove_prefix(1);
  ok_ = codec::GetVarint(rest_, &first_seq_) && codec::GetVarint(rest_, &count_);
}

bool AuditBlobReader::Next(AuditRecord* record) {
  if (!ok_ || read_ == count_) return false;
  record->seq = first_seq_ + read_;
  if (!GetZigZag(rest_, &record->time_ms) || !codec::GetLengthPrefixed(rest_, &record->actor) ||
      !codec::GetLengthPrefixed(rest_, &record->command) || !codec::GetLengthPrefixed(rest_, &record->owner) ||
      !codec::GetLengthPrefixed(rest_, &record->key) || !codec::GetLengthPrefixed(rest_, &record->details)) {
    ok_ = false;
    return false;
  }
  ++read_;
  return true;
}

}  // namespace tally::storage::feed_format
