// storage/codec.h: varints, fixed-width integers and length-prefixed bytes.
#include "storage/codec.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace tally::storage::codec {
namespace {

constexpr uint64_t kVarintEdges[] = {0,
                                     1,
                                     0x7f,
                                     0x80,
                                     0x3fff,
                                     0x4000,
                                     0x1fffff,
                                     0x200000,
                                     uint64_t{1} << 32,
                                     uint64_t{1} << 56,
                                     (uint64_t{1} << 63) - 1,
                                     uint64_t{1} << 63,
                                     std::numeric_limits<uint64_t>::max()};

TEST(CodecVarint, RoundTripsEdgeValuesAndConsumesExactlyItsBytes) {
  for (uint64_t value : kVarintEdges) {
    std::string bytes;
    PutVarint(bytes, value);
    bytes.append("tail");
    std::string_view in = bytes;
    uint64_t decoded = 0;
    ASSERT_TRUE(GetVarint(in, &decoded)) << value;
    EXPECT_EQ(decoded, value);
    EXPECT_EQ(in, "tail") << value;
  }
}

TEST(CodecVarint, UsesOneByteBelow128AndTenBytesForTheLargestValue) {
  std::string small, boundary, largest;
  PutVarint(small, 127);
  PutVarint(boundary, 128);
  PutVarint(largest, std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(small.size(), 1u);
  EXPECT_EQ(boundary.size(), 2u);
  EXPECT_EQ(largest.size(), 10u);
}

TEST(CodecVarint, RoundTripsRandomValuesBackToBack) {
  std::mt19937_64 rng(42);
  std::vector<uint64_t> values;
  std::string bytes;
  for (int i = 0; i < 2000; ++i) {
    uint64_t v = rng() >> (rng() % 64);  // all magnitudes
    values.push_back(v);
    PutVarint(bytes, v);
  }
  std::string_view in = bytes;
  for (uint64_t expected : values) {
    uint64_t decoded = 0;
    ASSERT_TRUE(GetVarint(in, &decoded));
    ASSERT_EQ(decoded, expected);
  }
  EXPECT_TRUE(in.empty());
}

TEST(CodecVarint, TruncatedInputIsRejected) {
  std::string bytes;
  PutVarint(bytes, uint64_t{1} << 40);
  for (size_t length = 0; length < bytes.size(); ++length) {
    std::string_view in(bytes.data(), length);
    uint64_t decoded = 0;
    EXPECT_FALSE(GetVarint(in, &decoded)) << "prefix of " << length << " bytes";
  }
}

TEST(CodecVarint, OverlongInputIsRejected) {
  std::string bytes(11, static_cast<char>(0x80));  // continuation bits forever
  bytes.push_back(0x01);
  std::string_view in = bytes;
  uint64_t decoded = 0;
  EXPECT_FALSE(GetVarint(in, &decoded));
}

TEST(CodecBigEndian, EncodesMostSignificantByteFirst) {
  std::string key;
  PutBigEndian16(key, 0x0102);
  PutBigEndian64(key, 0x030405060708090aULL);
  EXPECT_EQ(key, std::string("\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a", 10));
  EXPECT_EQ(GetBigEndian16(key.data()), 0x0102);
  EXPECT_EQ(GetBigEndian64(key.data() + 2), 0x030405060708090aULL);
}

TEST(CodecBigEndian, BytewiseOrderOfKeysIsNumericOrder) {
  std::mt19937_64 rng(7);
  std::vector<uint64_t> values(std::begin(kVarintEdges), std::end(kVarintEdges));
  for (int i = 0; i < 500; ++i) values.push_back(rng() >> (rng() % 64));
  std::vector<std::string> keys;
  for (uint64_t v : values) {
    std::string key;
    PutBigEndian64(key, v);
    keys.push_back(key);
    EXPECT_EQ(GetBigEndian64(key.data()), v);
  }
  for (size_t i = 0; i < values.size(); ++i) {
    for (size_t j = i + 1; j < values.size(); j += 7) {
      // std::string compares as unsigned bytes, like RocksDB's BytewiseComparator.
      EXPECT_EQ(values[i] < values[j], keys[i] < keys[j]) << values[i] << " vs " << values[j];
    }
  }
  std::string low, high;
  PutBigEndian16(low, 255);
  PutBigEndian16(high, 256);
  EXPECT_LT(low, high);
}

TEST(CodecFixed64, IsLittleEndianAndRoundTrips) {
  std::string bytes;
  PutFixed64(bytes, 0x0102030405060708ULL);
  EXPECT_EQ(bytes, std::string("\x08\x07\x06\x05\x04\x03\x02\x01", 8));
  EXPECT_EQ(GetFixed64(bytes.data()), 0x0102030405060708ULL);

  const int64_t negative = -12345;
  std::string signed_bytes;
  PutFixed64(signed_bytes, static_cast<uint64_t>(negative));
  std::string_view in = signed_bytes;
  uint64_t decoded = 0;
  ASSERT_TRUE(GetFixed64(in, &decoded));
  EXPECT_EQ(static_cast<int64_t>(decoded), negative);
  EXPECT_TRUE(in.empty());
}

TEST(CodecFixed64, ShortInputIsRejectedWithoutConsumingIt) {
  std::string_view in("1234567", 7);
  uint64_t decoded = 0;
  EXPECT_FALSE(GetFixed64(in, &decoded));
  EXPECT_EQ(in.size(), 7u);
}

TEST(CodecLengthPrefixed, RoundTripsBinaryAndEmptyStrings) {
  const std::string binary("a\0b\xff", 4);
  const std::string large(300, 'x');  // two-byte length
  std::string bytes;
  PutLengthPrefixed(bytes, binary);
  PutLengthPrefixed(bytes, "");
  PutLengthPrefixed(bytes, large);
  std::string_view in = bytes;
  std::string_view out;
  ASSERT_TRUE(GetLengthPrefixed(in, &out));
  EXPECT_EQ(out, binary);
  ASSERT_TRUE(GetLengthPrefixed(in, &out));
  EXPECT_EQ(out, "");
  ASSERT_TRUE(GetLengthPrefixed(in, &out));
  EXPECT_EQ(out, large);
  EXPECT_TRUE(in.empty());
}

TEST(CodecLengthPrefixed, LengthPastTheEndIsRejected) {
  std::string bytes;
  PutVarint(bytes, 10);
  bytes.append("short");
  std::string_view in = bytes;
  std::string_view out;
  EXPECT_FALSE(GetLengthPrefixed(in, &out));

  std::string huge;
  PutVarint(huge, std::numeric_limits<uint64_t>::max());
  std::string_view huge_in = huge;
  EXPECT_FALSE(GetLengthPrefixed(huge_in, &out));
}

}  // namespace
}  // namespace tally::storage::codec
