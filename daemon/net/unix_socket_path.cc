#include "net/unix_socket_path.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace tally::net {
namespace {

enum class Probe { kNobody, kLive, kFailed };

// Connects to the socket at `path` without blocking. A listening server
// completes the connect at once (or, with its backlog full, says EAGAIN);
// a socket file without a listener says ECONNREFUSED.
Probe ProbeSocket(const std::string& path, std::string* error) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof address.sun_path) {
    *error = "the path is longer than " + std::to_string(sizeof address.sun_path - 1) + " bytes";
    return Probe::kFailed;
  }
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *error = std::string("socket: ") + std::strerror(errno);
    return Probe::kFailed;
  }
  int rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address);
  int saved = errno;
  ::close(fd);
  if (rc == 0 || saved == EAGAIN || saved == EINPROGRESS) return Probe::kLive;
  if (saved == ECONNREFUSED || saved == ENOENT) return Probe::kNobody;
  *error = std::string("connect: ") + std::strerror(saved);
  return Probe::kFailed;
}

}  // namespace

storage::Status ClaimUnixSocketPath(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return storage::Status::Ok();
    return storage::Status::IoError("cannot check unix socket " + path + ": " + std::strerror(errno));
  }
  if (!S_ISSOCK(st.st_mode)) {
    return storage::Status::InvalidArgument("unix socket path " + path +
                                            " exists and is not a socket; refusing to replace it (remove it, or "
                                            "choose another --unix-socket)");
  }
  std::string error;
  switch (ProbeSocket(path, &error)) {
    case Probe::kLive:
      return storage::Status::Busy("unix socket " + path +
                                   " is in use: a running server accepts connections on it (another tallyd?); "
                                   "stop it or choose another --unix-socket");
    case Probe::kFailed:
      return storage::Status::IoError("cannot check whether a server answers on unix socket " + path + ": " + error);
    case Probe::kNobody:
      break;
  }
  // Stale: left by a server that is gone.
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return storage::Status::IoError("cannot remove the stale unix socket " + path + ": " + std::strerror(errno));
  }
  return storage::Status::Ok();
}

BoundSocketFile IdentifySocketFile(const std::string& path) {
  BoundSocketFile out;
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) {
    out.dev = st.st_dev;
    out.ino = st.st_ino;
    out.known = true;
  }
  return out;
}

bool RemoveOwnSocketFile(const std::string& path, const BoundSocketFile& bound) {
  if (!bound.known) return false;
  BoundSocketFile now = IdentifySocketFile(path);
  if (!now.known || now.dev != bound.dev || now.ino != bound.ino) return false;
  return ::unlink(path.c_str()) == 0;
}

}  // namespace tally::net
