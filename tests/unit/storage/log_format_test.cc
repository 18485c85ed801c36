// storage/log_format.h: log keys, blobs of entries and kv values.
#include "storage/log_format.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace tally::storage::log_format {
namespace {

// A blob as ShardLog builds it: the version byte, then entries.
std::string NewBlob() { return std::string(1, static_cast<char>(kBlobVersion)); }

// Reads a blob to the end; returns the entries and leaves the final status.
std::vector<Entry> ReadAll(std::string_view blob, Status* status) {
  BlobReader reader(blob);
  std::vector<Entry> entries;
  Entry entry;
  while (reader.Next(&entry)) entries.push_back(entry);
  *status = reader.status();
  return entries;
}

TEST(LogKey, RoundTripsShardAndSequence) {
  const std::string key = LogKey(513, 0x0102030405060708ULL);
  EXPECT_EQ(key.size(), 10u);
  uint16_t shard = 0;
  uint64_t seq = 0;
  ASSERT_TRUE(ParseLogKey(key, &shard, &seq));
  EXPECT_EQ(shard, 513);
  EXPECT_EQ(seq, 0x0102030405060708ULL);
}

TEST(LogKey, SortsByShardThenByNumericSequence) {
  EXPECT_LT(LogKey(0, 255), LogKey(0, 256));
  EXPECT_LT(LogKey(0, 1), LogKey(0, UINT64_MAX));
  EXPECT_LT(LogKey(0, UINT64_MAX), LogKey(1, 0));
  EXPECT_LT(LogKey(255, 7), LogKey(256, 0));
}

TEST(LogKey, WrongSizeIsRejected) {
  uint16_t shard = 0;
  uint64_t seq = 0;
  EXPECT_FALSE(ParseLogKey("", &shard, &seq));
  EXPECT_FALSE(ParseLogKey(LogKey(1, 2).substr(0, 9), &shard, &seq));
  EXPECT_FALSE(ParseLogKey(LogKey(1, 2) + "x", &shard, &seq));
}

TEST(BlobReader, ReadsBackMixedEntriesInOrder) {
  std::string blob = NewBlob();
  AppendPlainPut(blob, "alpha", 0, "1");
  AppendPlainDel(blob, "beta");
  AppendPlainPut(blob, std::string("bin\0key", 7), -5, std::string("v\0\xff", 3));
  AppendPlainPut(blob, "big", 1'700'000'000'123, std::string(1000, 'z'));  // multi-byte length
  AppendPlainPut(blob, "", 0, "");

  Status status;
  std::vector<Entry> entries = ReadAll(blob, &status);
  ASSERT_TRUE(status.ok()) << status.ToString();
  ASSERT_EQ(entries.size(), 5u);

  PlainPut put;
  EXPECT_EQ(entries[0].op, Op::kPlainPut);
  ASSERT_TRUE(DecodePlainPut(entries[0].payload, &put));
  EXPECT_EQ(put.key, "alpha");
  EXPECT_EQ(put.expire_at_ms, 0);
  EXPECT_EQ(put.value, "1");

  EXPECT_EQ(entries[1].op, Op::kPlainDel);
  EXPECT_EQ(entries[1].payload, "beta");

  ASSERT_TRUE(DecodePlainPut(entries[2].payload, &put));
  EXPECT_EQ(put.key, std::string("bin\0key", 7));
  EXPECT_EQ(put.expire_at_ms, -5);
  EXPECT_EQ(put.value, std::string("v\0\xff", 3));

  ASSERT_TRUE(DecodePlainPut(entries[3].payload, &put));
  EXPECT_EQ(put.key, "big");
  EXPECT_EQ(put.expire_at_ms, 1'700'000'000'123);
  EXPECT_EQ(put.value, std::string(1000, 'z'));

  ASSERT_TRUE(DecodePlainPut(entries[4].payload, &put));
  EXPECT_EQ(put.key, "");
  EXPECT_EQ(put.value, "");
}

TEST(BlobReader, VersionByteAloneIsAnEmptyValidBlob) {
  Status status;
  EXPECT_TRUE(ReadAll(NewBlob(), &status).empty());
  EXPECT_TRUE(status.ok());
}

TEST(BlobReader, EmptyBlobIsCorruption) {
  Status status;
  EXPECT_TRUE(ReadAll("", &status).empty());
  EXPECT_EQ(status.code(), Status::Code::kCorruption);
}

TEST(BlobReader, UnknownVersionIsCorruption) {
  std::string blob = NewBlob();
  AppendPlainDel(blob, "k");
  blob[0] = static_cast<char>(kBlobVersion + 1);
  Status status;
  EXPECT_TRUE(ReadAll(blob, &status).empty());
  EXPECT_EQ(status.code(), Status::Code::kCorruption);
  EXPECT_NE(status.message().find("version"), std::string::npos) << status.message();
}

TEST(BlobReader, EveryTruncationEndsCleanlyAtAnEntryBoundaryOrReportsCorruption) {
  std::string blob = NewBlob();
  std::vector<size_t> boundaries = {blob.size()};
  AppendPlainPut(blob, "counter", 0, "42");
  boundaries.push_back(blob.size());
  AppendPlainDel(blob, "gone");
  boundaries.push_back(blob.size());
  AppendPlainPut(blob, "long", 99, std::string(200, 'v'));
  boundaries.push_back(blob.size());

  for (size_t length = 0; length <= blob.size(); ++length) {
    Status status;
    std::vector<Entry> entries = ReadAll(std::string_view(blob.data(), length), &status);
    auto boundary = std::find(boundaries.begin(), boundaries.end(), length);
    if (boundary != boundaries.end()) {
      EXPECT_TRUE(status.ok()) << "length " << length;
      EXPECT_EQ(entries.size(), static_cast<size_t>(boundary - boundaries.begin())) << "length " << length;
    } else {
      EXPECT_EQ(status.code(), Status::Code::kCorruption) << "length " << length;
      EXPECT_LT(entries.size(), boundaries.size() - 1) << "length " << length;
    }
  }
}

TEST(BlobReader, EntryLengthPastTheEndIsCorruption) {
  std::string blob = NewBlob();
  blob.push_back(static_cast<char>(Op::kPlainDel));
  blob.push_back(static_cast<char>(100));  // claims 100 payload bytes
  blob.append("abc");
  Status status;
  EXPECT_TRUE(ReadAll(blob, &status).empty());
  EXPECT_EQ(status.code(), Status::Code::kCorruption);
}

TEST(BlobReader, ReadingPastCorruptionKeepsReturningFalse) {
  std::string blob = NewBlob();
  AppendPlainDel(blob, "ok");
  blob.push_back(static_cast<char>(Op::kPlainDel));  // header without a length
  BlobReader reader(blob);
  Entry entry;
  ASSERT_TRUE(reader.Next(&entry));
  EXPECT_FALSE(reader.Next(&entry));
  EXPECT_FALSE(reader.Next(&entry));
  EXPECT_EQ(reader.status().code(), Status::Code::kCorruption);
}

// Random byte flips, cuts and garbage never crash the reader or the decoders
// (run under TALLY_SANITIZE to catch out-of-bounds reads).
TEST(BlobReader, RandomlyCorruptedBlobsNeverCrash) {
  std::string valid = NewBlob();
  for (int i = 0; i < 20; ++i) {
    AppendPlainPut(valid, "key" + std::to_string(i), i * 1000, std::string(i * 3, 'v'));
    AppendPlainDel(valid, "del" + std::to_string(i));
  }
  std::mt19937 rng(1234);
  int corrupt = 0;
  for (int round = 0; round < 3000; ++round) {
    std::string blob = valid;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) blob[rng() % blob.size()] = static_cast<char>(rng());
    if (round % 3 == 0) blob.resize(rng() % (blob.size() + 1));
    if (round % 5 == 0) {  // pure garbage
      blob.resize(rng() % 64);
      for (char& c : blob) c = static_cast<char>(rng());
    }
    BlobReader reader(blob);
    Entry entry;
    size_t consumed = 0;
    while (reader.Next(&entry)) {
      // Every payload lies inside the blob.
      ASSERT_GE(entry.payload.data(), blob.data());
      ASSERT_LE(entry.payload.data() + entry.payload.size(), blob.data() + blob.size());
      PlainPut put;
      if (DecodePlainPut(entry.payload, &put)) {
        ASSERT_LE(put.key.size() + put.value.size() + 8, entry.payload.size());
      }
      ASSERT_LT(++consumed, blob.size() + 1);
    }
    if (!reader.status().ok()) {
      EXPECT_EQ(reader.status().code(), Status::Code::kCorruption);
      ++corrupt;
    }
  }
  EXPECT_GT(corrupt, 0);
}

