#include "tallyd_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "socket_io.h"

extern char** environ;

#ifndef TALLYD_PATH
#error "TALLYD_PATH must be defined by the build (path of the tallyd binary)"
#endif
#ifndef REDIS_CLI_PATH
#error "REDIS_CLI_PATH must be defined by the build (find_program(redis-cli))"
#endif
#ifndef REDIS_BENCHMARK_PATH
#define REDIS_BENCHMARK_PATH "redis-benchmark"
#endif

namespace tally::itest {
namespace {

using Clock = std::chrono::steady_clock;

// Writing to a socket or pipe whose reader is gone must fail with EPIPE, not
// kill the test binary.
const bool kSigpipeIgnored = [] {
  ::signal(SIGPIPE, SIG_IGN);
  return true;
}();

std::vector<char*> MakeArgv(std::vector<std::string>& storage) {
  std::vector<char*> argv;
  for (auto& s : storage) argv.push_back(s.data());
  argv.push_back(nullptr);
  return argv;
}

std::string DescribeWaitStatus(int status) {
  if (status < 0) return "not waited";
  if (WIFEXITED(status)) return "exit code " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    return "killed by signal " + std::to_string(WTERMSIG(status)) + " (" + strsignal(WTERMSIG(status)) + ")";
  }
  return "status " + std::to_string(status);
}

std::string ReadFileFrom(const std::string& path, size_t offset) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  in.seekg(0, std::ios::end);
  auto size = static_cast<size_t>(in.tellg());
  if (offset >= size) return "";
  in.seekg(static_cast<std::streamoff>(offset));
  std::string out(size - offset, '\0');
  in.read(out.data(), static_cast<std::streamsize>(out.size()));
  return out;
}

size_t FileSize(const std::string& path) {
  std::error_code ec;
  auto size = std::filesystem::file_size(path, ec);
  return ec ? 0 : static_cast<size_t>(size);
}

bool HasFlag(const std::vector<std::string>& args, std::string_view flag) {
  for (const auto& a : args) {
    if (a == flag || (a.size() > flag.size() && a.compare(0, flag.size(), flag) == 0 && a[flag.size()] == '=')) {
      return true;
    }
  }
  return false;
}

}  // namespace

// ---------------------------------------------------------------------------

const char* TallydPath() { return TALLYD_PATH; }
const char* RedisCliPath() { return REDIS_CLI_PATH; }
const char* RedisBenchmarkPath() { return REDIS_BENCHMARK_PATH; }

std::string ProcessResult::Describe() const {
  std::ostringstream os;
  if (!started) {
    os << "could not start: " << err;
    return os.str();
  }
  if (timed_out) os << "timed out and killed; ";
  if (exited) os << "exit code " << exit_code;
  if (term_signal) os << "killed by signal " << term_signal;
  os << "\n--- stdout ---\n" << out.substr(0, 8192) << "\n--- stderr ---\n" << err.substr(0, 8192);
  return os.str();
}

