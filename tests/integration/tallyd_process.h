#pragma once
// Integration-test harness: runs the real tallyd binary on a fresh temporary
// data dir and talks to it the way users do.
//
//  - TallydProcess: fork/exec of tallyd on a temp data dir and a free TCP port,
//    stdout/stderr appended to <dir>/tallyd.log, Start() waits until PING
//    answers; Stop() = SIGTERM + wait, Kill() = SIGKILL + wait, Restart() on
//    the same dir. When the test has failed, the destructor prints the log.
//  - RespClient: a raw RESP client over TCP or a unix socket for exact byte
//    checks (send any bytes, read one reply fully, RESP2 and RESP3 values).
//  - RunProcess / RedisCli: runs redis-cli (or any program) from an argv, no
//    shell, with optional stdin, capturing stdout and stderr.
//  - HttpClient (http_client.h): a raw blocking HTTP/1.1 client; every
//    TallydProcess also listens for HTTP on its own free port (http_port()).
//
// Every helper reports failure in its return value (an AssertionResult, a
// RespValue of type kNoReply, a ProcessResult) so tests can ASSERT on it with
// a useful message; nothing here aborts the test binary.

#include <gtest/gtest.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http_client.h"
#include "temp_dir.h"

namespace tally::itest {

using namespace std::chrono_literals;

// ---------------------------------------------------------------------------
// Child processes (redis-cli, redis-benchmark, tallyd --help, ...)

struct ProcessResult {
  bool started = false;  // false: the program could not be run at all
  bool exited = false;   // exited normally (exit_code valid)
  int exit_code = -1;
  int term_signal = 0;           // killed by this signal
  bool timed_out = false;        // we killed it after the timeout
  std::string out;               // stdout
  std::string err;               // stderr
  std::string Describe() const;  // for failure messages
};

// Runs argv[0] (a path, or a name looked up in PATH) with argv, feeding
// `stdin_data` then closing stdin; kills it with SIGKILL after `timeout`.
ProcessResult RunProcess(const std::vector<std::string>& argv, std::string_view stdin_data = {},
                         std::chrono::milliseconds timeout = 60s);

// Paths baked in by CMake (find_program) and the build (the tallyd target).
const char* TallydPath();
const char* RedisCliPath();
const char* RedisBenchmarkPath();

// ---------------------------------------------------------------------------
// Temporary directory on disk (tests/support/temp_dir.h), removed at
// destruction unless TALLY_TEST_KEEP=1 (or TALLY_ITEST_KEEP=1).
using TempDir = fixtures::TempDir;

// A TCP port that was free a moment ago (bound to 127.0.0.1:0, then closed).
int PickFreePort();

// ---------------------------------------------------------------------------
// tallyd

class TallydProcess {
 public:
  // A fresh temporary data dir; `extra_args` are added to every start
  // (e.g. {"--durability", "fsync"}). HTTP listens on a free port of its own
  // unless `extra_args` has --http-port.
  explicit TallydProcess(std::vector<std::string> extra_args = {});
  ~TallydProcess();  // SIGKILLs a running daemon; prints the log if the test failed
  TallydProcess(const TallydProcess&) = delete;
  TallydProcess& operator=(const TallydProcess&) = delete;

  // Starts the daemon and waits (up to `timeout`) until it answers PING over
  // TCP. Retries with another port if the chosen one was taken meanwhile.
  ::testing::AssertionResult Start(std::chrono::milliseconds timeout = 10s);
  // Starts without waiting (for kill-during-recovery tests).
  ::testing::AssertionResult Spawn();
  ::testing::AssertionResult WaitReady(std::chrono::milliseconds timeout = 10s);
  // SIGTERM, then waits (up to `timeout`) and expects exit status 0.
  ::testing::AssertionResult Stop(std::chrono::milliseconds timeout = 20s);
  // SIGKILL and wait.
  void Kill();
  // Stop() (clean) then Start() on the same data dir.
  ::testing::AssertionResult Restart();
  // Kill() (SIGKILL) then Start() on the same data dir.
  ::testing::AssertionResult KillAndRestart();

  // Changes the flags used by the next start (replaces the extra args).
  void set_extra_args(std::vector<std::string> args) { extra_args_ = std::move(args); }
  // The next start runs under RLIMIT_NOFILE = `limit` (soft and hard, so
  // tallyd cannot raise it); 0 = inherit the test's.
  void set_fd_limit(uint64_t limit) { fd_limit_ = limit; }
  // The next start runs with this umask (-1 = inherit the test's).
  void set_umask(int mask) { umask_ = mask; }

  bool running() const { return pid_ > 0; }
  // True if the process is running (reaps it if it has exited).
  bool Alive();
  pid_t pid() const { return pid_; }
  int port() const { return port_; }
  // The HTTP port passed to the daemon (0 if the extra args chose it).
  int http_port() const { return http_port_; }
  const std::string& dir() const { return dir_.path(); }
  std::string data_dir() const { return dir_.path() + "/data"; }
  std::string unix_socket() const { return dir_.path() + "/tally.sock"; }
  std::string log_path() const { return dir_.path() + "/tallyd.log"; }
  std::string ReadLog() const;
  // The last `max_bytes` of the log, for failure messages.
  std::string LogTail(size_t max_bytes = 16 * 1024) const;
  // The exit status of the last process that ended (waitpid status), -1 if none.
  int last_wait_status() const { return last_status_; }

