// libFuzzer target for the RESP request parser (clang -fsanitize=fuzzer; see
// README.md). Input layout: byte 0 chooses the limits and the buffer mode, the
// rest is the byte stream a client sends. The stream is fed whole, then split
// at points chosen from a hash of the input (and byte by byte when short); the
// parser must keep its contract on every call (resp_stream_driver.h) and every
// feed must yield the same commands, errors and leftover bytes. Any violation
// aborts with a description; AddressSanitizer catches reads outside the input
// (relocated feeds hand the parser exactly sized heap copies).

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/resp_parser.h"
#include "tests/fuzz/resp_stream_driver.h"

namespace tally::protocol {
namespace {

[[noreturn]] void Die(std::string_view what, std::string_view stream, const StreamOutcome& whole,
                      const StreamOutcome& other) {
  std::fprintf(stderr, "resp_parser_fuzz: %.*s\n  input: %s\n  whole: %s\n  other: %s\n", static_cast<int>(what.size()),
               what.data(), Escape(stream, 4096).c_str(), Describe(whole).c_str(), Describe(other).c_str());
  std::abort();
}

void Check(std::string_view what, std::string_view stream, const StreamOutcome& whole, const StreamOutcome& other) {
  if (!other.violation.empty() || !other.SameResult(whole)) Die(what, stream, whole, other);
}

}  // namespace
}  // namespace tally::protocol

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tally::protocol;
  if (size == 0) return 0;
  const uint8_t control = data[0];
  const std::string_view stream(reinterpret_cast<const char*>(data + 1), size - 1);

  // Bit 0: tiny limits (bits 1-5 size them) so every limit is reachable.
  ParserLimits limits;
  if (control & 1) {
    const size_t scale = (control >> 1) & 31;
    limits.max_inline_bytes = scale + 1;
    limits.max_bulk_bytes = scale * 2;
    limits.max_array_length = (control >> 6) + 1;
  }

  const StreamOutcome whole = FeedWhole(stream, limits);
  if (!whole.violation.empty()) Die("contract broken when fed whole", stream, whole, whole);

  std::mt19937_64 rng(std::hash<std::string_view>{}(stream) ^ control);
  for (size_t max_read : {size_t{1} + (control >> 5), size_t{64}}) {
    std::vector<size_t> reads = RandomReadSizes(stream.size(), max_read, rng);
    Check("split in place", stream, whole, FeedStream(stream, limits, reads, BufferMode::kAppendInPlace));
    Check("split and relocated", stream, whole, FeedStream(stream, limits, reads, BufferMode::kRelocateEveryCall));
  }
  if (stream.size() <= 1024) {
    Check("byte by byte, relocated", stream, whole, FeedByteByByte(stream, limits, BufferMode::kRelocateEveryCall));
  }
  return 0;
}
