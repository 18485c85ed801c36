#include "core/distinct_sketch.h"

#include <algorithm>
#include <cmath>

#include "core/hash.h"
#include "storage/codec.h"

namespace tally::core {
namespace {

namespace codec = storage::codec;

// The seed of Redis's hyperloglog.c: the same member sets the same register.
constexpr uint64_t kRedisSeed = 0xadc83b19ULL;

// Ertl's sigma and tau (the improved estimator's corrections for empty and
// saturated registers).
double Sigma(double x) {
  if (x == 1.0) return INFINITY;
  double y = 1.0, z = x, previous = 0.0;
  do {
    x *= x;
    previous = z;
    z += x * y;
    y += y;
  } while (previous != z);
  return z;
}

double Tau(double x) {
  if (x == 0.0 || x == 1.0) return 0.0;
  double y = 1.0, z = 1.0 - x, previous = 0.0;
  do {
    x = std::sqrt(x);
    previous = z;
    y *= 0.5;
    z -= (1.0 - x) * (1.0 - x) * y;
  } while (previous != z);
  return z / 3.0;
}

uint32_t SparseEntry(uint32_t index, uint8_t rank) { return index << 8 | rank; }
uint32_t SparseIndex(uint32_t entry) { return entry >> 8; }
uint8_t SparseRank(uint32_t entry) { return static_cast<uint8_t>(entry & 0xff); }

}  // namespace

uint64_t DistinctSketch::HashMember(std::string_view member) { return MurmurHash64A(member, kRedisSeed); }

uint8_t DistinctSketch::RankOf(uint64_t hash) {
  // The bits above the index, with a stop bit so the rank is at most kMaxRank.
  const uint64_t rest = (hash >> kPrecision) | (uint64_t{1} << (64 - kPrecision));
  return static_cast<uint8_t>(__builtin_ctzll(rest) + 1);
}

// Register i is bits 6i .. 6i+5. It spills into the next byte only when it
// starts past bit 2 of its first one (so the last register never reads or
// writes past kDenseBytes).
uint8_t DistinctSketch::DenseGet(const uint8_t* registers, size_t index) {
  const size_t bit = index * 6;
  const size_t byte = bit / 8;
  const unsigned shift = bit % 8;
  unsigned value = registers[byte] >> shift;
  if (shift > 2) value |= unsigned{registers[byte + 1]} << (8 - shift);
  return static_cast<uint8_t>(value & 63);
}

void DistinctSketch::DenseSet(uint8_t* registers, size_t index, uint8_t value) {
  const size_t bit = index * 6;
  const size_t byte = bit / 8;
  const unsigned shift = bit % 8;
  registers[byte] = static_cast<uint8_t>((registers[byte] & ~(63u << shift)) | (unsigned{value} << shift));
  if (shift > 2) {
    registers[byte + 1] =
        static_cast<uint8_t>((registers[byte + 1] & ~(63u >> (8 - shift))) | (unsigned{value} >> (8 - shift)));
  }
}

bool DistinctSketch::RaiseEncodedDense(uint8_t* registers, uint64_t hash) {
  const uint32_t index = RegisterIndex(hash);
  const uint8_t rank = RankOf(hash);
  if (DenseGet(registers, index) >= rank) return false;
  DenseSet(registers, index, rank);
  return true;
}

bool DistinctSketch::Raise(uint32_t index, uint8_t rank) {
  if (form_ == Form::kDense) {
    if (DenseGet(index) >= rank) return false;
    DenseSet(index, rank);
    return true;
  }
  auto it = std::lower_bound(sparse_.begin(), sparse_.end(), SparseEntry(index, 0));
  if (it != sparse_.end() && SparseIndex(*it) == index) {
    if (SparseRank(*it) >= rank) return false;
    *it = SparseEntry(index, rank);
    return true;
  }
  sparse_.insert(it, SparseEntry(index, rank));
  if (sparse_.size() > kSparseLimit) ToDense();
  return true;
}

void DistinctSketch::ToSparse() {
  std::vector<uint64_t> hashes;
  hashes.swap(exact_);
  exact_.shrink_to_fit();
  form_ = Form::kSparse;
  for (uint64_t hash : hashes) Raise(RegisterIndex(hash), RankOf(hash));
}

void DistinctSketch::ToDense() {
  std::vector<uint32_t> entries;
  entries.swap(sparse_);
  sparse_.shrink_to_fit();
  form_ = Form::kDense;
  dense_.assign(kDenseBytes, 0);
  for (uint32_t entry : entries) DenseSet(SparseIndex(entry), SparseRank(entry));
}

bool DistinctSketch::AddHash(uint64_t hash) {
  if (form_ != Form::kExact) return Raise(RegisterIndex(hash), RankOf(hash));
  auto it = std::lower_bound(exact_.begin(), exact_.end(), hash);
  if (it != exact_.end() && *it == hash) return false;
  exact_.insert(it, hash);
  if (exact_.size() > kExactLimit) ToSparse();
  return true;
}

bool DistinctSketch::Merge(const DistinctSketch& other) {
  if (other.form_ == Form::kExact) {
    bool changed = false;
    for (uint64_t hash : other.exact_) changed = AddHash(hash) || changed;
    return changed;
  }
  // The other has more members than the exact limit: so will the union.
  bool changed = form_ == Form::kExact;
  if (changed) ToSparse();
  if (other.form_ == Form::kSparse) {
    for (uint32_t entry : other.sparse_) changed = Raise(SparseIndex(entry), SparseRank(entry)) || changed;
    return changed;
  }
  for (size_t i = 0; i < kRegisters; ++i) {
    const uint8_t rank = other.DenseGet(i);
    if (rank != 0) changed = Raise(static_cast<uint32_t>(i), rank) || changed;
  }
  return changed;
}

void DistinctSketch::Histogram(uint32_t (&counts)[kMaxRank + 2]) const {
  std::fill(std::begin(counts), std::end(counts), 0u);
  if (form_ == Form::kSparse) {
    counts[0] = static_cast<uint32_t>(kRegisters - sparse_.size());
    for (uint32_t entry : sparse_) counts[SparseRank(entry)]++;
    return;
  }
  for (size_t i = 0; i < kRegisters; ++i) counts[DenseGet(i)]++;
}

uint64_t DistinctSketch::Count() const {
  if (form_ == Form::kExact) return exact_.size();
  uint32_t counts[kMaxRank + 2];
  Histogram(counts);
  const double m = static_cast<double>(kRegisters);
  constexpr int q = 64 - kPrecision;
  double z = m * Tau((m - counts[q + 1]) / m);
  for (int k = q; k >= 1; --k) {
    z += counts[k];
    z *= 0.5;
  }
  z += m * Sigma(counts[0] / m);
  constexpr double kAlphaInf = 0.721347520444481703680;  // 1 / (2 ln 2)
  return static_cast<uint64_t>(std::llround(kAlphaInf * m * m / z));
}

size_t DistinctSketch::MemoryBytes() const {
  return exact_.capacity() * sizeof(uint64_t) + sparse_.capacity() * sizeof(uint32_t) + dense_.capacity();
}

void DistinctSketch::EncodeTo(std::string& out) const {
  out.push_back(static_cast<char>(form_));
  switch (form_) {
    case Form::kExact: {
      codec::PutVarint(out, exact_.size());
      uint64_t previous = 0;
      for (uint64_t hash : exact_) {
        codec::PutVarint(out, hash - previous);
        previous = hash;
      }
      return;
    }
    case Form::kSparse: {
      codec::PutVarint(out, sparse_.size());
      uint32_t previous = 0;
      for (uint32_t entry : sparse_) {
        codec::PutVarint(out, SparseIndex(entry) - previous);
        out.push_back(static_cast<char>(SparseRank(entry)));
        previous = SparseIndex(entry);
      }
      return;
    }
    case Form::kDense:
      out.append(reinterpret_cast<const char*>(dense_.data()), kDenseBytes);
      return;
  }
}

std::optional<DistinctSketch> DistinctSketch::Decode(std::string_view in) {
  if (in.empty()) return std::nullopt;
  DistinctSketch sketch;
  const uint8_t form = static_cast<uint8_t>(in[0]);
  in.remove_prefix(1);
  uint64_t n = 0;
  switch (form) {
    case static_cast<uint8_t>(Form::kExact): {
      if (!codec::GetVarint(in, &n) || n > kExactLimit) return std::nullopt;
      sketch.exact_.reserve(n);
      uint64_t previous = 0;
      for (uint64_t i = 0; i < n; ++i) {
        uint64_t delta = 0;
        if (!codec::GetVarint(in, &delta) || (i > 0 && delta == 0) || delta > UINT64_MAX - previous) {
          return std::nullopt;
        }
        previous += delta;
        sketch.exact_.push_back(previous);
      }
      break;
    }
    case static_cast<uint8_t>(Form::kSparse): {
      if (!codec::GetVarint(in, &n) || n == 0 || n > kSparseLimit) return std::nullopt;
      sketch.form_ = Form::kSparse;
      sketch.sparse_.reserve(n);
      uint64_t index = 0;
      for (uint64_t i = 0; i < n; ++i) {
        uint64_t delta = 0;
        if (!codec::GetVarint(in, &delta) || (i > 0 && delta == 0) || in.empty()) return std::nullopt;
        index += delta;
        const uint8_t rank = static_cast<uint8_t>(in[0]);
        in.remove_prefix(1);
        if (index >= kRegisters || rank == 0 || rank > kMaxRank) return std::nullopt;
        sketch.sparse_.push_back(SparseEntry(static_cast<uint32_t>(index), rank));
      }
      break;
    }
    case static_cast<uint8_t>(Form::kDense): {
      if (in.size() < kDenseBytes) return std::nullopt;
      sketch.form_ = Form::kDense;
      sketch.dense_.assign(in.begin(), in.begin() + kDenseBytes);
      in.remove_prefix(kDenseBytes);
      size_t set = 0;
      for (size_t i = 0; i < kRegisters; ++i) {
        const uint8_t rank = sketch.DenseGet(i);
        if (rank > kMaxRank) return std::nullopt;
        set += rank != 0;
      }
      if (set <= kSparseLimit) return std::nullopt;  // this version keeps that few registers sparse
      break;
    }
    default:
      return std::nullopt;
  }
  if (!in.empty()) return std::nullopt;
  return sketch;
}

}  // namespace tally::core
