// The distinct-count sketch (core/distinct_sketch.h): exact while small,
// HyperLogLog after; accuracy, unions, the switch between forms, its bytes
// and the refusal of anything it did not write.

#include "core/distinct_sketch.h"

#include <gtest/gtest.h>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>

namespace tally::core {
namespace {

using Form = DistinctSketch::Form;

// "member:<i>" without an allocation per member (the 10,000,000 case).
class Members {
 public:
  std::string_view operator()(uint64_t i) {
    auto [end, ec] = std::to_chars(buffer_ + 7, buffer_ + sizeof(buffer_), i);
    return std::string_view(buffer_, static_cast<size_t>(end - buffer_));
  }

 private:
  char buffer_[32] = {'m', 'e', 'm', 'b', 'e', 'r', ':'};
};

DistinctSketch SketchOf(uint64_t begin, uint64_t end) {
  DistinctSketch sketch;
  Members member;
  for (uint64_t i = begin; i < end; ++i) sketch.Add(member(i));
  return sketch;
}

constexpr double kStandardError = 1.04 / 128.0;  // 1.04 / sqrt(2^14)

TEST(DistinctSketchTest, CountsExactlyUpToTheExactLimitThenSwitchesToRegisters) {
  DistinctSketch sketch;
  EXPECT_TRUE(sketch.empty());
  EXPECT_EQ(sketch.Count(), 0u);
  Members member;
  for (uint64_t i = 0; i < 10; ++i) EXPECT_TRUE(sketch.Add(member(i)));
  EXPECT_EQ(sketch.Count(), 10u);
  EXPECT_FALSE(sketch.Add(member(3))) << "a member seen before changes nothing";
  EXPECT_EQ(sketch.Count(), 10u);
  for (uint64_t i = 10; i < DistinctSketch::kExactLimit; ++i) sketch.Add(member(i));
  EXPECT_EQ(sketch.form(), Form::kExact);
  EXPECT_EQ(sketch.Count(), DistinctSketch::kExactLimit);

  EXPECT_TRUE(sketch.Add(member(DistinctSketch::kExactLimit)));
  EXPECT_EQ(sketch.form(), Form::kSparse) << "member 257 moves it to registers";
  EXPECT_NEAR(static_cast<double>(sketch.Count()), 257.0, 3 * kStandardError * 257);

  // Sparse until more than kSparseLimit registers are set, then dense.
  uint64_t n = DistinctSketch::kExactLimit + 1;
  while (sketch.form() == Form::kSparse) sketch.Add(member(n++));
  EXPECT_EQ(sketch.form(), Form::kDense);
  EXPECT_GT(n, DistinctSketch::kSparseLimit) << "a few members share a register";
  EXPECT_LT(n, DistinctSketch::kSparseLimit + 100);
}

TEST(DistinctSketchTest, EstimatesWithinThreeStandardErrors) {
  for (uint64_t n : {uint64_t{1'000}, uint64_t{100'000}, uint64_t{10'000'000}}) {
    const DistinctSketch sketch = SketchOf(0, n);
    const double error = std::abs(static_cast<double>(sketch.Count()) - static_cast<double>(n)) / n;
    EXPECT_LE(error, 3 * kStandardError) << n << " members counted as " << sketch.Count();
  }
}

TEST(DistinctSketchTest, CountsWhatRedisCountsForTheSameMembers) {
  // PFADD hll member:0 … member:<n-1>; PFCOUNT hll on redis-server 7.0
  // (Debian 12): the same hash, the same registers, the same estimator.
  EXPECT_EQ(SketchOf(0, 1'000).Count(), 1'002u);
  EXPECT_EQ(SketchOf(0, 100'000).Count(), 100'445u);
}

TEST(DistinctSketchTest, AddingAMemberAgainChangesNothingInEveryForm) {
  Members member;
  for (uint64_t n : {uint64_t{10}, uint64_t{600}, uint64_t{50'000}}) {
    DistinctSketch sketch = SketchOf(0, n);
    const std::string before = sketch.Encode();
    for (uint64_t i = 0; i < n; i += 7) EXPECT_FALSE(sketch.Add(member(i)));
    EXPECT_EQ(sketch.Encode(), before);
  }
}

TEST(DistinctSketchTest, TheUnionOfDaySketchesIsTheSketchOfTheUnion) {
  // 30 days of visitors, each day overlapping the next, in every form.
  for (uint64_t per_day : {uint64_t{5}, uint64_t{200}, uint64_t{2'000}}) {
    DistinctSketch month, reversed;
    for (uint64_t day = 0; day < 30; ++day) month.Merge(SketchOf(day * per_day / 2, day * per_day / 2 + per_day));
    for (uint64_t day = 30; day-- > 0;) reversed.Merge(SketchOf(day * per_day / 2, day * per_day / 2 + per_day));
    const DistinctSketch all = SketchOf(0, 29 * per_day / 2 + per_day);
    EXPECT_EQ(month, all) << per_day << " a day";
    EXPECT_EQ(reversed, all) << per_day << " a day, merged last day first";
    EXPECT_EQ(month.Encode(), all.Encode());
    EXPECT_EQ(month.Count(), all.Count());
  }
  // Never the sum: the same visitors every day count once.
  DistinctSketch same;
  for (int day = 0; day < 30; ++day) same.Merge(SketchOf(0, 100));
  EXPECT_EQ(same.Count(), 100u);
}

TEST(DistinctSketchTest, MergeSaysWhetherAnythingChanged) {
  DistinctSketch a = SketchOf(0, 100);
  EXPECT_FALSE(a.Merge(SketchOf(0, 50)));
  EXPECT_TRUE(a.Merge(SketchOf(90, 110)));
  DistinctSketch big = SketchOf(0, 5'000);
  EXPECT_TRUE(a.Merge(big));
  EXPECT_FALSE(a.Merge(big));
  EXPECT_EQ(a, big);
}

TEST(DistinctSketchTest, BytesPerCell) {
  // Encoded sizes (what a cell stores) at the edge of each form.
  EXPECT_EQ(DistinctSketch().Encode().size(), 2u);
  EXPECT_LE(SketchOf(0, 10).Encode().size(), 2u + 10 * 10);
  EXPECT_LE(SketchOf(0, DistinctSketch::kExactLimit).Encode().size(), 2'600u);
  DistinctSketch sparse = SketchOf(0, DistinctSketch::kExactLimit + 1);
  Members member;
  for (uint64_t i = DistinctSketch::kExactLimit + 1; sparse.form() == Form::kSparse; ++i) {
    EXPECT_LE(sparse.Encode().size(), 3u + DistinctSketch::kSparseLimit * 3);
    EXPECT_LE(sparse.MemoryBytes(), 8 * 1024u);
    sparse.Add(member(i));
  }
  const DistinctSketch dense = SketchOf(0, 100'000);
  EXPECT_EQ(dense.form(), Form::kDense);
  EXPECT_EQ(dense.Encode().size(), 1 + DistinctSketch::kDenseBytes);
  EXPECT_EQ(DistinctSketch::kDenseBytes, 12'288u);
  EXPECT_EQ(dense.MemoryBytes(), 12'288u);
}

TEST(DistinctSketchTest, DecodeGivesBackWhatWasEncoded) {
  for (uint64_t n : {uint64_t{0}, uint64_t{1}, uint64_t{256}, uint64_t{700}, uint64_t{30'000}}) {
    const DistinctSketch sketch = SketchOf(0, n);
    std::optional<DistinctSketch> back = DistinctSketch::Decode(sketch.Encode());
    ASSERT_TRUE(back.has_value()) << n;
    EXPECT_EQ(*back, sketch) << n;
    EXPECT_EQ(back->Count(), sketch.Count());
  }
}

TEST(DistinctSketchTest, DecodeRefusesWhatThisVersionDidNotWrite) {
  const std::string exact = SketchOf(0, 20).Encode();
  const std::string sparse = SketchOf(0, 600).Encode();
  const std::string dense = SketchOf(0, 30'000).Encode();
  auto refused = [](std::string_view bytes) { return !DistinctSketch::Decode(bytes).has_value(); };
  EXPECT_TRUE(refused(""));
  EXPECT_TRUE(refused(std::string("\x04\x00", 2))) << "unknown form";
  for (const std::string* blob : {&exact, &sparse, &dense}) {
    EXPECT_TRUE(refused(std::string_view(*blob).substr(0, blob->size() - 1))) << "truncated";
    EXPECT_TRUE(refused(*blob + '\0')) << "a byte too many";
  }
  // Exact: more members than the limit; a hash repeated (distance 0).
  std::string over(1, '\x01');
  over += static_cast<char>(0x81);  // varint 257
  over += static_cast<char>(0x02);
  for (int i = 0; i < 257; ++i) over += '\x01';
  EXPECT_TRUE(refused(over));
  EXPECT_TRUE(refused(std::string("\x01\x02\x05\x00", 4)));
  // Sparse: rank 0, rank 52, the same register twice, an index past the end.
  EXPECT_TRUE(refused(std::string("\x02\x01\x05\x00", 4)));
  EXPECT_TRUE(refused(std::string("\x02\x01\x05\x34", 4)));
  EXPECT_TRUE(refused(std::string("\x02\x02\x05\x01\x00\x02", 6)));
  EXPECT_TRUE(refused(std::string("\x02\x01\x80\x80\x01\x01", 6)));  // index 16384
  EXPECT_FALSE(refused(std::string("\x02\x01\xff\x7f\x33", 5))) << "index 16383, rank 51 is fine";
  // Dense: a register above 51; too few registers set to be dense.
  std::string high = dense;
  high[1] = static_cast<char>(0x3f);  // register 0 = 63
  EXPECT_TRUE(refused(high));
  std::string few(1 + DistinctSketch::kDenseBytes, '\0');
  few[0] = '\x03';
  few[1] = '\x01';
  EXPECT_TRUE(refused(few));
}

TEST(DistinctSketchTest, DecodeSurvivesRandomDamage) {
  // Seeded mutations of valid encodings of every form: flipped bits, cut
  // and grown blobs, overwritten bytes. Whatever Decode accepts is a sketch
  // that counts and encodes again to the same sketch.
  std::mt19937_64 random(11);
  const std::string seeds[] = {DistinctSketch().Encode(), SketchOf(0, 30).Encode(), SketchOf(0, 800).Encode(),
                               SketchOf(0, 40'000).Encode()};
  int accepted = 0;
  for (int round = 0; round < 20'000; ++round) {
    std::string blob = seeds[random() % std::size(seeds)];
    const int edits = 1 + static_cast<int>(random() % 4);
    for (int e = 0; e < edits; ++e) {
      switch (random() % 4) {
        case 0:
          if (!blob.empty()) blob[random() % blob.size()] ^= static_cast<char>(1u << (random() % 8));
          break;
        case 1:
          blob.resize(random() % (blob.size() + 1));
          break;
        case 2:
          blob.insert(blob.begin() + static_cast<std::ptrdiff_t>(random() % (blob.size() + 1)),
                      static_cast<char>(random()));
          break;
        default:
          if (!blob.empty()) blob[random() % blob.size()] = static_cast<char>(random());
          break;
      }
    }
    std::optional<DistinctSketch> sketch = DistinctSketch::Decode(blob);
    if (!sketch) continue;
    ++accepted;
    (void)sketch->Count();
    std::optional<DistinctSketch> again = DistinctSketch::Decode(sketch->Encode());
    ASSERT_TRUE(again.has_value());
    ASSERT_EQ(*again, *sketch);
  }
  EXPECT_GT(accepted, 0) << "some damage (a flipped low bit of a register) is still a valid sketch";
}

}  // namespace
}  // namespace tally::core
