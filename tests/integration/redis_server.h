#pragma once
// A real redis-server child on a free port, without persistence, for the
// tests that send the same commands to tallyd and to Redis and compare the
// replies (tests/integration/strings, transactions, ...). SIGKILLed when the
// object goes.

#include <gtest/gtest.h>
#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "tallyd_process.h"

namespace tally::itest {

class RedisServer {
 public:
  RedisServer() = default;
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;
  ~RedisServer();

  // Starts it (extra_args: more redis-server options) and connects client().
  ::testing::AssertionResult Start(const std::vector<std::string>& extra_args = {});
  RespClient& client() { return *client_; }
  int port() const { return port_; }
  // A new connection to it.
  std::optional<RespClient> Connect() const { return RespClient::ConnectTcpRetrying(port_, 400); }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  std::optional<RespClient> client_;
};

// A fresh tallyd and a fresh redis-server per test, one connection to each:
// Same() sends a command to both and expects the same raw reply.
class RedisCompatTest : public TallydTest {
 protected:
  void SetUp() override {
    TallydTest::SetUp();
    ASSERT_TRUE(redis_.Start());
    tally_ = Connect();
  }
  // Sends `args` to both servers and expects the same raw reply; returns it.
  std::string Same(const std::vector<std::string>& args) {
    const std::string expected = redis_.client().CallRaw(args);
    const std::string got = tally_.CallRaw(args);
    EXPECT_EQ(got, expected) << "command: " << Describe(args);
    return got;
  }
  static std::string Describe(const std::vector<std::string>& args) {
    std::string out;
    for (const std::string& arg : args) out += (out.empty() ? "" : " ") + arg;
    return out;
  }

  RedisServer redis_;
  RespClient tally_;
};

}  // namespace tally::itest
