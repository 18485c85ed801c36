#include "resp_client.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include "protocol/resp_parser.h"
#include "protocol/resp_writer.h"

namespace tally::cli {
namespace {

// Deeper nesting than any tallyd reply; bounds the recursion on bad input.
constexpr int kMaxDepth = 32;

// What a failed connect means to a user, in a few words.
std::string ConnectFailure(int error) {
  switch (error) {
    case ENOENT:
      return "no such file (is tallyd running?)";
    case ECONNREFUSED:
      return "connection refused (is tallyd running?)";
    case EACCES:
    case EPERM:
      return "permission denied (the socket is for tallyd's group: are you in it?)";
    case ETIMEDOUT:
    case EAGAIN:
    case EINPROGRESS:
      return "timed out";
    default:
      return std::strerror(error);
  }
}

// Parses one value at input[*pos]; advances *pos past it. 1: done, 0: need
// more bytes, -1: malformed (*error says why).
int ParseValue(std::string_view input, size_t* pos, Reply* out, std::string* error, int depth) {
  if (depth > kMaxDepth) {
    *error = "reply nested too deeply";
    return -1;
  }
  if (*pos >= input.size()) return 0;
  const char marker = input[*pos];
  const size_t line_end = input.find("\r\n", *pos + 1);
  if (line_end == std::string_view::npos) return 0;
  const std::string_view line = input.substr(*pos + 1, line_end - *pos - 1);
  size_t next = line_end + 2;
  auto length_of = [&](int64_t* length) {
    if (!protocol::ParseInt64(line, length) || *length < -1) {
      *error = "bad length '" + std::string(line) + "'";
      return false;
    }
    return true;
  };
  switch (marker) {
    case '+':
    case '-':
    case ',':
    case '(':
      out->type = marker == '+'   ? Reply::Type::kSimple
                  : marker == '-' ? Reply::Type::kError
                  : marker == ',' ? Reply::Type::kDouble
                                  : Reply::Type::kBigNumber;
      out->text = std::string(line);
      *pos = next;
      return 1;
    case ':':
      out->type = Reply::Type::kInteger;
      if (!protocol::ParseInt64(line, &out->integer)) {
        *error = "bad integer '" + std::string(line) + "'";
        return -1;
      }
      *pos = next;
      return 1;
    case '#':
      out->type = Reply::Type::kBoolean;
      out->integer = line == "t" ? 1 : 0;
      *pos = next;
      return 1;
    case '_':
      out->type = Reply::Type::kNull;
      *pos = next;
      return 1;
    case '$':
    case '=': {  // bulk, verbatim ("txt:" + text)
      int64_t length = 0;
      if (!length_of(&length)) return -1;
      if (length == -1) {
        out->type = Reply::Type::kNull;
        *pos = next;
        return 1;
      }
      if (input.size() < next + static_cast<size_t>(length) + 2) return 0;
      out->type = Reply::Type::kBulk;
      out->text = std::string(input.substr(next, static_cast<size_t>(length)));
      if (marker == '=' && out->text.size() >= 4) out->text.erase(0, 4);
      *pos = next + static_cast<size_t>(length) + 2;
      return 1;
    }
    case '*':
    case '~':
    case '>':
    case '%': {
      int64_t length = 0;
      if (!length_of(&length)) return -1;
      if (length == -1) {
        out->type = Reply::Type::kNull;
        *pos = next;
        return 1;
      }
      out->type = marker == '*'   ? Reply::Type::kArray
                  : marker == '~' ? Reply::Type::kSet
                  : marker == '>' ? Reply::Type::kPush
                                  : Reply::Type::kMap;
      const int64_t count = marker == '%' ? length * 2 : length;
      out->elements.clear();
      for (int64_t i = 0; i < count; ++i) {
        Reply element;
        const int status = ParseValue(input, &next, &element, error, depth + 1);
        if (status != 1) return status;
        out->elements.push_back(std::move(element));
      }
      *pos = next;
      return 1;
    }
    default:
      *error = std::string("unexpected byte '") + marker + "'";
      return -1;
  }
}

}  // namespace

std::string_view Reply::error_prefix() const {
  const std::string_view view = text;
  return view.substr(0, view.find(' '));
}

std::string Endpoint::ToString() const {
  if (!unix_socket.empty()) return unix_socket;
  return (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::optional<size_t> ParseReply(std::string_view input, Reply* out, std::string* error) {
  size_t pos = 0;
  const int status = ParseValue(input, &pos, out, error, 0);
  if (status < 0) return std::nullopt;
  return status == 0 ? 0 : pos;
}

RespConnection::~RespConnection() { Close(); }

RespConnection::RespConnection(RespConnection&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), peer_(std::move(other.peer_)), buffer_(std::move(other.buffer_)) {}

RespConnection& RespConnection::operator=(RespConnection&& other) noexcept {
  if (this != &other) {
    Close();
    fd_ = std::exchange(other.fd_, -1);
    peer_ = std::move(other.peer_);
    buffer_ = std::move(other.buffer_);
  }
  return *this;
}

void RespConnection::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

ClientResult<RespConnection> RespConnection::Connect(const Endpoint& endpoint, std::chrono::milliseconds timeout) {
  const std::string where = "cannot connect to " + endpoint.ToString() + ": ";
  // Linux bounds a blocking connect() by SO_SNDTIMEO; later reads block as long as it takes (tail follows).
  timeval send_timeout{};
  send_timeout.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  send_timeout.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
  auto open_socket = [&](int family, int type, int protocol) {
    const int fd = ::socket(family, type | SOCK_CLOEXEC, protocol);
    if (fd >= 0) ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &send_timeout, sizeof(send_timeout));
    return fd;
  };
  auto clear_timeout = [](int fd) {
    timeval none{};
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &none, sizeof(none));
  };

  if (!endpoint.unix_socket.empty()) {
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    if (endpoint.unix_socket.size() >= sizeof(address.sun_path)) {
      return ClientError{where + "the path is longer than " + std::to_string(sizeof(address.sun_path) - 1) + " bytes"};
    }
    std::memcpy(address.sun_path, endpoint.unix_socket.c_str(), endpoint.unix_socket.size() + 1);
    const int fd = open_socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0) return ClientError{where + std::strerror(errno)};
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
      const int error = errno;
      ::close(fd);
      return ClientError{where + ConnectFailure(error)};
    }
    clear_timeout(fd);
    return RespConnection(fd, endpoint.ToString());
  }

  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* addresses = nullptr;
  const std::string port = std::to_string(endpoint.port);
  if (const int status = ::getaddrinfo(endpoint.host.c_str(), port.c_str(), &hints, &addresses); status != 0) {
    return ClientError{where + ::gai_strerror(status)};
  }
  int last_error = ECONNREFUSED;
  for (const addrinfo* candidate = addresses; candidate != nullptr; candidate = candidate->ai_next) {
    const int fd = open_socket(candidate->ai_family, candidate->ai_socktype, candidate->ai_protocol);
    if (fd < 0) {
      last_error = errno;
      continue;
    }
    if (::connect(fd, candidate->ai_addr, candidate->ai_addrlen) == 0) {
      ::freeaddrinfo(addresses);
      clear_timeout(fd);
      const int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      return RespConnection(fd, endpoint.ToString());
    }
    last_error = errno;
    ::close(fd);
  }
  ::freeaddrinfo(addresses);
  return ClientError{where + ConnectFailure(last_error)};
}

