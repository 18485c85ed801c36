#pragma once
// Blocking socket primitives shared by the test clients (RespClient in
// tallyd_process.h, HttpClient in http_client.h): connect to loopback, send
// everything, receive what is there before a deadline.

#include <chrono>
#include <string>
#include <string_view>

namespace tally::itest {

using SteadyClock = std::chrono::steady_clock;

// Milliseconds left until `deadline` (0 when past), for poll().
int RemainingMs(SteadyClock::time_point deadline);
// A TCP connection to 127.0.0.1:port with TCP_NODELAY and a 30 s send
// timeout (a write that makes no progress is a hang); -1 on failure (errno set).
int ConnectLoopbackTcp(int port, std::chrono::milliseconds timeout);
// Writes all bytes (false on error, e.g. the peer closed the connection).
bool SendAll(int fd, std::string_view bytes);
// Appends the bytes that arrive before `deadline` (one recv) to `buffer`;
// false on EOF, error or timeout, with the reason in *why ("timeout",
// "connection closed by server (EOF)", "recv: ...").
bool ReceiveSome(int fd, std::string& buffer, SteadyClock::time_point deadline, std::string* why);

// A connected socket and the bytes received but not consumed yet: what both
// test clients are built on. Movable, closes on destruction.
class BufferedSocket {
 public:
  BufferedSocket() = default;
  explicit BufferedSocket(int fd) : fd_(fd) {}
  ~BufferedSocket();
  BufferedSocket(BufferedSocket&& other) noexcept;
  BufferedSocket& operator=(BufferedSocket&& other) noexcept;
  BufferedSocket(const BufferedSocket&) = delete;
  BufferedSocket& operator=(const BufferedSocket&) = delete;

  bool connected() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  void Close();
  // Writes all bytes (false on error, e.g. the server closed the connection).
  bool Send(std::string_view bytes) { return SendAll(fd_, bytes); }
  // True if the server closes the connection within `timeout` (EOF or
  // reset). Bytes not consumed yet, and those that arrive first, are
  // appended to `*received` if given (and consumed).
  bool WaitClosed(std::chrono::milliseconds timeout = std::chrono::seconds(5), std::string* received = nullptr);
  // Bytes received but not consumed yet.
  const std::string& pending() const { return buffer_; }

 protected:
  // Reads more bytes into buffer_; false on EOF/error/timeout (reason in *why).
  bool Fill(SteadyClock::time_point deadline, std::string* why) { return ReceiveSome(fd_, buffer_, deadline, why); }

  int fd_ = -1;
  std::string buffer_;
};

}  // namespace tally::itest