ProcessResult RunProcess(const std::vector<std::string>& args, std::string_view stdin_data,
                         std::chrono::milliseconds timeout) {
  ProcessResult result;
  int in_pipe[2], out_pipe[2], err_pipe[2];
  if (pipe2(in_pipe, O_CLOEXEC) != 0) return result;
  if (pipe2(out_pipe, O_CLOEXEC) != 0) return result;
  if (pipe2(err_pipe, O_CLOEXEC) != 0) return result;

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in_pipe[0], 0);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  sigset_t empty;
  sigemptyset(&empty);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setsigmask(&attr, &empty);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);

  std::vector<std::string> storage = args;
  std::vector<char*> argv = MakeArgv(storage);
  pid_t pid = -1;
  int rc = posix_spawnp(&pid, argv[0], &actions, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  ::close(in_pipe[0]);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  if (rc != 0) {
    ::close(in_pipe[1]);
    ::close(out_pipe[0]);
    ::close(err_pipe[0]);
    result.err = std::string("posix_spawnp ") + args[0] + ": " + strerror(rc);
    return result;
  }
  result.started = true;

  int in_fd = in_pipe[1];
  fcntl(in_fd, F_SETFL, O_NONBLOCK);
  size_t written = 0;
  if (stdin_data.empty()) {
    ::close(in_fd);
    in_fd = -1;
  }
  int out_fd = out_pipe[0], err_fd = err_pipe[0];
  auto deadline = Clock::now() + timeout;
  char buf[65536];
  while (out_fd >= 0 || err_fd >= 0 || in_fd >= 0) {
    pollfd fds[3];
    int n = 0;
    int idx_in = -1, idx_out = -1, idx_err = -1;
    if (in_fd >= 0) {
      idx_in = n;
      fds[n++] = {in_fd, POLLOUT, 0};
    }
    if (out_fd >= 0) {
      idx_out = n;
      fds[n++] = {out_fd, POLLIN, 0};
    }
    if (err_fd >= 0) {
      idx_err = n;
      fds[n++] = {err_fd, POLLIN, 0};
    }
    int ready = ::poll(fds, static_cast<nfds_t>(n), RemainingMs(deadline));
    if (ready < 0 && errno == EINTR) continue;
    if (ready == 0 || Clock::now() >= deadline) {
      result.timed_out = true;
      ::kill(pid, SIGKILL);
      break;
    }
    if (idx_in >= 0 && fds[idx_in].revents) {
      ssize_t w = ::write(in_fd, stdin_data.data() + written, stdin_data.size() - written);
      if (w > 0) written += static_cast<size_t>(w);
      if (w < 0 && errno != EAGAIN && errno != EINTR) written = stdin_data.size();  // reader gone
      if (written >= stdin_data.size()) {
        ::close(in_fd);
        in_fd = -1;
      }
    }
    auto drain = [&](int idx, int& fd, std::string& sink) {
      if (idx < 0 || fds[idx].revents == 0) return;
      ssize_t r = ::read(fd, buf, sizeof buf);
      if (r > 0) {
        sink.append(buf, static_cast<size_t>(r));
      } else if (r == 0 || (errno != EINTR && errno != EAGAIN)) {
        ::close(fd);
        fd = -1;
      }
    };
    drain(idx_out, out_fd, result.out);
    drain(idx_err, err_fd, result.err);
  }
  if (in_fd >= 0) ::close(in_fd);
  if (out_fd >= 0) ::close(out_fd);
  if (err_fd >= 0) ::close(err_fd);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) {
    result.exited = true;
    result.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.term_signal = WTERMSIG(status);
  }
  return result;
}

// ---------------------------------------------------------------------------

int PickFreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    socklen_t len = sizeof addr;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

// ---------------------------------------------------------------------------

TallydProcess::TallydProcess(std::vector<std::string> extra_args) : extra_args_(std::move(extra_args)) {
  // An empty config file: the machine's /etc/tally/tally.toml must not leak in.
  std::ofstream(dir_.path() + "/tally.toml") << "# integration test: all settings come from flags\n";
}

TallydProcess::~TallydProcess() {
  if (pid_ > 0) Kill();
  if (::testing::Test::HasFailure()) {
    std::cerr << "\n======== tallyd log (" << log_path() << ", last 16 KiB) ========\n"
              << LogTail() << "======== end of tallyd log ========\n";
  }
}

std::vector<std::string> TallydProcess::Args() const {
  std::vector<std::string> args = {"--config", dir_.path() + "/tally.toml", "--data-dir", data_dir(),
                                   "--port",   std::to_string(port_)};
  // A short drain unless the test sets its own (the drain tests).
  if (!HasFlag(extra_args_, "--shutdown-drain-ms")) args.insert(args.end(), {"--shutdown-drain-ms", "2000"});
  // Loopback unless the test binds elsewhere (the public-bind refusal).
  if (!HasFlag(extra_args_, "--bind")) args.insert(args.end(), {"--bind", "127.0.0.1"});
  // A test may point the socket elsewhere (e.g. at another instance's).
  if (!HasFlag(extra_args_, "--unix-socket")) {
    args.push_back("--unix-socket");
    args.push_back(unix_socket());
  }
  // HTTP on its own free port: parallel tests must never fight over 8080.
  if (!HasFlag(extra_args_, "--http-port")) {
    args.push_back("--http-port");
    args.push_back(std::to_string(http_port_));
  }
  args.insert(args.end(), extra_args_.begin(), extra_args_.end());
  return args;
}

std::string TallydProcess::ReadLog() const { return ReadFileFrom(log_path(), 0); }

std::string TallydProcess::LogTail(size_t max_bytes) const {
  size_t size = FileSize(log_path());
  return ReadFileFrom(log_path(), size > max_bytes ? size - max_bytes : 0);
}