ClientResult<bool> RespConnection::Send(const std::vector<std::string>& args) {
  if (fd_ < 0) return ClientError{"not connected"};
  std::string request;
  protocol::resp::AppendArrayHeader(request, args.size());
  for (const std::string& arg : args) protocol::resp::AppendBulk(request, arg);
  size_t sent = 0;
  while (sent < request.size()) {
    const ssize_t n = ::send(fd_, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int error = errno;
      Close();
      return ClientError{"lost the connection to " + peer_ + ": " + std::strerror(error)};
    }
    sent += static_cast<size_t>(n);
  }
  return true;
}

ClientResult<Reply> RespConnection::ReadReply(const volatile std::sig_atomic_t* stop) {
  if (fd_ < 0) return ClientError{"not connected"};
  while (true) {
    Reply reply;
    std::string error;
    const std::optional<size_t> used = ParseReply(buffer_, &reply, &error);
    if (!used) {
      Close();
      return ClientError{"bad reply from " + peer_ + ": " + error};
    }
    if (*used > 0) {
      buffer_.erase(0, *used);
      return reply;
    }
    char chunk[16 * 1024];
    const ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
    if (n < 0 && errno == EINTR) {
      if (stop != nullptr && *stop != 0) return ClientError{"interrupted"};
      continue;
    }
    if (n == 0) {
      Close();
      return ClientError{"lost the connection to " + peer_ + ": tallyd closed it"};
    }
    if (n < 0) {
      const int error = errno;
      Close();
      return ClientError{"lost the connection to " + peer_ + ": " + std::strerror(error)};
    }
    buffer_.append(chunk, static_cast<size_t>(n));
  }
}

ClientResult<Reply> RespConnection::Call(const std::vector<std::string>& args) {
  ClientResult<bool> sent = Send(args);
  if (!sent.ok()) return sent.error();
  return ReadReply();
}

}  // namespace tally::cli
