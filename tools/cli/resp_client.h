#pragma once
// A small blocking RESP client for the `tally` command-line tool: connect to
// tallyd over its unix socket or TCP, send one command, read one reply (or,
// after SUBSCRIBE, the next pushed message).
//
// Commands are encoded with the server's own writer (protocol/resp_writer.h).
// The server's parser reads requests only, so replies are read by the small
// parser here; it knows RESP2 and the RESP3 types a client may meet.
//
// Errors are values: a failed connect, write or read gives a ClientError
// saying what happened, in words fit for a one-line message. An error REPLY
// (-ERR ...) is not a ClientError: it is a Reply of type kError.
//
// Thread-compatible: one connection per thread.

#include <chrono>
#include <csignal>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace tally::cli {

// One RESP value as read from the wire.
struct Reply {
  enum class Type { kSimple, kError, kInteger, kBulk, kNull, kArray, kMap, kSet, kPush, kDouble, kBoolean, kBigNumber };
  Type type = Type::kNull;
  std::string text;             // simple, error (without '-'), bulk, double, big number
  int64_t integer = 0;          // integer; boolean as 0/1
  std::vector<Reply> elements;  // array, set, push; a map as key, value, key, value, ...

  bool is_error() const { return type == Type::kError; }
  bool is_null() const { return type == Type::kNull; }
  bool is_array() const { return type == Type::kArray || type == Type::kSet || type == Type::kPush; }
  // An array or a map's elements, flat: RESP2 sends maps as arrays of pairs.
  bool is_list() const { return is_array() || type == Type::kMap; }
  bool is_string() const { return type == Type::kBulk || type == Type::kSimple; }
  // The error's first word: "ERR", "NOAUTH", "WRONGPASS", "NOPERM", ...
  std::string_view error_prefix() const;
};

// Why no reply could be had: the connection could not be made, or it broke.
struct ClientError {
  std::string message;  // e.g. "cannot connect to /run/tally/tally.sock: no such file (is tallyd running?)"
};

// A value, or the ClientError that explains why there is none.
template <typename T>
class ClientResult {
 public:
  ClientResult(T value) : value_(std::move(value)) {}            // NOLINT: implicit by design
  ClientResult(ClientError error) : value_(std::move(error)) {}  // NOLINT: implicit by design
  bool ok() const { return std::holds_alternative<T>(value_); }
  const ClientError& error() const { return std::get<ClientError>(value_); }
  T& value() { return std::get<T>(value_); }
  T& operator*() { return value(); }
  T* operator->() { return &value(); }

 private:
  std::variant<T, ClientError> value_;
};

// Where tallyd listens: a unix socket path, or a TCP host and port.
struct Endpoint {
  std::string unix_socket;  // set: connect to this socket
  std::string host;         // else TCP
  int port = 0;
  std::string ToString() const;  // "/run/tally/tally.sock" or "127.0.0.1:6380"
};

class RespConnection {
 public:
  RespConnection() = default;
  ~RespConnection();
  RespConnection(RespConnection&& other) noexcept;
  RespConnection& operator=(RespConnection&& other) noexcept;
  RespConnection(const RespConnection&) = delete;
  RespConnection& operator=(const RespConnection&) = delete;

  // Connects within `timeout` (TCP: per address tried).
  static ClientResult<RespConnection> Connect(const Endpoint& endpoint,
                                              std::chrono::milliseconds timeout = std::chrono::seconds(5));

  // Sends one command (a multibulk of `args`) and reads its reply.
  ClientResult<Reply> Call(const std::vector<std::string>& args);
  // Sends one command without reading (SUBSCRIBE: its replies are read with ReadReply).
  ClientResult<bool> Send(const std::vector<std::string>& args);
  // Reads the next complete reply, blocking until it comes. A signal that
  // interrupts the wait while `*stop` is non-zero ends it with a ClientError
  // "interrupted" (how `tail` stops on Ctrl-C).
  ClientResult<Reply> ReadReply(const volatile std::sig_atomic_t* stop = nullptr);

  bool connected() const { return fd_ >= 0; }

 private:
  explicit RespConnection(int fd, std::string peer) : fd_(fd), peer_(std::move(peer)) {}
  void Close();

  int fd_ = -1;
  std::string peer_;    // for messages
  std::string buffer_;  // bytes read but not parsed yet
};

// Parses one RESP value from the front of `input`. Returns the bytes it used,
// 0 when `input` holds no complete value yet, or nullopt (with *error set)
// for bytes that are not RESP.
std::optional<size_t> ParseReply(std::string_view input, Reply* out, std::string* error);

}  // namespace tally::cli
