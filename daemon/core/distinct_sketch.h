#pragma once
// A distinct-count sketch for one cell (UNIQ.*, PFADD): exact while small,
// then HyperLogLog with 2^14 registers (standard error 1.04 / sqrt(16384)
// = 0.81 %), as Redis's own PFADD/PFCOUNT.
//
// Members are hashed to 64 bits (MurmurHash64A with Redis's seed, so the
// registers a member sets are the ones Redis sets). The sketch takes one of
// three forms, decided by its content alone, so two sketches of the same
// members are equal byte for byte whatever the order they were added or
// merged in (the union of day sketches IS the sketch of the union):
//
//   exact   up to kExactLimit distinct hashes, kept sorted; the count is
//           exact (two members collide only with probability ~n^2 / 2^65);
//   sparse  the non-zero registers as sorted (index, rank) pairs, while
//           there are at most kSparseLimit of them;
//   dense   every register, 6 bits each: 12,288 bytes (Redis's dense size).
//
// The estimate from registers is Ertl's improved estimator ("New
// cardinality estimation algorithms for HyperLogLog sketches", 2017), the
// one Redis uses: no bias tables, accurate from a few members to 2^64.
//
// Encoding (EncodeTo / Decode; what the log and the cells family store):
//   u8 form (1 exact, 2 sparse, 3 dense), then
//   exact:  varint n, n varints: the first hash, then each one's distance
//           from the one before (strictly increasing);
//   sparse: varint n, n times (varint index distance, u8 rank);
//   dense:  12,288 bytes, register i in bits 6i .. 6i+5 (little-endian bits).
// Decode refuses anything that is not exactly that (a truncated or padded
// blob, a rank above 51, indexes out of order, a form over its limit).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tally::core {

class DistinctSketch {
 public:
  static constexpr int kPrecision = 14;
  static constexpr size_t kRegisters = size_t{1} << kPrecision;
  // Register values: 0 (unset) .. 64 - kPrecision + 1.
  static constexpr int kMaxRank = 64 - kPrecision + 1;
  static constexpr size_t kExactLimit = 256;    // distinct members kept exactly
  static constexpr size_t kSparseLimit = 1024;  // non-zero registers kept as pairs
  static constexpr size_t kDenseBytes = kRegisters * 6 / 8;

  enum class Form : uint8_t { kExact = 1, kSparse = 2, kDense = 3 };

  static uint64_t HashMember(std::string_view member);

  // True if the sketch changed: a new member (exact) or a register raised.
  bool Add(std::string_view member) { return AddHash(HashMember(member)); }
  bool AddHash(uint64_t hash);
  // This becomes the sketch of the union. True if it changed.
  bool Merge(const DistinctSketch& other);

  // The number of distinct members: exact in the exact form, else the
  // HyperLogLog estimate.
  uint64_t Count() const;

  Form form() const { return form_; }
  bool empty() const { return form_ == Form::kExact && exact_.empty(); }
  // Heap bytes held (the figure a memory budget charges).
  size_t MemoryBytes() const;

  // PFADD on an encoded dense sketch without decoding it: `registers` is
  // the kDenseBytes after the form byte of EncodeTo's output. True if the
  // hash raised a register.
  static bool RaiseEncodedDense(uint8_t* registers, uint64_t hash);

  void EncodeTo(std::string& out) const;
  std::string Encode() const {
    std::string out;
    EncodeTo(out);
    return out;
  }
  // nullopt if `bytes` is not a sketch this version wrote.
  static std::optional<DistinctSketch> Decode(std::string_view bytes);

  bool operator==(const DistinctSketch& other) const = default;

 private:
  static uint32_t RegisterIndex(uint64_t hash) { return static_cast<uint32_t>(hash & (kRegisters - 1)); }
  static uint8_t RankOf(uint64_t hash);
  // Raises register `index` to `rank` if lower; true if it did.
  bool Raise(uint32_t index, uint8_t rank);
  // Register `index` of kDenseBytes packed registers.
  static uint8_t DenseGet(const uint8_t* registers, size_t index);
  static void DenseSet(uint8_t* registers, size_t index, uint8_t value);
  uint8_t DenseGet(size_t index) const { return DenseGet(dense_.data(), index); }
  void DenseSet(size_t index, uint8_t value) { DenseSet(dense_.data(), index, value); }
  void ToSparse();  // from exact
  void ToDense();   // from sparse
  // counts[v] = registers holding v.
  void Histogram(uint32_t (&counts)[kMaxRank + 2]) const;

  Form form_ = Form::kExact;
  std::vector<uint64_t> exact_;   // sorted, distinct
  std::vector<uint32_t> sparse_;  // index << 8 | rank, sorted by index
  std::vector<uint8_t> dense_;    // kDenseBytes
};

}  // namespace tally::core
