#include "script/reply_value.h"

#include <string>

#include "protocol/error_codes.h"

namespace tally::script {

void ReplyCapture::SendError(protocol::ErrorCode code, std::string_view message) {
  // A script error's message carries its own code word; every other code's
  // word is its RESP prefix.
  if (code == protocol::ErrorCode::kScriptError) return Place(ReplyValue::Error(message));
  std::string line(protocol::RespPrefix(code));
  line += ' ';
  line += message;
  Place(ReplyValue::Error(line));
}

void ReplyCapture::SendArray(size_t length) {
  ReplyValue array;
  array.kind = ReplyValue::Kind::kArray;
  array.elements.reserve(length);
  ReplyValue* slot = nullptr;
  if (open_.empty()) {
    if (has_value_) return;  // only the first top-level reply counts
    value_ = std::move(array);
    has_value_ = true;
    slot = &value_;
  } else {
    Open& parent = open_.back();
    parent.array->elements.push_back(std::move(array));
    slot = &parent.array->elements.back();
    --parent.remaining;
  }
  while (!open_.empty() && open_.back().remaining == 0) open_.pop_back();
  if (length > 0) open_.push_back({slot, length});
}

void ReplyCapture::Place(ReplyValue value) {
  if (open_.empty()) {
    // Only the first top-level reply counts (a handler sends exactly one).
    if (has_value_) return;
    value_ = std::move(value);
    has_value_ = true;
    return;
  }
  Open& top = open_.back();
  top.array->elements.push_back(std::move(value));
  --top.remaining;
  while (!open_.empty() && open_.back().remaining == 0) open_.pop_back();
}

void SendReplyValue(const ReplyValue& value, protocol::ReplySink& sink) {
  switch (value.kind) {
    case ReplyValue::Kind::kStatus:
      return sink.SendSimple(value.text);
    case ReplyValue::Kind::kError:
      return sink.SendError(protocol::ErrorCode::kScriptError, value.text);
    case ReplyValue::Kind::kInteger:
      return sink.SendInteger(value.integer);
    case ReplyValue::Kind::kBulk:
      return sink.SendBulk(value.text);
    case ReplyValue::Kind::kNull:
      return sink.SendNull();
    case ReplyValue::Kind::kArray:
      sink.SendArray(value.elements.size());
      for (const ReplyValue& element : value.elements) SendReplyValue(element, sink);
      return;
  }
}

}  // namespace tally::script