::testing::AssertionResult TallydProcess::SpawnOnce() {
  if (pid_ > 0) return ::testing::AssertionFailure() << "tallyd is already running (pid " << pid_ << ")";
  if (port_ == 0) port_ = PickFreePort();
  if (port_ == 0) return ::testing::AssertionFailure() << "could not find a free TCP port";
  if (HasFlag(extra_args_, "--http-port")) {
    http_port_ = 0;
  } else {
    for (int attempt = 0; attempt < 10 && (http_port_ == 0 || http_port_ == port_); ++attempt) {
      http_port_ = PickFreePort();
    }
    if (http_port_ == 0 || http_port_ == port_) {
      return ::testing::AssertionFailure() << "could not find a free TCP port for HTTP";
    }
  }

  std::vector<std::string> storage = {TallydPath()};
  for (auto& a : Args()) storage.push_back(a);
  std::vector<char*> argv = MakeArgv(storage);
  std::string log = log_path();
  {
    std::ofstream(log, std::ios::app) << "---- harness: starting tallyd on port " << port_ << " (HTTP " << http_port_
                                      << ") ----\n";
  }
  const pid_t parent = ::getpid();
  const uint64_t fd_limit = fd_limit_;
  const int mask = umask_;
  pid_t pid = ::fork();
  if (pid < 0) return ::testing::AssertionFailure() << "fork: " << strerror(errno);
  if (pid == 0) {
    // Child: only async-signal-safe calls until exec.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive the test binary
    if (::getppid() != parent) ::_exit(126);
    int log_fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    int null_fd = ::open("/dev/null", O_RDONLY);
    if (log_fd < 0 || null_fd < 0) ::_exit(125);
    ::dup2(null_fd, 0);
    ::dup2(log_fd, 1);
    ::dup2(log_fd, 2);
    ::syscall(SYS_close_range, 3U, ~0U, 0U);  // no test sockets leak into the daemon
    sigset_t empty;
    sigemptyset(&empty);
    ::sigprocmask(SIG_SETMASK, &empty, nullptr);
    ::signal(SIGPIPE, SIG_DFL);
    if (fd_limit > 0) {
      struct rlimit limit = {static_cast<rlim_t>(fd_limit), static_cast<rlim_t>(fd_limit)};
      if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) ::_exit(124);
    }
    if (mask >= 0) ::umask(static_cast<mode_t>(mask));
    ::execv(argv[0], argv.data());
    const char msg[] = "harness: execv of tallyd failed\n";
    (void)!::write(2, msg, sizeof msg - 1);
    ::_exit(127);
  }
  pid_ = pid;
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult TallydProcess::Spawn() { return SpawnOnce(); }

bool TallydProcess::Alive() {
  if (pid_ <= 0) return false;
  int status = 0;
  pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    last_status_ = status;
    pid_ = -1;
    return false;
  }
  return true;
}

bool TallydProcess::WaitExit(std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (pid_ > 0) {
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_ || (r < 0 && errno == ECHILD)) {
      last_status_ = r == pid_ ? status : -1;
      pid_ = -1;
      return true;
    }
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(2ms);
  }
  return true;
}

::testing::AssertionResult TallydProcess::WaitReady(std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (true) {
    if (!Alive()) {
      return ::testing::AssertionFailure() << "tallyd exited (" << DescribeWaitStatus(last_status_)
                                           << ") before answering PING on port " << port_ << "\n"
                                           << LogTail(4096);
    }
    if (auto client = RespClient::ConnectTcp(port_)) {
      RespValue pong = client->Call({"PING"}, 1s);
      if (pong.type == RespValue::Type::kSimple && pong.str == "PONG") return ::testing::AssertionSuccess();
      // A daemon with a password answers, but not PING, before AUTH.
      if (pong.type == RespValue::Type::kError && pong.str.rfind("NOAUTH", 0) == 0) {
        return ::testing::AssertionSuccess();
      }
    }
    if (Clock::now() >= deadline) {
      return ::testing::AssertionFailure()
             << "tallyd did not answer PING on port " << port_ << " within " << timeout.count() << " ms\n"
             << LogTail(4096);
    }
    std::this_thread::sleep_for(5ms);
  }
}

::testing::AssertionResult TallydProcess::Start(std::chrono::milliseconds timeout) {
  for (int attempt = 0;; ++attempt) {
    size_t log_offset = FileSize(log_path());
    auto spawned = SpawnOnce();
    if (!spawned) return spawned;
    auto ready = WaitReady(timeout);
    if (ready) return ready;
    // The port may have been taken between PickFreePort() and the bind: retry elsewhere.
    std::string this_run = ReadFileFrom(log_path(), log_offset);
    if (!running() && Contains(this_run, "cannot listen on 127.0.0.1") && attempt < 5) {
      port_ = 0;
      http_port_ = 0;
      continue;
    }
    if (running()) Kill();
    return ready;
  }
}