TEST(DecodePlainPut, TruncatedPayloadIsRejected) {
  std::string blob = NewBlob();
  AppendPlainPut(blob, "key", 7, "value");
  BlobReader reader(blob);
  Entry entry;
  ASSERT_TRUE(reader.Next(&entry));
  PlainPut put;
  // Cutting into the key or the expiry fails; cutting into the value only shortens it.
  const size_t header = 1 + 3 + 8;  // key length varint, key, expiry
  for (size_t length = 0; length < header; ++length) {
    EXPECT_FALSE(DecodePlainPut(entry.payload.substr(0, length), &put)) << length;
  }
  ASSERT_TRUE(DecodePlainPut(entry.payload.substr(0, header), &put));
  EXPECT_EQ(put.value, "");
}

TEST(KvValue, RoundTripsExpiryAndBytes) {
  const std::string value("x\0y", 3);
  for (int64_t expiry : {int64_t{0}, int64_t{1}, int64_t{1'700'000'000'000}, int64_t{-1}, INT64_MAX}) {
    std::string encoded = EncodeKvValue(expiry, value);
    EXPECT_EQ(encoded.size(), 8 + value.size());
    int64_t decoded_expiry = 0;
    std::string_view decoded_value;
    ASSERT_TRUE(DecodeKvValue(encoded, &decoded_expiry, &decoded_value));
    EXPECT_EQ(decoded_expiry, expiry);
    EXPECT_EQ(decoded_value, value);
  }
}

TEST(KvValue, ShorterThanTheExpiryIsRejected) {
  int64_t expiry = 0;
  std::string_view value;
  EXPECT_FALSE(DecodeKvValue("", &expiry, &value));
  EXPECT_FALSE(DecodeKvValue("1234567", &expiry, &value));
  EXPECT_TRUE(DecodeKvValue(EncodeKvValue(5, ""), &expiry, &value));
  EXPECT_EQ(value, "");
}

TEST(CheckpointKey, HasThePrefixAndSortsByShardInsideThePrefixRange) {
  const std::string first = CheckpointKey(0);
  const std::string later = CheckpointKey(300);
  EXPECT_EQ(std::string_view(first).substr(0, kCheckpointPrefix.size()), kCheckpointPrefix);
  EXPECT_EQ(first.size(), kCheckpointPrefix.size() + 2);
  EXPECT_LT(first, later);
  // Recovery scans ["checkpoint/", "checkpoint0"): every checkpoint key is inside.
  EXPECT_GE(first, std::string(kCheckpointPrefix));
  EXPECT_LT(CheckpointKey(UINT16_MAX), std::string("checkpoint0"));
}

}  // namespace
}  // namespace tally::storage::log_format
