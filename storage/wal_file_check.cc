#include "storage/wal_file_check.h"

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <iterator>

namespace tally::storage {
namespace {

constexpr uint64_t kBlockSize = 32768;
constexpr uint64_t kHeaderSize = 7;
constexpr uint64_t kRecyclableHeaderSize = 11;
constexpr uint8_t kRecyclableFullType = 5;
constexpr uint8_t kRecyclableLastType = 8;
constexpr uint8_t kMaxKnownType = 11;  // RocksDB 7.8 knows 0..9; later versions add user-timestamp records
constexpr uint32_t kMaskDelta = 0xa282ead8u;

const std::array<uint32_t, 256>& Crc32cTable() {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82f63b78u : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  return table;
}

uint32_t Unmask(uint32_t masked) {
  uint32_t rot = masked - kMaskDelta;
  return (rot >> 17) | (rot << 15);
}

uint32_t DecodeFixed32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return uint32_t(u[0]) | uint32_t(u[1]) << 8 | uint32_t(u[2]) << 16 | uint32_t(u[3]) << 24;
}

bool AllZero(const std::string& bytes, uint64_t from) {
  return std::all_of(bytes.begin() + static_cast<std::ptrdiff_t>(from), bytes.end(), [](char c) { return c == 0; });
}

enum class FileEnd { kClean, kTruncated, kBadLastRecord, kDamaged };

struct FileCheck {
  FileEnd end = FileEnd::kClean;
  uint64_t offset = 0;
  std::string reason;
};

// Walks the records of one file. The first record that cannot be read ends
// the walk: at the end of the file it is a tail, before it damage.
FileCheck CheckFile(const std::string& bytes) {
  const uint64_t size = bytes.size();
  uint64_t pos = 0;
  while (pos < size) {
    const uint64_t block_left = kBlockSize - pos % kBlockSize;
    if (block_left < kHeaderSize) {  // the block's trailer, zero-filled by the writer
      pos += block_left;
      continue;
    }
    if (size - pos < kHeaderSize) {
      if (AllZero(bytes, pos)) return {};
      return {FileEnd::kTruncated, pos, "truncated record header"};
    }
    const char* header = bytes.data() + pos;
    const uint32_t length = static_cast<uint8_t>(header[4]) | static_cast<uint32_t>(static_cast<uint8_t>(header[5]))
                                                                  << 8;
    const uint8_t type = static_cast<uint8_t>(header[6]);
    if (type == 0 && length == 0 && DecodeFixed32(header) == 0) {
      // Zeros: preallocated space past the last write, or a zeroed region.
      if (AllZero(bytes, pos)) return {};
      return {FileEnd::kDamaged, pos, "zeroed record header followed by more data"};
    }
    const uint64_t header_size =
        type >= kRecyclableFullType && type <= kRecyclableLastType ? kRecyclableHeaderSize : kHeaderSize;
    if (type > kMaxKnownType) {
      if (size - pos <= block_left && AllZero(bytes, pos + header_size)) {
        return {FileEnd::kBadLastRecord, pos, "unknown record type"};
      }
      return {FileEnd::kDamaged, pos, "unknown record type " + std::to_string(type)};
    }
    if (header_size + length > block_left) {
      // A record never crosses a block boundary: the length is wrong, or
      // the file ends inside the record.
      if (pos + header_size + length > size && size - pos < block_left) {
        return {FileEnd::kTruncated, pos, "record cut by the end of the file"};
      }
      return {FileEnd::kDamaged, pos, "bad record length " + std::to_string(length)};
    }
    if (pos + header_size + length > size) return {FileEnd::kTruncated, pos, "record cut by the end of the file"};
    const uint32_t expected = Unmask(DecodeFixed32(header));
    const uint32_t actual = Crc32c(0, header + 6, header_size - 6 + length);
    if (expected != actual) {
      if (AllZero(bytes, pos + header_size + length)) return {FileEnd::kBadLastRecord, pos, "checksum mismatch"};
      return {FileEnd::kDamaged, pos, "checksum mismatch"};
    }
    pos += header_size + length;
  }
  return {};
}

uint64_t WalNumber(const std::filesystem::path& path) {
  try {
    return std::stoull(path.stem().string());
  } catch (...) {
    return 0;
  }
}

// The record at `pos`, if its header is sane and its checksum holds.
bool IntactRecordAt(const std::string& bytes, uint64_t pos, uint8_t* type, std::string_view* payload, uint64_t* next) {
  const uint64_t block_left = kBlockSize - pos % kBlockSize;
  if (block_left < kHeaderSize || bytes.size() - pos < kHeaderSize) return false;
  const char* header = bytes.data() + pos;
  const uint32_t length = static_cast<uint8_t>(header[4]) | static_cast<uint32_t>(static_cast<uint8_t>(header[5])) << 8;
  *type = static_cast<uint8_t>(header[6]);
  if (*type == 0 || *type > kMaxKnownType) return false;
  const uint64_t header_size =
      *type >= kRecyclableFullType && *type <= kRecyclableLastType ? kRecyclableHeaderSize : kHeaderSize;
  if (header_size + length > block_left || pos + header_size + length > bytes.size()) return false;
  if (Unmask(DecodeFixed32(header)) != Crc32c(0, header + 6, header_size - 6 + length)) return false;
  *payload = std::string_view(header + header_size, length);
  *next = pos + header_size + length;
  return true;
}

}  // namespace