  // The full argv a start would use (without argv[0]).
  std::vector<std::string> Args() const;

 private:
  ::testing::AssertionResult SpawnOnce();
  bool WaitExit(std::chrono::milliseconds timeout);

  TempDir dir_;
  std::vector<std::string> extra_args_;
  pid_t pid_ = -1;
  int port_ = 0;
  int http_port_ = 0;
  int last_status_ = -1;
  uint64_t fd_limit_ = 0;
  int umask_ = -1;
};

// ---------------------------------------------------------------------------
// RESP values and a raw client

struct RespValue {
  enum class Type {
    kNoReply,    // no (complete) reply: EOF, timeout, or malformed bytes; `str` says which
    kSimple,     // +
    kError,      // -
    kInteger,    // :
    kBulk,       // $
    kNull,       // $-1, *-1 or RESP3 _
    kArray,      // *
    kMap,        // % (elements hold key, value, key, value, ...)
    kSet,        // ~
    kPush,       // >
    kDouble,     // ,
    kBoolean,    // #
    kBigNumber,  // (
    kVerbatim,   // =
  };
  Type type = Type::kNoReply;
  std::string str;      // simple, error (without '-'), bulk, double, bignum, verbatim
  int64_t integer = 0;  // integer, boolean (0/1)
  std::vector<RespValue> elements;
  std::string raw;  // the exact bytes of this value on the wire

  bool ok() const { return type != Type::kNoReply; }
  bool is_error() const { return type == Type::kError; }
  std::string ToString() const;  // redis-cli-like rendering for failure messages
};

std::ostream& operator<<(std::ostream& os, const RespValue& value);

// Multibulk encoding of one command.
std::string EncodeCommand(const std::vector<std::string>& args);

// Send, Close, WaitClosed, pending(), connected(), fd(): see BufferedSocket.
class RespClient : public BufferedSocket {
 public:
  RespClient() = default;

  static std::optional<RespClient> ConnectTcp(int port, std::chrono::milliseconds timeout = 5s);
  // ConnectTcp, retried every 5 ms up to `attempts` times (a daemon that is
  // still starting, or many clients connecting at once).
  static std::optional<RespClient> ConnectTcpRetrying(int port, int attempts = 200);
  static std::optional<RespClient> ConnectUnix(const std::string& path);

  // Reads exactly one complete reply.
  RespValue ReadReply(std::chrono::milliseconds timeout = 10s);
  // Sends one command (multibulk) and reads its reply.
  RespValue Call(const std::vector<std::string>& args, std::chrono::milliseconds timeout = 10s);
  // Raw bytes of the reply to `args`, or "<no reply: ...>".
  std::string CallRaw(const std::vector<std::string>& args);
  // Sends raw bytes and returns the raw bytes of the next reply.
  std::string SendRaw(std::string_view bytes);

 private:
  explicit RespClient(int fd) : BufferedSocket(fd) {}
};

// Parses one RESP value from the front of `input`. Returns 1 and sets
// *consumed on success, 0 when more bytes are needed, -1 on malformed input.
int ParseResp(std::string_view input, size_t* consumed, RespValue* out);

// ---------------------------------------------------------------------------
// redis-cli

// redis-cli -h 127.0.0.1 -p PORT <args...> with `--no-raw` so replies are
// rendered with their types ((integer) 1, "x", (nil), (error) ERR ...).
ProcessResult RedisCli(int port, const std::vector<std::string>& args, std::string_view stdin_data = {});
// The same over a unix socket (redis-cli -s PATH).
ProcessResult RedisCliUnix(const std::string& socket, const std::vector<std::string>& args,
                           std::string_view stdin_data = {});
// redis-cli's stdout without the final newline; the exit status must be 0
// (else the result is "<redis-cli failed: ...>").
std::string Cli(int port, const std::vector<std::string>& args);

// ---------------------------------------------------------------------------
// A fixture: one fresh tallyd (own temp dir and port) per test.

class TallydTest : public ::testing::Test {
 protected:
  // Flags for this suite's daemon (override in a subclass).
  virtual std::vector<std::string> ExtraArgs() const { return {}; }
  void SetUp() override {
    daemon_ = std::make_unique<TallydProcess>(ExtraArgs());
    ASSERT_TRUE(daemon_->Start());
  }
  void TearDown() override { daemon_.reset(); }

  TallydProcess& daemon() { return *daemon_; }
  int port() const { return daemon_->port(); }
  // redis-cli --no-raw output of one command.
  std::string Cli(const std::vector<std::string>& args) { return itest::Cli(daemon_->port(), args); }
  // A new raw connection (the test fails if it cannot connect).
  RespClient Connect() {
    auto client = RespClient::ConnectTcp(daemon_->port());
    EXPECT_TRUE(client.has_value()) << "cannot connect to tallyd on port " << daemon_->port();
    return client ? std::move(*client) : RespClient();
  }

  std::unique_ptr<TallydProcess> daemon_;
};

// Utilities
std::string Trim(std::string_view text);
bool Contains(std::string_view haystack, std::string_view needle);
std::vector<std::string> SplitLines(std::string_view text);

}  // namespace tally::itest
