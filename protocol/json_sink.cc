#include "protocol/json_sink.h"

#include <cmath>

namespace tally::protocol {

void JsonSink::Reset() {
  root_ = nullptr;
  stack_.clear();
  error_.reset();
  done_ = false;
}

// Puts `value` where the reply is at: the root, the next element of the open
// array, or the key / value slot of the open map. Returns where it landed
// (nullptr when it became a map key). Pointers stay valid while their frame
// is open: a parent gets no new element until its child frame is complete.
nlohmann::json* JsonSink::Place(nlohmann::json value) {
  if (stack_.empty()) {
    root_ = std::move(value);
    return &root_;
  }
  Frame& top = stack_.back();
  --top.remaining;
  if (top.is_map && top.expect_key) {
    top.pending_key = value.is_string() ? value.get<std::string>() : value.dump();
    top.expect_key = false;
    return nullptr;
  }
  if (top.is_map) {
    top.expect_key = true;
    nlohmann::json& slot = (*top.node)[top.pending_key];
    slot = std::move(value);
    return &slot;
  }
  top.node->push_back(std::move(value));
  return &top.node->back();
}

void JsonSink::CloseCompleted() {
  while (!stack_.empty() && stack_.back().remaining == 0) stack_.pop_back();
  if (stack_.empty()) done_ = true;
}

void JsonSink::Scalar(nlohmann::json value) {
  Place(std::move(value));
  CloseCompleted();
}

void JsonSink::Aggregate(nlohmann::json empty, size_t values, bool is_map) {
  nlohmann::json* node = Place(std::move(empty));
  if (node != nullptr && values > 0) {
    if (node->is_array()) node->get_ref<nlohmann::json::array_t&>().reserve(values);
    stack_.push_back({node, values, is_map, true, {}});
    return;
  }
  CloseCompleted();
}

void JsonSink::SendSimple(std::string_view text) { Scalar(std::string(text)); }

void JsonSink::SendError(ErrorCode code, std::string_view message) { SendError(Error(code, message)); }

void JsonSink::SendError(const Error& error) {
  if (stack_.empty()) {
    error_ = error;
    root_ = nullptr;
    done_ = true;
    return;
  }
  Scalar(nlohmann::json{{"error", {{"code", std::string(ErrorName(error.code()))}, {"message", error.Message()}}}});
}

void JsonSink::SendInteger(int64_t value) { Scalar(value); }
void JsonSink::SendBulk(std::string_view bytes) { Scalar(std::string(bytes)); }
void JsonSink::SendNull() { Scalar(nullptr); }

void JsonSink::SendDouble(double value) {
  if (std::isinf(value)) return Scalar(value > 0 ? "inf" : "-inf");
  Scalar(value);
}
void JsonSink::SendNullArray() { Scalar(nullptr); }
void JsonSink::SendArray(size_t length) { Aggregate(nlohmann::json::array(), length, false); }
void JsonSink::SendMap(size_t pairs) { Aggregate(nlohmann::json::object(), pairs * 2, true); }

}  // namespace tally::protocol
