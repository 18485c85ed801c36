#pragma once
// JsonSink: the HTTP front end's ReplySink. It records a handler's reply as a
// JSON value (arrays as arrays, maps as objects, integers as numbers, bulk
// and simple strings as strings, nil as null) so routes can reshape it into
// their documented JSON without any handler knowing about HTTP.
//
// A top-level error is kept apart (error()) as the Error value, so the HTTP
// route can name the arguments it mentions by its own field names; an error
// inside an aggregate becomes {"error": {"code", "message"}} in place.

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

#include "protocol/reply_sink.h"

namespace tally::protocol {

class JsonSink final : public ReplySink {
 public:
  void SendSimple(std::string_view text) override;
  void SendError(ErrorCode code, std::string_view message) override;
  void SendError(const Error& error) override;
  void SendInteger(int64_t value) override;
  void SendBulk(std::string_view bytes) override;
  void SendNull() override;
  void SendDouble(double value) override;  // a number; "inf" / "-inf" as strings (JSON has no infinity)
  void SendArray(size_t length) override;
  void SendNullArray() override;
  void SendMap(size_t pairs) override;

  // True once one complete top-level value (or error) was sent.
  bool complete() const { return done_; }
  // The top-level error, if the reply was one.
  const std::optional<Error>& error() const { return error_; }
  // The reply; null when it was an error or nothing was sent.
  nlohmann::json& value() { return root_; }
  void Reset();

 private:
  struct Frame {
    nlohmann::json* node;  // array or object being filled
    size_t remaining;      // values (arrays) or keys + values (maps) still expected
    bool is_map;
    bool expect_key;  // maps: the next value is a key
    std::string pending_key;
  };
  nlohmann::json* Place(nlohmann::json value);
  void CloseCompleted();
  void Scalar(nlohmann::json value);
  void Aggregate(nlohmann::json empty, size_t values, bool is_map);

  nlohmann::json root_;
  std::vector<Frame> stack_;
  std::optional<Error> error_;
  bool done_ = false;
};

}  // namespace tally::protocol
