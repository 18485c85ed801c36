#pragma once
// The reply sink: command handlers describe their reply as a sequence of typed
// values and never see a socket. RespSink renders RESP2/RESP3 for the line
// protocol; the HTTP layer renders the same calls as JSON. Tests capture them.
//
// Aggregates are announced by length first (as RESP requires): SendArray(n)
// is followed by exactly n values, SendMap(n) by exactly n key/value pairs.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "protocol/errors.h"

namespace tally::protocol {

// A double as Redis 7.0 replies it: "%.17g" ("1.5", "10",
// "0.10000000000000001"), "inf" and "-inf".
std::string FormatDouble(double value);

class ReplySink {
 public:
  virtual ~ReplySink() = default;

  virtual void SendSimple(std::string_view text) = 0;  // +OK
  // An error reply: RESP writes "-<prefix of code> <message>" ("-ERR ...");
  // HTTP takes its status and JSON code from `code` (protocol/error_codes.h).
  virtual void SendError(ErrorCode code, std::string_view message) = 0;
  // An error that names command arguments. Sinks that present arguments
  // under other names (JsonSink) keep the Error; the others print Message().
  virtual void SendError(const Error& error) { SendError(error.code(), error.Message()); }
  virtual void SendInteger(int64_t value) = 0;
  virtual void SendBulk(std::string_view bytes) = 0;
  virtual void SendNull() = 0;                // nil bulk string ($-1 / _)
  virtual void SendArray(size_t length) = 0;  // followed by `length` values
  virtual void SendNullArray() = 0;           // *-1 / _
  virtual void SendMap(size_t pairs) = 0;     // RESP2: flat array of 2*pairs; RESP3: map
  // An out-of-band message (pub/sub): RESP3's push type (>), an array
  // elsewhere (RESP2 has no push type; Redis sends pub/sub as arrays).
  virtual void SendPush(size_t length) { SendArray(length); }
  // A double (sorted set scores), as Redis 7.0 formats it (FormatDouble):
  // RESP3's double type (,1.5), a bulk string elsewhere (RESP2).
  virtual void SendDouble(double value) { SendBulk(FormatDouble(value)); }

  void SendOk() { SendSimple("OK"); }
};

}  // namespace tally::protocol
