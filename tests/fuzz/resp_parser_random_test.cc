// Deterministic mutation fuzzing of the RESP parser, run by ctest with any
// compiler. A seeded PRNG builds streams of valid commands (multibulk, inline
// with every quoting form, no-ops), then truncates and mutates them (bit flips,
// inserted and deleted bytes, huge and malformed lengths) or replaces them with
// token soup and random bytes, under default and tiny limits. For every input:
//   - the parser keeps its contract on every call (resp_stream_driver.h);
//   - splitting the input at random points, byte by byte, or moving the
//     unconsumed bytes between calls gives exactly the same commands, errors
//     and leftover bytes as feeding it whole;
//   - valid streams, and any prefix of them, mean exactly what was encoded.
//
// TALLY_FUZZ_SEED=<n> changes the seed; TALLY_FUZZ_SCALE=<k> runs k times
// more iterations. A failure prints the seed, the iteration and the input.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/resp_parser.h"
#include "tests/fuzz/resp_stream_driver.h"

namespace tally::protocol {
namespace {

uint64_t EnvOr(const char* name, uint64_t fallback) {
  const char* text = std::getenv(name);
  return text != nullptr && *text != '\0' ? std::strtoull(text, nullptr, 0) : fallback;
}

#if defined(__SANITIZE_ADDRESS__)
constexpr int kSanitizerSlowdown = 8;  // g++ -fsanitize=address (TALLY_SANITIZE)
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr int kSanitizerSlowdown = 8;
#else
constexpr int kSanitizerSlowdown = 1;
#endif
#else
constexpr int kSanitizerSlowdown = 1;
#endif

uint64_t BaseSeed() { return EnvOr("TALLY_FUZZ_SEED", 0x7a11'5eed); }
// Fewer iterations under AddressSanitizer, which is much slower, so that ctest
// stays quick in every build.
int Iterations(int base) {
  return std::max(1, base * static_cast<int>(EnvOr("TALLY_FUZZ_SCALE", 1)) / kSanitizerSlowdown);
}

// Lengths and counts around the limits, the int64 edges, and malformed ones.
// clang-format off
constexpr std::string_view kInterestingNumbers[] = {
    "0", "1", "2", "3", "8", "16", "64", "65", "1024", "65536", "65537", "1048576", "1048577", "67108864",
    "67108865", "2147483647", "2147483648", "4294967296", "9223372036854775807", "9223372036854775808",
    "-9223372036854775808", "18446744073709551616", "99999999999999999999999", "-1", "-0", "01", "+1", " 1", "",
    "1x", "0x10",
};
// clang-format on

constexpr std::string_view kTokens[] = {
    "*",       "$",       "\r\n",
    "\r",      "\n",      std::string_view("\0", 1),
    " ",       "\t",      "\v",
    "\"",      "'",       "\\",
    "\\x",     "4f",      "a",
    "PING",    "SET",     "\r\n\r\n",
    "*1\r\n",  "$1\r\n",  "*2\r\n$4\r\nECHO\r\n",
    "$-1\r\n", "*-1\r\n", "*0\r\n",
};

// A stream of valid commands and what it means.
struct ValidStream {
  std::string bytes;
  std::vector<ParseEvent> events;
  std::vector<size_t> ends;  // byte offset just after each event's command
};

class Generator {
 public:
  explicit Generator(uint64_t seed) : rng_(seed) {}

  std::mt19937_64& rng() { return rng_; }

  size_t Uniform(size_t lo, size_t hi) { return std::uniform_int_distribution<size_t>(lo, hi)(rng_); }
  bool OneIn(size_t n) { return Uniform(1, n) == 1; }
  char Byte() { return static_cast<char>(Uniform(0, 255)); }
  template <typename T, size_t N>
  const T& Pick(const T (&items)[N]) {
    return items[Uniform(0, N - 1)];
  }

  // Default limits, or tiny ones so that every limit is hit often.
  ParserLimits Limits() {
    ParserLimits limits;
    if (OneIn(3)) return limits;
    limits.max_inline_bytes = Uniform(0, 40);
    limits.max_bulk_bytes = Uniform(0, 40);
    limits.max_array_length = Uniform(0, 6);
    return limits;
  }

  std::string Arg() {
    std::string arg;
    switch (Uniform(0, 9)) {
      case 0:
        break;  // empty
      case 1:
        arg = std::to_string(static_cast<int64_t>(rng_()));
        break;
      case 2:
      case 3:
        for (size_t n = Uniform(0, 40); n > 0; --n) arg.push_back(Byte());
        break;
      case 4:
        for (size_t n = Uniform(1, 8); n > 0; --n) arg += Pick(kTokens);
        break;
      case 5:
        if (OneIn(4)) {
          for (size_t n = Uniform(200, 5000); n > 0; --n) arg.push_back(Byte());
          break;
        }
        [[fallthrough]];
      default: {
        static constexpr std::string_view kWordChars =
            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:-*$\\";
        for (size_t n = Uniform(1, 12); n > 0; --n) arg.push_back(kWordChars[Uniform(0, kWordChars.size() - 1)]);
      }
    }
    return arg;
  }

  static std::string Multibulk(const std::vector<std::string>& args) {
    std::string out = "*" + std::to_string(args.size()) + "\r\n";
    for (const std::string& arg : args) out += "$" + std::to_string(arg.size()) + "\r\n" + arg + "\r\n";
    return out;
  }

  // One argument as sdssplitargs() reads it back: bare, 'single' or "double" quoted.
  std::string InlineWord(std::string_view arg, bool first) {
    bool bare = !arg.empty() && !(first && arg[0] == '*');
    bool single = true;
    for (char c : arg) {
      auto u = static_cast<unsigned char>(c);
      if (u <= 0x20 || u >= 0x7f || c == '"' || c == '\'') bare = false;
      if (c == '\\' || c == '\n') single = false;
    }
    if (bare && !OneIn(4)) return std::string(arg);
    if (single && OneIn(2)) {
      std::string out = "'";
      for (char c : arg) {
        if (c == '\'') out += '\\';
        out.push_back(c);
      }
      return out + "'";
    }
    static constexpr char kHex[] = "0123456789abcdef0123456789ABCDEF";
    std::string out = "\"";
    for (char c : arg) {
      auto u = static_cast<unsigned char>(c);
      const size_t hex_case = OneIn(2) ? 16 : 0;
      if (c == '"' || c == '\\') {
        out += '\\';
        out.push_back(c);
      } else if (c == '\n' && OneIn(2)) {
        out += "\\n";
      } else if (c == '\r' && OneIn(2)) {
        out += "\\r";
      } else if (c == '\t' && OneIn(2)) {
        out += "\\t";
      } else if (c == '\b' && OneIn(2)) {
        out += "\\b";
      } else if (c == '\a' && OneIn(2)) {
        out += "\\a";
      } else if (u < 0x20 || u >= 0x7f || OneIn(10)) {
        out += "\\x";
        out.push_back(kHex[hex_case + (u >> 4)]);
        out.push_back(kHex[hex_case + (u & 15)]);
      } else if (std::string_view("nrtbax").find(c) == std::string_view::npos && OneIn(10)) {
        out += '\\';  // an unknown escape stands for the character itself
        out.push_back(c);
      } else {
        out.push_back(c);
      }
    }
    return out + "\"";
  }

  std::string Blanks(size_t min) {
    std::string out;
    for (size_t n = Uniform(min, min + 2); n > 0; --n) out.push_back(OneIn(3) ? '\t' : ' ');
    return out;
  }

  std::string Inline(const std::vector<std::string>& args) {
    std::string line = Blanks(0);
    for (size_t i = 0; i < args.size(); ++i) {
      if (i > 0) line += Blanks(1);
      line += InlineWord(args[i], i == 0 && line.empty());
    }
    line += Blanks(0);
    return line + (OneIn(2) ? "\r\n" : "\n");
  }

  ValidStream Valid(size_t max_commands) {
    ValidStream out;
    for (size_t n = Uniform(1, max_commands); n > 0; --n) {
      ParseEvent event;
      size_t kind = Uniform(0, 9);
      if (kind == 0) {  // a no-op
        static constexpr std::string_view kNoOps[] = {"\r\n", "\n", "  \r\n", "\t\n", "*0\r\n", "*-1\r\n", "*-7\r\n"};
        std::string_view no_op = Pick(kNoOps);
        out.bytes += no_op;
        event.was_inline = no_op[0] != '*';
      } else {
        for (size_t args = Uniform(1, 6); args > 0; --args) event.args.push_back(Arg());
        std::string line = kind <= 3 ? Inline(event.args) : "";
        event.was_inline = !line.empty() && line.size() < 60'000;  // inline only under the 64 KiB line limit
        out.bytes += event.was_inline ? line : Multibulk(event.args);
      }
      out.events.push_back(std::move(event));
      out.ends.push_back(out.bytes.size());
    }
    return out;
  }

  std::string Number() { return OneIn(3) ? std::to_string(Uniform(0, 70)) : std::string(Pick(kInterestingNumbers)); }

  std::string Mutate(std::string s) {
    for (size_t n = Uniform(1, 4); n > 0; --n) {
      const size_t at = Uniform(0, s.size());
      switch (Uniform(0, 8)) {
        case 0:  // flip a bit
          if (!s.empty()) s[at % s.size()] ^= static_cast<char>(1u << Uniform(0, 7));
          break;
        case 1:  // overwrite a byte with a meaningful one
          if (!s.empty()) s[at % s.size()] = Pick(kTokens)[0];
          break;
        case 2:  // insert bytes
          for (size_t k = Uniform(1, 8); k > 0; --k) s.insert(s.begin() + static_cast<ptrdiff_t>(at), Byte());
          break;
        case 3:  // delete bytes
          s.erase(at, Uniform(1, 16));
          break;
        case 4: {  // duplicate a range
          std::string range = s.substr(Uniform(0, s.size()), Uniform(1, 64));
          s.insert(at, range);
          break;
        }
        case 5:  // truncate
          s.resize(at);
          break;
        case 6: {  // replace a number with an interesting one
          size_t digit = s.find_first_of("0123456789", at);
          if (digit == std::string::npos) break;
          size_t end = s.find_first_not_of("0123456789", digit);
          if (digit > 0 && s[digit - 1] == '-') --digit;
          s.replace(digit, (end == std::string::npos ? s.size() : end) - digit, Number());
          break;
        }
        case 7:  // insert a header with a huge or malformed length
          s.insert(at, std::string(OneIn(2) ? "*" : "$") + Number() + "\r\n");
          break;
        case 8:  // insert a token
          s.insert(at, Pick(kTokens));
          break;
      }
    }
    return s;
  }

  std::string TokenSoup() {
    std::string out;
    for (size_t n = Uniform(1, 40); n > 0; --n) {
      switch (Uniform(0, 3)) {
        case 0:
          out += Number();
          break;
        case 1:
          out.push_back(Byte());
          break;
        default:
          out += Pick(kTokens);
      }
    }
    return out;
  }

  std::string RandomBytes(size_t max) {
    std::string out;
    for (size_t n = Uniform(0, max); n > 0; --n) out.push_back(Byte());
    return out;
  }

  // Reads for a split feed: tiny or larger chunks, but no more than about a
  // hundred of them (a relocated feed copies the pending bytes on every call;
  // byte-by-byte feeds are run separately, on short inputs).
  std::vector<size_t> Reads(size_t total) {
    static constexpr size_t kMaxRead[] = {1, 2, 3, 5, 8, 17, 64, 1000};
    return RandomReadSizes(total, std::max(Pick(kMaxRead), total / 50), rng_);
  }

 private:
  std::mt19937_64 rng_;
};

std::string LimitsText(const ParserLimits& limits) {
  return "limits{inline=" + std::to_string(limits.max_inline_bytes) +
         ", bulk=" + std::to_string(limits.max_bulk_bytes) + ", array=" + std::to_string(limits.max_array_length) + "}";
}

// Feeds `input` whole, then split at random points (in place and relocated)
// and byte by byte; returns "" when every feed agrees and keeps the contract.
std::string CheckSplitsAgree(Generator& gen, std::string_view input, const ParserLimits& limits, int splits,
                             StreamOutcome* whole_out = nullptr) {
  StreamOutcome whole = FeedWhole(input, limits);
  if (!whole.violation.empty()) return "whole feed: " + Describe(whole);
  auto compare = [&](const StreamOutcome& other, std::string_view how) -> std::string {
    if (!other.violation.empty()) return std::string(how) + ": " + Describe(other);
    if (!other.SameResult(whole)) {
      return std::string(how) + " differs\n  whole: " + Describe(whole) + "\n  split: " + Describe(other);
    }
    return "";
  };
  for (int i = 0; i < splits; ++i) {
    BufferMode mode = gen.OneIn(2) ? BufferMode::kRelocateEveryCall : BufferMode::kAppendInPlace;
    std::vector<size_t> reads = gen.Reads(input.size());
    std::string how = mode == BufferMode::kRelocateEveryCall ? "relocated split" : "split";
    how += " [";
    for (size_t r = 0; r < reads.size() && r < 100; ++r) how += std::to_string(reads[r]) + " ";
    if (reads.size() > 100) how += "...";
    how += "]";
    if (std::string failure = compare(FeedStream(input, limits, reads, mode), how); !failure.empty()) return failure;
  }
  if (input.size() <= 600) {
    if (std::string failure = compare(FeedByteByByte(input, limits, BufferMode::kRelocateEveryCall), "byte by byte");
        !failure.empty()) {
      return failure;
    }
  }
  if (whole_out != nullptr) *whole_out = std::move(whole);
  return "";
}

#define TALLY_FAIL_WITH_INPUT(failure, seed, iteration, input, limits)                                      \
  FAIL() << (failure) << "\n  seed=" << (seed) << " iteration=" << (iteration) << " " << LimitsText(limits) \
         << "\n  input (" << (input).size() << " bytes): " << Escape(input, 2000)

TEST(RespParserRandomTest, ValidStreamsMeanWhatWasEncodedHoweverTheyAreSplit) {
  const uint64_t seed = BaseSeed() + 1;
  Generator gen(seed);
  for (int iteration = 0; iteration < Iterations(4000); ++iteration) {
    ValidStream valid = gen.Valid(8);
    ParserLimits limits;  // defaults: every generated command fits
    StreamOutcome whole;
    std::string failure = CheckSplitsAgree(gen, valid.bytes, limits, 3, &whole);
    if (failure.empty() && (whole.events != valid.events || whole.unconsumed != 0)) {
      StreamOutcome expected{valid.events, 0, ""};
      failure = "wrong meaning\n  expected: " + Describe(expected) + "\n  parsed:   " + Describe(whole);
    }
    if (!failure.empty()) TALLY_FAIL_WITH_INPUT(failure, seed, iteration, valid.bytes, limits);
  }
}

TEST(RespParserRandomTest, APrefixOfAValidStreamIsItsCompleteCommandsAndAWait) {
  const uint64_t seed = BaseSeed() + 2;
  Generator gen(seed);
  for (int iteration = 0; iteration < Iterations(6000); ++iteration) {
    ValidStream valid = gen.Valid(6);
    ParserLimits limits;
    for (int cut_round = 0; cut_round < 3; ++cut_round) {
      const size_t cut = gen.Uniform(0, valid.bytes.size());
      std::string_view prefix = std::string_view(valid.bytes).substr(0, cut);
      StreamOutcome expected;
      size_t last_end = 0;
      for (size_t i = 0; i < valid.events.size() && valid.ends[i] <= cut; ++i) {
        expected.events.push_back(valid.events[i]);
        last_end = valid.ends[i];
      }
      expected.unconsumed = cut - last_end;
      StreamOutcome split = FeedStream(prefix, limits, gen.Reads(prefix.size()), BufferMode::kRelocateEveryCall);
      std::string failure;
      if (!split.violation.empty() || !split.SameResult(expected)) {
        failure = "cut at " + std::to_string(cut) + "\n  expected: " + Describe(expected) +
                  "\n  parsed:   " + Describe(split);
      }
      if (!failure.empty()) TALLY_FAIL_WITH_INPUT(failure, seed, iteration, valid.bytes, limits);
    }
  }
}

TEST(RespParserRandomTest, MutatedStreamsParseTheSameHoweverTheyAreSplit) {
  const uint64_t seed = BaseSeed() + 3;
  Generator gen(seed);
  for (int iteration = 0; iteration < Iterations(16000); ++iteration) {
    std::string input = gen.Mutate(gen.Valid(5).bytes);
    ParserLimits limits = gen.Limits();
    std::string failure = CheckSplitsAgree(gen, input, limits, 3);
    if (!failure.empty()) TALLY_FAIL_WITH_INPUT(failure, seed, iteration, input, limits);
  }
}

TEST(RespParserRandomTest, TokenSoupAndRandomBytesParseTheSameHoweverTheyAreSplit) {
  const uint64_t seed = BaseSeed() + 4;
  Generator gen(seed);
  for (int iteration = 0; iteration < Iterations(40000); ++iteration) {
    std::string input = gen.OneIn(3) ? gen.RandomBytes(300) : gen.TokenSoup();
    ParserLimits limits = gen.Limits();
    std::string failure = CheckSplitsAgree(gen, input, limits, 3);
    if (!failure.empty()) TALLY_FAIL_WITH_INPUT(failure, seed, iteration, input, limits);
  }
}

TEST(RespParserRandomTest, LengthsAtAndBeyondTheLimitsParseTheSameHoweverTheyAreSplit) {
  const uint64_t seed = BaseSeed() + 5;
  Generator gen(seed);
  for (int iteration = 0; iteration < Iterations(16000); ++iteration) {
    ParserLimits limits = gen.Limits();
    // A count and bulk lengths near each limit (or absurd), with data of
    // about the announced size, so that both sides of each limit are reached.
    auto near = [&](size_t limit) {
      if (gen.OneIn(4)) return gen.Number();
      int64_t value = static_cast<int64_t>(std::min<size_t>(limit, 1000)) + static_cast<int64_t>(gen.Uniform(0, 4)) - 2;
      return std::to_string(value);
    };
    std::string input = "*" + near(limits.max_array_length) + "\r\n";
    for (size_t args = gen.Uniform(0, 4); args > 0; --args) {
      std::string length = near(limits.max_bulk_bytes);
      int64_t n = 0;
      size_t data = ParseInt64(length, &n) && n >= 0 && n <= 2000 ? static_cast<size_t>(n) : gen.Uniform(0, 50);
      if (gen.OneIn(5)) data = gen.OneIn(2) ? data + 1 : (data > 0 ? data - 1 : 0);  // a wrong length
      input += "$" + length + "\r\n" + std::string(data, 'd') + "\r\n";
    }
    if (gen.OneIn(4)) input += std::string(gen.Uniform(0, 80), '7');  // an overlong header line
    std::string failure = CheckSplitsAgree(gen, input, limits, 3);
    if (!failure.empty()) TALLY_FAIL_WITH_INPUT(failure, seed, iteration, input, limits);
  }
}

}  // namespace
}  // namespace tally::protocol
