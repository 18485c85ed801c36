#pragma once
// Incremental RESP2 request parser: multibulk commands ("*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n")
// and inline commands ("ECHO hi\r\n", as redis-cli and nc send them).
//
// Usage: feed the unconsumed bytes of the connection; on kOk, `command()` holds
// the arguments and `consumed()` how many bytes the command used; drop them and
// call again (pipelining). On kNeedMore, keep the bytes, append what the socket
// delivers next and call again with the same start: the parser resumes where it
// stopped (its state is kept as offsets, so the caller may move the bytes).
// On kError the connection's framing is lost: reply `error()` and close.
//
// Argument views point into the input (multibulk) or into the parser's own
// scratch buffer (inline); they stay valid until the next call to Parse().
// Steady state does no heap allocation: buffers are reused.
//
// Thread-compatible: one parser per connection.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tally::protocol {

struct ParserLimits {
  // Longest inline command line, and longest "*<n>" / "$<n>" header line.
  size_t max_inline_bytes = 64 * 1024;
  // Largest bulk string argument (Redis: proto-max-bulk-len, 512 MB).
  size_t max_bulk_bytes = 64 * 1024 * 1024;
  // Most arguments in one command.
  size_t max_array_length = 1024 * 1024;
};

enum class ParseStatus { kOk, kNeedMore, kError };

class RespParser {
 public:
  explicit RespParser(ParserLimits limits = {});

  ParseStatus Parse(std::string_view input);

  // Valid after kOk.
  const std::vector<std::string_view>& command() const { return args_; }
  size_t consumed() const { return consumed_; }
  // Valid after kError: the Redis protocol error text (without "ERR ").
  const std::string& error() const { return error_; }
  // True after kOk if the command was an inline (text) command.
  bool was_inline() const { return was_inline_; }

  // Heap bytes the parser holds for the command being parsed and the last
  // one (argument spans and views, the inline scratch): a huge multibulk
  // costs 16 bytes per argument here on top of its bytes in the input, and
  // the caller's query buffer limit counts both.
  size_t held_bytes() const {
    return arg_spans_.capacity() * sizeof(arg_spans_[0]) + args_.capacity() * sizeof(args_[0]) +
           inline_scratch_.capacity();
  }
  // Gives back what a large command made the buffers grow to. Only between
  // commands (after kOk, or before the first Parse); command() is emptied.
  void ReleaseMemory();

 private:
  ParseStatus ParseInline(std::string_view input);
  ParseStatus ParseMultibulk(std::string_view input);
  ParseStatus Fail(std::string_view message);
  void Reset();

  ParserLimits limits_;
  // Resumable multibulk state, relative to the start of the command.
  int64_t array_length_ = -1;                         // -1: header not parsed yet
  size_t position_ = 0;                               // next byte to parse
  std::vector<std::pair<size_t, size_t>> arg_spans_;  // (offset, length)

  std::vector<std::string_view> args_;
  std::string inline_scratch_;
  size_t consumed_ = 0;
  bool was_inline_ = false;
  std::string error_;
};

// Redis's string2ll: strict decimal int64 ("-0", "+1", " 1", "01" are refused).
bool ParseInt64(std::string_view text, int64_t* value);

}  // namespace tally::protocol
