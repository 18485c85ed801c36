#pragma once
// Feeds a byte stream to a RespParser the way a connection does, and checks the
// parser's contract on every call. Shared by the parser's unit tests, the
// deterministic random test and the libFuzzer target, so that all three judge
// the parser by the same rules.
//
// The connection model (daemon/net/resp_server.cc): bytes arrive in reads;
// after each read the pending bytes, starting at the first unconsumed byte,
// are parsed until kNeedMore; kOk drops consumed() bytes; kError ends the
// stream (the connection is closed). The parser is never called with no bytes.
//
// Contract checked on every call (the first violation is recorded):
//   kNeedMore: nothing consumed, no arguments.
//   kOk:       0 < consumed() <= input size; a multibulk command starts with
//              '*', ends with CRLF and its argument views lie inside the bytes
//              it consumed; an inline command does not start with '*', ends
//              with '\n' and its views lie outside the input (in the parser's
//              scratch), together no longer than the line.
//   kError:    a "Protocol error: ..." text and no arguments.
// Every argument byte is copied out, so under AddressSanitizer a view into
// freed or foreign memory is caught at once.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/resp_parser.h"

namespace tally::protocol {

// One result of Parse() that a connection acts on.
struct ParseEvent {
  std::vector<std::string> args;  // empty for a no-op (empty line, "*0", "*-1")
  bool was_inline = false;
  std::string error;  // non-empty for a protocol error (always the last event)

  friend bool operator==(const ParseEvent&, const ParseEvent&) = default;
};

struct StreamOutcome {
  std::vector<ParseEvent> events;
  // Bytes of an incomplete command still waiting for more input at the end of
  // the stream (0 after an error).
  size_t unconsumed = 0;
  // The first contract rule the parser broke, with context; empty when none.
  std::string violation;