::testing::AssertionResult TallydProcess::Stop(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return ::testing::AssertionFailure() << "tallyd is not running";
  ::kill(pid_, SIGTERM);
  if (!WaitExit(timeout)) {
    pid_t pid = pid_;
    Kill();
    return ::testing::AssertionFailure() << "tallyd (pid " << pid << ") did not exit within " << timeout.count()
                                         << " ms of SIGTERM; killed it";
  }
  if (!WIFEXITED(last_status_) || WEXITSTATUS(last_status_) != 0) {
    return ::testing::AssertionFailure() << "tallyd did not stop cleanly after SIGTERM: "
                                         << DescribeWaitStatus(last_status_) << "\n"
                                         << LogTail(4096);
  }
  return ::testing::AssertionSuccess();
}

void TallydProcess::Kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  last_status_ = status;
  pid_ = -1;
}

::testing::AssertionResult TallydProcess::Restart() {
  auto stopped = Stop();
  if (!stopped) return stopped;
  return Start();
}

::testing::AssertionResult TallydProcess::KillAndRestart() {
  Kill();
  return Start();
}

// ---------------------------------------------------------------------------

std::string RespValue::ToString() const {
  switch (type) {
    case Type::kNoReply:
      return "<no reply: " + str + ">";
    case Type::kSimple:
      return str;
    case Type::kError:
      return "(error) " + str;
    case Type::kInteger:
      return "(integer) " + std::to_string(integer);
    case Type::kBulk:
      return "\"" + str + "\"";
    case Type::kNull:
      return "(nil)";
    case Type::kDouble:
      return "(double) " + str;
    case Type::kBoolean:
      return integer ? "(true)" : "(false)";
    case Type::kBigNumber:
      return "(big number) " + str;
    case Type::kVerbatim:
      return "\"" + str + "\"";
    case Type::kArray:
    case Type::kSet:
    case Type::kPush:
    case Type::kMap: {
      std::string out = type == Type::kMap ? "{" : "[";
      for (size_t i = 0; i < elements.size(); ++i) {
        if (i) out += type == Type::kMap && i % 2 ? " => " : ", ";
        out += elements[i].ToString();
      }
      return out + (type == Type::kMap ? "}" : "]");
    }
  }
  return "?";
}

std::ostream& operator<<(std::ostream& os, const RespValue& value) { return os << value.ToString(); }

std::string EncodeCommand(const std::vector<std::string>& args) {
  std::string out = "*" + std::to_string(args.size()) + "\r\n";
  for (const auto& a : args) {
    out += "$" + std::to_string(a.size()) + "\r\n";
    out += a;
    out += "\r\n";
  }
  return out;
}

namespace {

bool ParseInteger(std::string_view text, int64_t* value) {
  if (text.empty()) return false;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), *value);
  return ec == std::errc() && ptr == text.data() + text.size();
}

int ParseAt(std::string_view in, size_t* consumed, RespValue* out, int depth) {
  if (depth > 64) return -1;
  if (in.empty()) return 0;
  size_t cr = in.find("\r\n");
  if (cr == std::string_view::npos) return 0;
  const char tag = in[0];
  std::string_view line = in.substr(1, cr - 1);
  size_t pos = cr + 2;
  using T = RespValue::Type;
  *out = RespValue();
  switch (tag) {
    case '+':
      out->type = T::kSimple;
      out->str = line;
      break;
    case '-':
      out->type = T::kError;
      out->str = line;
      break;
    case ',':
      out->type = T::kDouble;
      out->str = line;
      break;
    case '(':
      out->type = T::kBigNumber;
      out->str = line;
      break;
    case ':':
      out->type = T::kInteger;
      if (!ParseInteger(line, &out->integer)) return -1;
      break;
    case '#':
      out->type = T::kBoolean;
      if (line != "t" && line != "f") return -1;
      out->integer = line == "t";
      break;
    case '_':
      if (!line.empty()) return -1;
      out->type = T::kNull;
      break;
    case '$':
    case '=':
    case '!': {
      int64_t len = 0;
      if (!ParseInteger(line, &len) || len < -1) return -1;
      if (len == -1) {
        if (tag != '$') return -1;
        out->type = T::kNull;
        break;
      }
      size_t n = static_cast<size_t>(len);
      if (in.size() < pos + n + 2) return 0;
      if (in[pos + n] != '\r' || in[pos + n + 1] != '\n') return -1;
      out->type = tag == '$' ? T::kBulk : tag == '=' ? T::kVerbatim : T::kError;
      out->str = in.substr(pos, n);
      pos += n + 2;
      break;
    }
    case '*':
    case '%':
    case '~':
    case '>': {
      int64_t len = 0;
      if (!ParseInteger(line, &len) || len < -1) return -1;
      if (len == -1) {
        if (tag != '*') return -1;
        out->type = T::kNull;
        break;
      }
      out->type = tag == '*' ? T::kArray : tag == '%' ? T::kMap : tag == '~' ? T::kSet : T::kPush;
      size_t count = static_cast<size_t>(len) * (tag == '%' ? 2 : 1);
      out->elements.reserve(std::min<size_t>(count, 1 << 16));
      for (size_t i = 0; i < count; ++i) {
        RespValue child;
        size_t used = 0;
        int r = ParseAt(in.substr(pos), &used, &child, depth + 1);
        if (r <= 0) return r;
        pos += used;
        out->elements.push_back(std::move(child));
      }
      break;
    }
    default:
      return -1;
  }
  out->raw = in.substr(0, pos);
  *consumed = pos;
  return 1;
}

}  // namespace

