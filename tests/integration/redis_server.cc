#include "redis_server.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

namespace tally::itest {

RedisServer::~RedisServer() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
}

::testing::AssertionResult RedisServer::Start(const std::vector<std::string>& extra_args) {
  port_ = PickFreePort();
  std::vector<std::string> argv{REDIS_SERVER_PATH, "--port", std::to_string(port_), "--bind", "127.0.0.1", "--save", "",
                                "--appendonly",    "no",     "--loglevel",          "warning"};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  std::vector<char*> c_argv;
  for (std::string& arg : argv) c_argv.push_back(arg.data());
  c_argv.push_back(nullptr);
  pid_ = ::fork();
  if (pid_ < 0) return ::testing::AssertionFailure() << "fork failed";
  if (pid_ == 0) {
    // Its start-up banner would bury the test's output.
    const int null_fd = ::open("/dev/null", O_WRONLY);
    if (null_fd >= 0) {
      ::dup2(null_fd, STDOUT_FILENO);
      ::dup2(null_fd, STDERR_FILENO);
    }
    ::execv(REDIS_SERVER_PATH, c_argv.data());
    ::_exit(127);
  }
  client_ = RespClient::ConnectTcpRetrying(port_, 400);
  if (!client_) return ::testing::AssertionFailure() << "redis-server did not listen on port " << port_;
  return ::testing::AssertionSuccess();
}

}  // namespace tally::itest
