#include "core/read_errors.h"

#include <spdlog/spdlog.h>

#include <array>
#include <atomic>
#include <chrono>

namespace tally::core {
namespace {

std::array<std::atomic<uint64_t>, static_cast<size_t>(storage::Family::kCount)> read_errors{};
std::atomic<int64_t> last_line_ms{0};
std::atomic<uint64_t> unlogged{0};
constexpr int64_t kLogIntervalMs = 1000;

int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void LogReadError(storage::Family family, std::string_view key, const storage::Status& status) {
  const int64_t now = SteadyMs();
  int64_t last = last_line_ms.load(std::memory_order_relaxed);
  if ((last != 0 && now - last < kLogIntervalMs) ||
      !last_line_ms.compare_exchange_strong(last, now, std::memory_order_relaxed)) {
    unlogged.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  const uint64_t skipped = unlogged.exchange(0, std::memory_order_relaxed);
  spdlog::error(
      "storage read failed in the {} family at key '{}': {} (nothing was answered or written for it{})",
      FamilyName(family), PrintableKey(key), status.ToString(),
      skipped == 0 ? std::string() : "; " + std::to_string(skipped) + " more read errors since the last line");
}

}  // namespace

bool ReadFault::Check(storage::Family family, std::string_view key, const storage::Status& status) {
  if (status.ok()) return true;
  read_errors[static_cast<size_t>(family)].fetch_add(1, std::memory_order_relaxed);
  LogReadError(family, key, status);
  if (!family_) {
    family_ = family;
    status_ = status;
  }
  return false;
}

storage::Status ReadFault::ToStatus() const {
  if (!family_) return storage::Status::Ok();
  const std::string message = "reading the " + std::string(FamilyName(*family_)) + " family: " + status_.message();
  if (status_.code() == storage::Status::Code::kCorruption) return storage::Status::Corruption(message);
  return storage::Status::IoError(message);
}

std::optional<std::string> GetOrNote(storage::Store& store, storage::Family family, std::string_view key,
                                     ReadFault& fault) {
  auto value = store.Get(family, key);
  if (!fault.Check(family, key, value.status())) return std::nullopt;
  return std::move(value.value());
}

uint64_t StorageReadErrors(storage::Family family) {
  return read_errors[static_cast<size_t>(family)].load(std::memory_order_relaxed);
}

std::string PrintableKey(std::string_view key) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (char c : key.substr(0, 200)) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte < 0x7f && c != '\\') {
      out.push_back(c);
    } else {
      out += "\\x";
      out.push_back(kHex[byte >> 4]);
      out.push_back(kHex[byte & 15]);
    }
  }
  if (key.size() > 200) out += "...";
  return out;
}

}  // namespace tally::core
