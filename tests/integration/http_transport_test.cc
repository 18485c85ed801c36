// tallyd's HTTP listener: on by default next to RESP, on its own port
// (--http-port), off with --http-port 0; GET /health answers from the start.
// The routes themselves are tested in tests/integration/http/.

#include <gtest/gtest.h>

#include "tallyd_process.h"

namespace tally::itest {
namespace {

TEST_F(TallydTest, HttpHealthAnswers200) {
  ASSERT_GT(daemon().http_port(), 0);
  HttpReply reply = HttpClient::Request(daemon().http_port(), "GET", "/health");
  ASSERT_TRUE(reply.ok()) << reply;
  EXPECT_EQ(reply.status, 200) << reply;
  EXPECT_EQ(reply.Header("server"), "tallyd");
  EXPECT_TRUE(Contains(reply.Header("content-type"), "application/json")) << reply;
  EXPECT_TRUE(Contains(reply.body, "\"status\"")) << reply;
  EXPECT_TRUE(Contains(daemon().ReadLog(), "listening on http://127.0.0.1:" + std::to_string(daemon().http_port())))
      << daemon().LogTail(4096);
}

TEST_F(TallydTest, HttpKeepsTheConnectionAliveAndRefusesGarbage) {
  auto client = HttpClient::Connect(daemon().http_port());
  ASSERT_TRUE(client.has_value());
  for (int i = 0; i < 3; ++i) EXPECT_EQ(client->Call("GET", "/health").status, 200) << i;
  ASSERT_TRUE(client->Send("NOT HTTP AT ALL\r\n\r\n"));
  HttpReply bad = client->ReadResponse();
  EXPECT_EQ(bad.status, 400) << bad;
  EXPECT_TRUE(Contains(bad.body, "\"code\":\"bad_request\"")) << bad;
  EXPECT_TRUE(client->WaitClosed());
  // RESP is unaffected.
  EXPECT_EQ(Cli({"PING"}), "PONG");
}

TEST(TallydHttp, HttpPortZeroDisablesTheListener) {
  const int probe = PickFreePort();
  TallydProcess daemon({"--http-port", "0"});
  ASSERT_TRUE(daemon.Start());
  EXPECT_EQ(daemon.http_port(), 0);
  EXPECT_FALSE(Contains(daemon.ReadLog(), "listening on http://")) << daemon.LogTail(4096);
  // Nothing listens on the default port on our behalf either (8080 may be in
  // use by something else on this machine, so only a free port is probed).
  if (probe > 0) {
    EXPECT_FALSE(HttpClient::Connect(probe, std::chrono::milliseconds(500)).has_value());
  }
  EXPECT_EQ(Cli(daemon.port(), {"PING"}), "PONG");
  EXPECT_TRUE(daemon.Stop());
}

TEST(TallydHttp, HttpPortInUseFailsTheStartWithAMessage) {
  TallydProcess first;
  ASSERT_TRUE(first.Start());
  TallydProcess second({"--http-port", std::to_string(first.http_port())});
  ASSERT_TRUE(second.Spawn());
  EXPECT_FALSE(second.WaitReady(std::chrono::seconds(10)));
  EXPECT_FALSE(second.Alive());
  EXPECT_TRUE(Contains(second.ReadLog(), "cannot listen on 127.0.0.1:" + std::to_string(first.http_port())))
      << second.LogTail(4096);
  EXPECT_TRUE(first.Stop());
}

TEST(TallydHttp, HelpMentionsTheHttpFlags) {
  ProcessResult r = RunProcess({TallydPath(), "--help"}, {}, std::chrono::seconds(20));
  ASSERT_TRUE(r.exited && r.exit_code == 0) << r.Describe();
  for (const char* flag : {"--http-bind", "--http-port", "--http-threads", "--http-max-connections",
                           "--http-max-body-bytes", "--http-max-header-bytes", "--http-read-timeout-ms"}) {
    EXPECT_TRUE(Contains(r.out, flag)) << "--help does not mention " << flag << ":\n" << r.out;
  }
}

TEST(TallydHttp, InvalidHttpFlagValuesExitNonZero) {
  TempDir dir;
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{{"--http-port", "70000"},
                                                                                    {"--http-threads", "0"},
                                                                                    {"--http-max-body-bytes", "0"},
                                                                                    {"--http-read-timeout-ms", "1"}}) {
    std::vector<std::string> argv = {TallydPath(), "--data-dir", dir.path() + "/data", "--config", "/dev/null"};
    argv.insert(argv.end(), args.begin(), args.end());
    ProcessResult r = RunProcess(argv, {}, std::chrono::seconds(20));
    ASSERT_TRUE(r.exited) << r.Describe();
    EXPECT_NE(r.exit_code, 0) << ::testing::PrintToString(args) << " was accepted";
    EXPECT_TRUE(Contains(r.out + r.err, args[0])) << r.Describe();
  }
}

}  // namespace
}  // namespace tally::itest
