// SUBSCRIBE alerts against the real tallyd (docs/quotas.md "Alerts",
// docs/redis.md "Pub/sub"): a real `redis-cli SUBSCRIBE alerts` hears each
// alert raised after it subscribed exactly once (a jump across two
// thresholds, a retried ID, the 100 % threshold), and Redis's framing over
// a raw connection: the (un)subscribe confirmations and their counts, the
// subscribed context's error, PING's [pong, msg], PSUBSCRIBE's pmessage,
// RESP3 pushes, RESET, and a clean close of subscribers at shutdown.

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "http_client.h"
#include "quota_daemon_test.h"
#include "tallyd_process.h"

extern char** environ;

namespace tally::itest {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::string_view kPlan = R"({"features":{"api_calls":{"limit":1000,"period":"month","alerts":[50,80,100]}}})";

// A child process whose stdout (and stderr) is read line by line as it
// runs: `redis-cli SUBSCRIBE` never exits by itself. SIGKILLed at the end.
class LineProcess {
 public:
  explicit LineProcess(const std::vector<std::string>& args) {
    int out[2];
    if (pipe2(out, O_CLOEXEC) != 0) return;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    posix_spawn_file_actions_adddup2(&actions, out[1], 2);
    std::vector<std::string> storage = args;
    std::vector<char*> argv;
    for (std::string& arg : storage) argv.push_back(arg.data());
    argv.push_back(nullptr);
    const int rc = posix_spawnp(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(out[1]);
    if (rc != 0) {
      pid_ = -1;
      ::close(out[0]);
      return;
    }
    fd_ = out[0];
  }
  ~LineProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (fd_ >= 0) ::close(fd_);
  }
  LineProcess(const LineProcess&) = delete;
  LineProcess& operator=(const LineProcess&) = delete;

  bool started() const { return fd_ >= 0; }
  // Everything read so far, for failure messages.
  const std::string& transcript() const { return transcript_; }

  // The next line (without its newline), or nullopt if none came within `timeout`.
  std::optional<std::string> ReadLine(std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    for (;;) {
      const size_t eol = buffer_.find('\n');
      if (eol != std::string::npos) {
        std::string line = buffer_.substr(0, eol);
        buffer_.erase(0, eol + 1);
        return line;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (fd_ < 0 || left <= 0) return std::nullopt;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
      char chunk[4096];
      const ssize_t n = ::read(fd_, chunk, sizeof chunk);
      if (n <= 0) return std::nullopt;  // exited
      buffer_.append(chunk, static_cast<size_t>(n));
      transcript_.append(chunk, static_cast<size_t>(n));
    }
  }

 private:
  pid_t pid_ = -1;
  int fd_ = -1;
  std::string buffer_;
  std::string transcript_;
};

class AlertsPubSubTest : public QuotaDaemonTest {
 protected:
  AlertsPubSubTest() : QuotaDaemonTest("100", std::string(kPlan)) {}

