#pragma once
// RESP encoder appending to a caller-owned buffer (the connection's output
// buffer, reused across commands so steady state does not allocate), and the
// RESP implementation of ReplySink.

#include <cstdint>
#include <string>
#include <string_view>

#include "protocol/reply_sink.h"

namespace tally::protocol {

namespace resp {
void AppendSimple(std::string& out, std::string_view text);
// "-<prefix> <message>\r\n" ("-ERR value is not an integer or out of range");
// CR and LF inside are replaced by spaces.
void AppendError(std::string& out, std::string_view prefix, std::string_view message);
// "-<line>\r\n": an error whose line starts with its own code word.
void AppendErrorLine(std::string& out, std::string_view line);
void AppendInteger(std::string& out, int64_t value);
void AppendBulk(std::string& out, std::string_view bytes);
void AppendNullBulk(std::string& out);
void AppendArrayHeader(std::string& out, size_t length);
void AppendNullArray(std::string& out);
// ">N\r\n" (RESP3) or "*N\r\n" (RESP2): the header of a pub/sub message.
void AppendPushHeader(std::string& out, size_t length, bool resp3);
}  // namespace resp

// Writes RESP2 or RESP3 (after HELLO 3) into `out`.
class RespSink final : public ReplySink {
 public:
  explicit RespSink(std::string* out) : out_(out) {}

  void set_resp3(bool on) { resp3_ = on; }
  bool resp3() const { return resp3_; }
  std::string& buffer() { return *out_; }

  void SendSimple(std::string_view text) override { resp::AppendSimple(*out_, text); }
  void SendError(ErrorCode code, std::string_view message) override {
    // A script's error carries its own code word ("MYERR ...", or just "e").
    if (code == ErrorCode::kScriptError) return resp::AppendErrorLine(*out_, message);
    resp::AppendError(*out_, RespPrefix(code), message);
  }
  using ReplySink::SendError;
  void SendInteger(int64_t value) override { resp::AppendInteger(*out_, value); }
  void SendBulk(std::string_view bytes) override { resp::AppendBulk(*out_, bytes); }
  void SendNull() override;
  void SendArray(size_t length) override { resp::AppendArrayHeader(*out_, length); }
  void SendNullArray() override;
  void SendMap(size_t pairs) override;
  void SendPush(size_t length) override;
  void SendDouble(double value) override;

 private:
  std::string* out_;
  bool resp3_ = false;
};

}  // namespace tally::protocol