void ForEachIntactWalRecord(const std::string& file, const std::function<void(std::string_view record)>& visit) {
  std::ifstream in(file, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::string fragments;
  bool in_fragments = false;
  uint64_t pos = 0;
  while (pos < bytes.size()) {
    uint8_t type = 0;
    std::string_view payload;
    uint64_t next = 0;
    if (!IntactRecordAt(bytes, pos, &type, &payload, &next)) {
      in_fragments = false;  // a record with a lost fragment is lost whole
      ++pos;
      continue;
    }
    pos = next;
    // Full/First/Middle/Last, plain (1-4) or recyclable (5-8).
    const int kind = type >= kRecyclableFullType && type <= kRecyclableLastType ? type - 4 : type;
    if (kind == 1) {
      in_fragments = false;
      visit(payload);
    } else if (kind == 2) {
      fragments.assign(payload);
      in_fragments = true;
    } else if (kind == 3 && in_fragments) {
      fragments.append(payload);
    } else if (kind == 4 && in_fragments) {
      fragments.append(payload);
      in_fragments = false;
      visit(fragments);
    }
  }
}

uint32_t Crc32c(uint32_t crc, const char* data, size_t n) {
  const auto& table = Crc32cTable();
  uint32_t c = ~crc;
  for (size_t i = 0; i < n; ++i) c = table[(c ^ static_cast<uint8_t>(data[i])) & 0xff] ^ (c >> 8);
  return ~c;
}

std::string WalDamage::ToString() const { return file + " at offset " + std::to_string(offset) + ": " + reason; }

WalCheckResult CheckWalFiles(const std::string& dir) {
  WalCheckResult result;
  std::error_code ec;
  std::vector<std::filesystem::path> wals;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const auto& path = entry.path();
    const std::string stem = path.stem().string();
    if (path.extension() == ".log" && !stem.empty() && std::all_of(stem.begin(), stem.end(), ::isdigit)) {
      wals.push_back(path);
    }
  }
  std::sort(wals.begin(), wals.end(), [](const auto& a, const auto& b) { return WalNumber(a) < WalNumber(b); });
  for (size_t i = 0; i < wals.size(); ++i) {
    const std::string file = wals[i].string();
    result.files.push_back(file);
    std::ifstream in(file, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad()) {
      result.damage = WalDamage{file, bytes.size(), "read error"};
      return result;
    }
    FileCheck check = CheckFile(bytes);
    WalDamage where{file, check.offset, check.reason};
    const bool newest = i + 1 == wals.size();
    switch (check.end) {
      case FileEnd::kClean:
        break;
      case FileEnd::kTruncated:
        result.truncated_tails.push_back(where);
        break;
      case FileEnd::kBadLastRecord:
        if (newest) {
          result.torn_tail_record = where;
        } else {
          result.damage = where;
          return result;
        }
        break;
      case FileEnd::kDamaged:
        result.damage = where;
        return result;
    }
  }
  return result;
}

}  // namespace tally::storage