  // Waits until EVENTS.READ shows `count` alerts in all: they are readable,
  // i.e. published to the subscribers of that moment.
  void AwaitAlertCount(size_t count) {
    for (int i = 0; i < 250; ++i) {
      RespValue page = Call({"EVENTS.READ", "0", "COUNT", "1000"});
      if (page.elements.size() == 2 && page.elements[1].elements.size() >= count) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    FAIL() << "fewer than " << count << " alerts became readable";
  }
};

// The three lines redis-cli prints (raw, stdout a pipe) for one message.
struct CliMessage {
  std::string kind, channel, payload;
};
std::optional<CliMessage> ReadCliMessage(LineProcess& cli, std::chrono::milliseconds timeout) {
  CliMessage m;
  auto kind = cli.ReadLine(timeout);
  if (!kind) return std::nullopt;
  auto channel = cli.ReadLine(2s);
  auto payload = cli.ReadLine(2s);
  if (!channel || !payload) return std::nullopt;
  return CliMessage{*kind, *channel, *payload};
}

TEST_F(AlertsPubSubTest, RedisCliHearsEveryAlertOnce) {
  SetUpPlan("user:0");
  SetUpPlan("user:1");
  // An alert readable before the subscription is history: not sent.
  Call({"QUOTA.CONSUME", "user:0", "api_calls", "600"});
  AwaitAlertCount(1);

  LineProcess cli({RedisCliPath(), "-h", "127.0.0.1", "-p", std::to_string(port()), "SUBSCRIBE", "alerts"});
  ASSERT_TRUE(cli.started());
  // redis-cli prints the confirmation once tallyd replied: subscribed from here on.
  auto confirmation = ReadCliMessage(cli, 10s);
  ASSERT_TRUE(confirmation) << cli.transcript();
  EXPECT_EQ(confirmation->kind, "subscribe");
  EXPECT_EQ(confirmation->channel, "alerts");
  EXPECT_EQ(confirmation->payload, "1");

  // 0 -> 950 crosses 50 % and 80 %: two alerts, each once; the retry fires none.
  RespValue first = Call({"QUOTA.CONSUME", "user:1", "api_calls", "950", "ID", "big"});
  ASSERT_FALSE(first.is_error()) << first;
  std::vector<CliMessage> heard;
  for (int i = 0; i < 2; ++i) {
    auto m = ReadCliMessage(cli, 10s);
    ASSERT_TRUE(m) << "alert " << i << " not heard: " << cli.transcript();
    heard.push_back(*m);
  }
  for (const CliMessage& m : heard) {
    EXPECT_EQ(m.kind, "message");
    EXPECT_EQ(m.channel, "alerts");
    EXPECT_TRUE(Contains(m.payload, R"("kind":"threshold")")) << m.payload;
    EXPECT_TRUE(Contains(m.payload, R"("owner":"user:1")")) << m.payload;
    EXPECT_TRUE(Contains(m.payload, R"("feature":"api_calls")")) << m.payload;
  }
  EXPECT_TRUE(Contains(heard[0].payload, R"("threshold":50)")) << heard[0].payload;
  EXPECT_TRUE(Contains(heard[1].payload, R"("threshold":80)")) << heard[1].payload;
  // The message is EVENTS.READ's JSON, byte for byte.
  RespValue page = Call({"EVENTS.READ", "1"});
  ASSERT_EQ(page.elements.size(), 2u) << page;
  ASSERT_EQ(page.elements[1].elements.size(), 2u) << page;
  EXPECT_EQ(page.elements[1].elements[0].elements[1].str, heard[0].payload);
  EXPECT_EQ(page.elements[1].elements[1].elements[1].str, heard[1].payload);

  RespValue retry = Call({"QUOTA.CONSUME", "user:1", "api_calls", "950", "ID", "big"});
  ASSERT_FALSE(retry.is_error()) << retry;
  // Several compactions (100 ms) and publisher ticks (50 ms): nothing more.
  EXPECT_FALSE(cli.ReadLine(700ms)) << cli.transcript();

  // Exactly 100 %: one more.
  ASSERT_FALSE(Call({"QUOTA.CONSUME", "user:1", "api_calls", "50"}).is_error());
  auto last = ReadCliMessage(cli, 10s);
  ASSERT_TRUE(last) << cli.transcript();
  EXPECT_EQ(last->kind, "message");
  EXPECT_TRUE(Contains(last->payload, R"("threshold":100)")) << last->payload;
  EXPECT_FALSE(cli.ReadLine(500ms)) << cli.transcript();
}

TEST_F(AlertsPubSubTest, SubscribeFramingAndTheSubscribedContext) {
  RespClient c = Connect();
  EXPECT_EQ(c.CallRaw({"SUBSCRIBE"}), "-ERR wrong number of arguments for 'subscribe' command\r\n");
  EXPECT_EQ(c.CallRaw({"PSUBSCRIBE"}), "-ERR wrong number of arguments for 'psubscribe' command\r\n");
  // A channel tally does not publish is refused, and nothing is subscribed.
  RespValue unknown = c.Call({"SUBSCRIBE", "alerts", "alert"});
  ASSERT_TRUE(unknown.is_error()) << unknown;
  EXPECT_TRUE(Contains(unknown.str, "unknown channel 'alert'")) << unknown.str;
  EXPECT_TRUE(Contains(c.CallRaw({"PSUBSCRIBE", "foo*"}), "matches no channel")) << "pattern";
  EXPECT_EQ(c.CallRaw({"GET", "x"}), "$-1\r\n");

  // One confirmation per channel; the count is of distinct subscriptions.
  ASSERT_TRUE(c.Send(EncodeCommand({"SUBSCRIBE", "alerts", "alerts"})));
  const std::string subscribed = "*3\r\n$9\r\nsubscribe\r\n$6\r\nalerts\r\n:1\r\n";
  EXPECT_EQ(c.ReadReply().raw, subscribed);
  EXPECT_EQ(c.ReadReply().raw, subscribed);

  EXPECT_EQ(c.CallRaw({"GET", "x"}),
            "-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in "
            "this context\r\n");
  EXPECT_EQ(c.CallRaw({"QUOTA.CONSUME", "u", "f", "1"}).substr(0, 41), "-ERR Can't execute 'quota.consume': only ");
  EXPECT_EQ(c.CallRaw({"PING"}), "*2\r\n$4\r\npong\r\n$0\r\n\r\n");
  EXPECT_EQ(c.CallRaw({"PING", "hi"}), "*2\r\n$4\r\npong\r\n$2\r\nhi\r\n");
  // The subscriber is counted: INFO's pubsub_clients (Redis 7.2's name) and /metrics.
  EXPECT_TRUE(Contains(Call({"INFO", "clients"}).str, "pubsub_clients:1\r\n")) << Call({"INFO", "clients"}).str;
  const HttpReply metrics = HttpClient::Request(daemon().http_port(), "GET", "/metrics");
  EXPECT_TRUE(Contains(metrics.body, "\ntally_resp_alert_subscribers 1\n")) << metrics.body;
  EXPECT_TRUE(Contains(metrics.body, "\ntally_resp_pubsub_closed_total 0\n"));
  EXPECT_EQ(c.CallRaw({"PSUBSCRIBE", "al*"}), "*3\r\n$10\r\npsubscribe\r\n$3\r\nal*\r\n:2\r\n");

  EXPECT_EQ(c.CallRaw({"UNSUBSCRIBE"}), "*3\r\n$11\r\nunsubscribe\r\n$6\r\nalerts\r\n:1\r\n");
  // Still subscribed to a pattern: still the subscribed context.
  EXPECT_TRUE(Contains(c.CallRaw({"GET", "x"}), "Can't execute 'get'"));
  EXPECT_EQ(c.CallRaw({"UNSUBSCRIBE", "other"}), "*3\r\n$11\r\nunsubscribe\r\n$5\r\nother\r\n:1\r\n");
  EXPECT_EQ(c.CallRaw({"PUNSUBSCRIBE"}), "*3\r\n$12\r\npunsubscribe\r\n$3\r\nal*\r\n:0\r\n");
  EXPECT_EQ(c.CallRaw({"UNSUBSCRIBE"}), "*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n");
  EXPECT_EQ(c.CallRaw({"PUNSUBSCRIBE"}), "*3\r\n$12\r\npunsubscribe\r\n$-1\r\n:0\r\n");
  EXPECT_EQ(c.CallRaw({"GET", "x"}), "$-1\r\n");
  EXPECT_EQ(c.CallRaw({"PING"}), "+PONG\r\n");

  // RESET leaves the subscribed context at once.
  ASSERT_TRUE(Contains(c.CallRaw({"SUBSCRIBE", "alerts"}), "subscribe"));
  EXPECT_EQ(c.CallRaw({"RESET"}), "+RESET\r\n");
  EXPECT_EQ(c.CallRaw({"GET", "x"}), "$-1\r\n");
}

TEST_F(AlertsPubSubTest, PatternsAndResp3GetPushes) {
  SetUpPlan("user:2");
  RespClient resp2 = Connect();
  ASSERT_TRUE(Contains(resp2.CallRaw({"SUBSCRIBE", "alerts"}), "subscribe"));
  ASSERT_TRUE(Contains(resp2.CallRaw({"PSUBSCRIBE", "a*"}), "psubscribe"));
  RespClient resp3 = Connect();
  ASSERT_TRUE(resp3.Call({"HELLO", "3"}).ok());
  RespValue confirmation = resp3.Call({"SUBSCRIBE", "alerts"});
  EXPECT_EQ(confirmation.type, RespValue::Type::kPush) << confirmation;
  EXPECT_EQ(confirmation.raw, ">3\r\n$9\r\nsubscribe\r\n$6\r\nalerts\r\n:1\r\n");
  // RESP3 tells messages from replies: every command still runs.
  EXPECT_EQ(resp3.CallRaw({"GET", "x"}), "_\r\n");

  ASSERT_FALSE(Call({"QUOTA.CONSUME", "user:2", "api_calls", "500"}).is_error());
  RespValue message = resp2.ReadReply(10s);
  ASSERT_EQ(message.type, RespValue::Type::kArray) << message;
  ASSERT_EQ(message.elements.size(), 3u) << message;
  EXPECT_EQ(message.elements[0].str, "message");
  EXPECT_EQ(message.elements[1].str, "alerts");
  EXPECT_TRUE(Contains(message.elements[2].str, R"("threshold":50)")) << message;
  RespValue pmessage = resp2.ReadReply(10s);
  ASSERT_EQ(pmessage.elements.size(), 4u) << pmessage;
  EXPECT_EQ(pmessage.elements[0].str, "pmessage");
  EXPECT_EQ(pmessage.elements[1].str, "a*");
  EXPECT_EQ(pmessage.elements[2].str, "alerts");
  EXPECT_EQ(pmessage.elements[3].str, message.elements[2].str);

  RespValue push = resp3.ReadReply(10s);
  ASSERT_EQ(push.type, RespValue::Type::kPush) << push;
  ASSERT_EQ(push.elements.size(), 3u) << push;
  EXPECT_EQ(push.elements[0].str, "message");
  EXPECT_EQ(push.elements[2].str, message.elements[2].str);

  // Unsubscribed: a later alert is not sent.
  ASSERT_TRUE(Contains(resp3.CallRaw({"UNSUBSCRIBE"}), "unsubscribe"));
  ASSERT_FALSE(Call({"QUOTA.CONSUME", "user:2", "api_calls", "300"}).is_error());
  EXPECT_EQ(resp2.ReadReply(10s).elements.size(), 3u);
  EXPECT_EQ(resp2.ReadReply(10s).elements.size(), 4u);
  EXPECT_FALSE(resp3.ReadReply(500ms).ok());
}

TEST_F(AlertsPubSubTest, StopClosesSubscribersCleanly) {
  RespClient c = Connect();
  ASSERT_TRUE(Contains(c.CallRaw({"SUBSCRIBE", "alerts"}), "subscribe"));
  const auto started = Clock::now();
  ASSERT_TRUE(daemon().Stop());
  EXPECT_LT(Clock::now() - started, 5s) << "a subscriber held up the shutdown";
  EXPECT_TRUE(c.WaitClosed(2s));
}

// With full compactions ten minutes apart, an alert still reaches a
// subscriber within a second: the maintenance tick compacts the shards that
// hold alerts waiting 200 ms or more (docs/quotas.md "Latency").
class AlertLatencyTest : public QuotaDaemonTest {
 protected:
  AlertLatencyTest() : QuotaDaemonTest("600000", std::string(kPlan)) {}
};

TEST_F(AlertLatencyTest, AnAlertIsHeardWithinASecondWithoutWaitingForTheFullCompaction) {
  SetUpPlan("user:1");
  LineProcess cli({RedisCliPath(), "-h", "127.0.0.1", "-p", std::to_string(port()), "SUBSCRIBE", "alerts"});
  ASSERT_TRUE(cli.started());
  ASSERT_TRUE(ReadCliMessage(cli, 10s)) << cli.transcript();

  for (int round = 0; round < 3; ++round) {
    SCOPED_TRACE(round);
    const auto consumed_at = Clock::now();
    // 500, 800, 1000 of 1,000: one threshold each.
    const char* amounts[] = {"500", "300", "200"};
    ASSERT_FALSE(Call({"QUOTA.CONSUME", "user:1", "api_calls", amounts[round]}).is_error());
    auto m = ReadCliMessage(cli, 5s);
    ASSERT_TRUE(m) << cli.transcript();
    const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - consumed_at);
    EXPECT_EQ(m->kind, "message");
    EXPECT_LT(waited.count(), 1000) << "alert took " << waited.count() << " ms";
  }
  // Exactly three, each once.
  EXPECT_FALSE(cli.ReadLine(500ms)) << cli.transcript();
  RespValue events = Call({"EVENTS.READ", "0"});
  ASSERT_EQ(events.elements.size(), 2u) << events;
  EXPECT_EQ(events.elements[1].elements.size(), 3u) << events;
}

}  // namespace
}  // namespace tally::itest
