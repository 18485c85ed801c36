#pragma once
// What tallyd asks of the host at start, before it opens anything: file
// descriptors (raise RLIMIT_NOFILE, then make the connection limits fit what
// was granted, as Redis does with maxclients) and the permissions of what it
// creates (the umask, from data_dir_mode).
//
// The descriptor budget (docs/reliability.md, "Resource limits"):
//   fixed    = kFixedFds + 3 per I/O thread (RESP and HTTP): stdio, the data
//              dir lock, the listeners, each loop's epoll, eventfd and timer
//   rocksdb  = kRocksDbBaseFds + 2 x the SST files in the data dir at start
//              (RocksDB keeps every table file open; the factor 2 leaves the
//              store room to grow, the base covers both instances' WAL,
//              MANIFEST, LOG, LOCK, directories and flush/compaction outputs)
//   http     = http_max_connections + kHttpProbeConnections (HTTP off: 0)
//   needed   = max_clients + http + rocksdb + fixed
// When the limit is below `needed`, max_clients and http_max_connections are
// lowered, each in proportion to its setting, until they fit; when not even
// one connection of each fits, tallyd refuses to start.

#include <cstdint>
#include <string>
#include <string_view>

#include "config.h"

namespace tally {

inline constexpr int64_t kFixedFds = 32;
inline constexpr int64_t kFdsPerIoThread = 3;
inline constexpr int64_t kRocksDbBaseFds = 64;
// HTTP connections past http_max_connections that are still read, so that
// /health and /ready answer while the ordinary connections are all taken.
inline constexpr int64_t kHttpProbeConnections = 16;

struct FdBudget {
  int64_t fixed = 0;
  int64_t rocksdb = 0;
  int64_t http_reserve = 0;  // kHttpProbeConnections with HTTP on, else 0
  int64_t Overhead() const { return fixed + rocksdb + http_reserve; }
};

FdBudget ComputeFdBudget(const Config& config, int64_t sst_files);

struct FdPlan {
  int64_t needed = 0;  // with the configured connection limits
  int64_t max_clients = 0;
  int64_t http_max_connections = 0;
  bool lowered = false;  // a connection limit was lowered to fit
  bool fits = true;      // false: not even one connection of each fits; refuse to start
  std::string message;   // the warning (lowered) or the error (!fits)
};

// Pure: what `config` needs under a descriptor limit of `fd_limit`.
FdPlan PlanFileDescriptors(const Config& config, int64_t fd_limit, int64_t sst_files);

struct FdLimit {
  int64_t soft_before = 0;
  int64_t soft = 0;  // after raising
  int64_t hard = 0;
  std::string error;  // setrlimit failed (soft stays soft_before)
};

// Raises RLIMIT_NOFILE's soft limit to the hard limit (an unlimited hard
// limit means fs.nr_open, the most the kernel allows).
FdLimit RaiseFileDescriptorLimit();

// *.sst files under `dir` (recursively); 0 if it does not exist.
int64_t CountSstFiles(const std::string& dir);

// "0700", "750": octal permission bits; the owner must keep rwx (tallyd
// reads, writes and lists its own directory). False with a message naming
// the setting otherwise.
bool ParseDirMode(std::string_view text, unsigned* mode, std::string* error);
// unix_socket_mode: "0660", "0600", ... The owner must keep rw (06xx); no
// setuid, setgid or sticky bits. False with a message naming the setting.
bool ParseSocketMode(std::string_view text, unsigned* mode, std::string* error);

// The umask that makes new directories `mode` and new files `mode` without
// the x bits: 0700 -> 077 (files 0600), 0750 -> 027 (files 0640).
unsigned UmaskForDirMode(unsigned mode);

}  // namespace tally
