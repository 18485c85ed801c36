#include "storage/log_format.h"

#include "storage/codec.h"

namespace tally::storage::log_format {

std::string LogKey(uint16_t shard, uint64_t first_seq) {
  std::string key;
  key.reserve(10);
  codec::PutBigEndian16(key, shard);
  codec::PutBigEndian64(key, first_seq);
  return key;
}

bool ParseLogKey(std::string_view key, uint16_t* shard, uint64_t* first_seq) {
  if (key.size() != 10) return false;
  *shard = codec::GetBigEndian16(key.data());
  *first_seq = codec::GetBigEndian64(key.data() + 2);
  return true;
}

namespace {
// Entry framing: op byte, payload length (varint), payload.
void AppendHeader(std::string& blob, Op op, size_t payload_size) {
  blob.push_back(static_cast<char>(op));
  codec::PutVarint(blob, payload_size);
}
size_t VarintSize(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}
}  // namespace

void AppendPlainPut(std::string& blob, std::string_view key, int64_t expire_at_ms, std::string_view value) {
  AppendHeader(blob, Op::kPlainPut, VarintSize(key.size()) + key.size() + 8 + value.size());
  codec::PutLengthPrefixed(blob, key);
  codec::PutFixed64(blob, static_cast<uint64_t>(expire_at_ms));
  blob.append(value);
}

void AppendPlainDel(std::string& blob, std::string_view key) {
  AppendHeader(blob, Op::kPlainDel, key.size());
  blob.append(key);
}

BlobReader::BlobReader(std::string_view blob) : rest_(blob) {
  if (rest_.empty() || static_cast<uint8_t>(rest_[0]) != kBlobVersion) {
    status_ = Status::Corruption("log blob has unknown version");
    rest_ = {};
    return;
  }
  rest_.remove_prefix(1);
}

bool BlobReader::Next(Entry* entry) {
  if (rest_.empty()) return false;
  uint8_t op = static_cast<uint8_t>(rest_[0]);
  rest_.remove_prefix(1);
  std::string_view payload;
  if (!codec::GetLengthPrefixed(rest_, &payload)) {
    status_ = Status::Corruption("truncated log entry");
    rest_ = {};
    return false;
  }
  entry->op = static_cast<Op>(op);
  entry->payload = payload;
  return true;
}

bool DecodePlainPut(std::string_view payload, PlainPut* out) {
  uint64_t expire = 0;
  if (!codec::GetLengthPrefixed(payload, &out->key) || !codec::GetFixed64(payload, &expire)) return false;
  out->expire_at_ms = static_cast<int64_t>(expire);
  out->value = payload;
  return true;
}

std::string EncodeKvValue(int64_t expire_at_ms, std::string_view value) {
  std::string out;
  out.reserve(8 + value.size());
  codec::PutFixed64(out, static_cast<uint64_t>(expire_at_ms));
  out.append(value);
  return out;
}

bool DecodeKvValue(std::string_view encoded, int64_t* expire_at_ms, std::string_view* value) {
  uint64_t expire = 0;
  if (!codec::GetFixed64(encoded, &expire)) return false;
  *expire_at_ms = static_cast<int64_t>(expire);
  *value = encoded;
  return true;
}

std::string CheckpointKey(uint16_t shard) {
  std::string key(kCheckpointPrefix);
  codec::PutBigEndian16(key, shard);
  return key;
}

}  // namespace tally::storage::log_format