int ParseResp(std::string_view input, size_t* consumed, RespValue* out) { return ParseAt(input, consumed, out, 0); }

std::optional<RespClient> RespClient::ConnectTcpRetrying(int port, int attempts) {
  std::optional<RespClient> client;
  for (int attempt = 0; attempt < attempts && !client; ++attempt) {
    client = ConnectTcp(port);
    if (!client) std::this_thread::sleep_for(5ms);
  }
  return client;
}

std::optional<RespClient> RespClient::ConnectTcp(int port, std::chrono::milliseconds timeout) {
  int fd = ConnectLoopbackTcp(port, timeout);
  if (fd < 0) return std::nullopt;
  return RespClient(fd);
}

std::optional<RespClient> RespClient::ConnectUnix(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::nullopt;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) {
    ::close(fd);
    return std::nullopt;
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return std::nullopt;
  }
  timeval tv{30, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  return RespClient(fd);
}

RespValue RespClient::ReadReply(std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (true) {
    RespValue value;
    size_t used = 0;
    int r = ParseResp(buffer_, &used, &value);
    if (r > 0) {
      buffer_.erase(0, used);
      return value;
    }
    if (r < 0) {
      RespValue bad;
      bad.str = "malformed reply bytes: " + buffer_.substr(0, 200);
      return bad;
    }
    std::string why;
    if (!Fill(deadline, &why)) {
      RespValue none;
      none.str = why + (buffer_.empty() ? "" : " (partial reply: " + buffer_.substr(0, 200) + ")");
      return none;
    }
  }
}

RespValue RespClient::Call(const std::vector<std::string>& args, std::chrono::milliseconds timeout) {
  if (!Send(EncodeCommand(args))) {
    RespValue none;
    none.str = std::string("send failed: ") + strerror(errno);
    return none;
  }
  return ReadReply(timeout);
}

std::string RespClient::CallRaw(const std::vector<std::string>& args) {
  RespValue v = Call(args);
  return v.ok() ? v.raw : v.ToString();
}

std::string RespClient::SendRaw(std::string_view bytes) {
  if (!Send(bytes)) return std::string("<send failed: ") + strerror(errno) + ">";
  RespValue v = ReadReply();
  return v.ok() ? v.raw : v.ToString();
}

// ---------------------------------------------------------------------------

ProcessResult RedisCli(int port, const std::vector<std::string>& args, std::string_view stdin_data) {
  std::vector<std::string> argv = {RedisCliPath(), "-h", "127.0.0.1", "-p", std::to_string(port), "--no-raw"};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunProcess(argv, stdin_data, 60s);
}

ProcessResult RedisCliUnix(const std::string& socket, const std::vector<std::string>& args,
                           std::string_view stdin_data) {
  std::vector<std::string> argv = {RedisCliPath(), "-s", socket, "--no-raw"};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunProcess(argv, stdin_data, 60s);
}

std::string Cli(int port, const std::vector<std::string>& args) {
  ProcessResult r = RedisCli(port, args);
  if (!r.exited || r.exit_code != 0) return "<redis-cli failed: " + r.Describe() + ">";
  std::string out = r.out;
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

std::string Trim(std::string_view text) {
  size_t b = 0, e = text.size();
  while (b < e && std::isspace(static_cast<unsigned char>(text[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(text[e - 1]))) --e;
  return std::string(text.substr(b, e - b));
}

bool Contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

std::vector<std::string> SplitLines(std::string_view text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(start, nl - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.emplace_back(line);
    start = nl + 1;
  }
  return lines;
}

}  // namespace tally::itest
