#pragma once
// A command's reply as a value instead of bytes: what redis.call hands to a
// Lua script, and what a script's result is turned into before it is sent.
// ReplyCapture is the ReplySink that builds one: a command run through the
// command table with it as its sink replies exactly as it would to a
// client, and the script reads the reply.
//
// RESP2's shapes only (scripts see RESP2, as Redis's do by default): a map
// is captured as a flat array of keys and values, a push as an array, a
// nil array as a nil.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/reply_sink.h"

namespace tally::script {

struct ReplyValue {
  enum class Kind : uint8_t { kStatus, kError, kInteger, kBulk, kNull, kArray };
  Kind kind = Kind::kNull;
  int64_t integer = 0;
  // kStatus: the text; kBulk: the bytes; kError: the whole line after '-',
  // its code word first ("ERR value is not an integer or out of range").
  std::string text;
  std::vector<ReplyValue> elements;  // kArray

  static ReplyValue Status(std::string_view text) { return {Kind::kStatus, 0, std::string(text), {}}; }
  static ReplyValue Error(std::string_view line) { return {Kind::kError, 0, std::string(line), {}}; }
  static ReplyValue Integer(int64_t value) { return {Kind::kInteger, value, {}, {}}; }
  static ReplyValue Bulk(std::string_view bytes) { return {Kind::kBulk, 0, std::string(bytes), {}}; }
  static ReplyValue Null() { return {}; }
  bool is_error() const { return kind == Kind::kError; }
};

// Builds the ReplyValue of one reply. Not reusable: one capture per command.
class ReplyCapture final : public protocol::ReplySink {
 public:
  void SendSimple(std::string_view text) override { Place(ReplyValue::Status(text)); }
  void SendError(protocol::ErrorCode code, std::string_view message) override;
  using ReplySink::SendError;
  void SendInteger(int64_t value) override { Place(ReplyValue::Integer(value)); }
  void SendBulk(std::string_view bytes) override { Place(ReplyValue::Bulk(bytes)); }
  void SendNull() override { Place(ReplyValue::Null()); }
  void SendArray(size_t length) override;
  void SendNullArray() override { Place(ReplyValue::Null()); }
  void SendMap(size_t pairs) override { SendArray(2 * pairs); }

  // Whether the (first) reply is an error: the command table's stats ask it.
  bool replied_error() const { return has_value_ && value_.is_error(); }
  // The reply; a nil if the command sent none.
  ReplyValue Take() { return std::move(value_); }

 private:
  void Place(ReplyValue value);

  ReplyValue value_;
  bool has_value_ = false;
  // Arrays being filled, innermost last, with how many elements each still
  // awaits. Their element vectors are reserved to full size up front, so
  // these pointers stay valid while the elements are appended.
  struct Open {
    ReplyValue* array;
    size_t remaining;
  };
  std::vector<Open> open_;
};

// Sends `value` to `sink` (an error with its own code word: see
// ErrorCode::kScriptError).
void SendReplyValue(const ReplyValue& value, protocol::ReplySink& sink);

}  // namespace tally::script