  // Equal results; `violation` is deliberately not compared.
  bool SameResult(const StreamOutcome& other) const { return events == other.events && unconsumed == other.unconsumed; }
};

enum class BufferMode {
  // One buffer whose start never moves; reads are appended to it. The bytes
  // handed to the parser always begin at the first unconsumed byte.
  kAppendInPlace,
  // Before every call the unconsumed bytes are copied into a fresh allocation
  // of exactly their size (the old one is freed): the parser must keep
  // offsets, not pointers, and must not read past the end of its input.
  kRelocateEveryCall,
};

namespace driver_internal {

inline bool Inside(std::string_view part, const char* begin, const char* end) {
  auto p = reinterpret_cast<uintptr_t>(part.data());
  return p >= reinterpret_cast<uintptr_t>(begin) && p + part.size() <= reinterpret_cast<uintptr_t>(end);
}

inline bool Disjoint(std::string_view part, std::string_view input) {
  if (part.empty()) return true;
  auto p = reinterpret_cast<uintptr_t>(part.data());
  auto b = reinterpret_cast<uintptr_t>(input.data());
  return p + part.size() <= b || p >= b + input.size();
}

// Checks one call's result against the contract; returns "" when it holds.
inline std::string CheckCall(const RespParser& parser, ParseStatus status, std::string_view input) {
  const auto& args = parser.command();
  switch (status) {
    case ParseStatus::kNeedMore:
      if (parser.consumed() != 0) return "kNeedMore with consumed() != 0";
      if (!args.empty()) return "kNeedMore with arguments";
      return "";
    case ParseStatus::kError:
      if (parser.error().rfind("Protocol error: ", 0) != 0)
        return "kError text is not a protocol error: " + parser.error();
      if (!args.empty()) return "kError with arguments";
      return "";
    case ParseStatus::kOk:
      break;
  }
  const size_t consumed = parser.consumed();
  if (consumed == 0 || consumed > input.size()) {
    return "kOk consumed " + std::to_string(consumed) + " of " + std::to_string(input.size()) + " bytes";
  }
  const char* begin = input.data();
  if (parser.was_inline()) {
    if (input[0] == '*') return "inline command starting with '*'";
    if (input[consumed - 1] != '\n') return "inline command not ending with '\\n'";
    size_t total = 0;
    for (std::string_view arg : args) {
      if (!Disjoint(arg, input)) return "inline argument view points into the input";
      total += arg.size();
    }
    if (total > consumed) return "inline arguments longer than their line";
  } else {
    if (input[0] != '*') return "multibulk command not starting with '*'";
    if (consumed < 4 || input.substr(consumed - 2, 2) != "\r\n") return "multibulk command not ending with CRLF";
    for (std::string_view arg : args) {
      if (!Inside(arg, begin, begin + consumed)) return "multibulk argument view outside the consumed bytes";
    }
  }
  return "";
}

}  // namespace driver_internal

// Feeds `stream` to a fresh parser in reads of `read_sizes` bytes (zero-sized
// reads deliver nothing; whatever the sizes leave arrives in one final read).
inline StreamOutcome FeedStream(std::string_view stream, const ParserLimits& limits, std::span<const size_t> read_sizes,
                                BufferMode mode) {
  StreamOutcome outcome;
  RespParser parser(limits);

  // kAppendInPlace: `buffer` holds the whole connection input, reserved up
  // front so that its start never moves; `begin` is the first unconsumed byte.
  std::string buffer;
  buffer.reserve(stream.size());
  size_t begin = 0;
  // kRelocateEveryCall: the pending bytes in an exactly sized allocation.
  std::unique_ptr<char[]> moved;

  size_t delivered = 0;
  size_t read_index = 0;
  while (delivered < stream.size()) {
    size_t want = read_index < read_sizes.size() ? read_sizes[read_index] : stream.size();
    ++read_index;
    size_t take = std::min(want, stream.size() - delivered);
    buffer.append(stream.substr(delivered, take));
    delivered += take;

    while (begin < buffer.size()) {
      std::string_view input(buffer.data() + begin, buffer.size() - begin);
      if (mode == BufferMode::kRelocateEveryCall) {
        moved.reset();  // free the previous copy first: stale views then point to freed memory
        moved = std::make_unique<char[]>(input.size());
        std::copy(input.begin(), input.end(), moved.get());
        input = std::string_view(moved.get(), input.size());
      }
      ParseStatus status = parser.Parse(input);
      if (std::string broken = driver_internal::CheckCall(parser, status, input); !broken.empty()) {
        outcome.violation = broken + " (stream offset " + std::to_string(begin) + ")";
        return outcome;
      }
      if (status == ParseStatus::kNeedMore) break;
      ParseEvent event;
      if (status == ParseStatus::kError) {
        event.error = parser.error();
        outcome.events.push_back(std::move(event));
        outcome.unconsumed = 0;
        return outcome;
      }
      event.was_inline = parser.was_inline();
      for (std::string_view arg : parser.command()) event.args.emplace_back(arg);
      outcome.events.push_back(std::move(event));
      begin += parser.consumed();
    }
  }
  outcome.unconsumed = buffer.size() - begin;
  return outcome;
}

inline StreamOutcome FeedWhole(std::string_view stream, const ParserLimits& limits = {}) {
  return FeedStream(stream, limits, {}, BufferMode::kAppendInPlace);
}

inline StreamOutcome FeedByteByByte(std::string_view stream, const ParserLimits& limits = {},
                                    BufferMode mode = BufferMode::kAppendInPlace) {
  std::vector<size_t> ones(stream.size(), 1);
  return FeedStream(stream, limits, ones, mode);
}

// Read sizes that cut `total` bytes at random points, each read 0..max_read bytes.
inline std::vector<size_t> RandomReadSizes(size_t total, size_t max_read, std::mt19937_64& rng) {
  std::vector<size_t> sizes;
  std::uniform_int_distribution<size_t> size_of(0, std::max<size_t>(max_read, 1));
  for (size_t sum = 0; sum < total;) {
    size_t size = size_of(rng);
    sizes.push_back(size);
    sum += size;
  }
  return sizes;
}

// Printable form of bytes for failure messages.
inline std::string Escape(std::string_view bytes, size_t limit = 512) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < bytes.size() && i < limit; ++i) {
    auto c = static_cast<unsigned char>(bytes[i]);
    if (c == '\r') {
      out += "\\r";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\\') {
      out += "\\\\";
    } else if (c < 0x20 || c >= 0x7f) {
      out += "\\x";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  if (bytes.size() > limit) out += "...(" + std::to_string(bytes.size()) + " bytes)";
  return out;
}

inline std::string Describe(const StreamOutcome& outcome) {
  std::string out;
  for (const ParseEvent& event : outcome.events) {
    if (!event.error.empty()) {
      out += "error[" + event.error + "] ";
      continue;
    }
    out += event.was_inline ? "inline[" : "multibulk[";
    for (size_t i = 0; i < event.args.size(); ++i) {
      if (i > 0) out += ", ";
      out += "\"" + Escape(event.args[i], 40) + "\"";
    }
    out += "] ";
  }
  out += "unconsumed=" + std::to_string(outcome.unconsumed);
  if (!outcome.violation.empty()) out += " VIOLATION: " + outcome.violation;
  return out;
}

}  // namespace tally::protocol
