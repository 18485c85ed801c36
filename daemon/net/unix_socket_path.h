#pragma once
// The path of the line protocol's unix socket, claimed and released safely:
//   - before binding, an existing socket file is taken over only when
//     nothing answers on it (a server that crashed or was killed left it);
//     a live server, or a path that is not a socket, is refused;
//   - at shutdown, the path is removed only while it is still the socket
//     this process bound (same device and inode): a socket another instance
//     bound there since is left alone.
// Plain POSIX, no Asio.

#include <sys/types.h>

#include <string>

#include "storage/status.h"

namespace tally::net {

// Ok when `path` is free now (it did not exist, or a stale socket was
// removed); Busy when a server accepts connections on it; InvalidArgument
// when it exists and is not a socket; IoError when it cannot be checked.
storage::Status ClaimUnixSocketPath(const std::string& path);

// What was bound at `path` (after bind): its device and inode.
struct BoundSocketFile {
  dev_t dev = 0;
  ino_t ino = 0;
  bool known = false;
};
BoundSocketFile IdentifySocketFile(const std::string& path);

// Unlinks `path` only if it is still `bound`. True if it was removed.
bool RemoveOwnSocketFile(const std::string& path, const BoundSocketFile& bound);

}  // namespace tally::net
