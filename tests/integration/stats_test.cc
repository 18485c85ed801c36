// Command statistics against the real tallyd: INFO's totals and INFO
// commandstats count every command and error reply once, whichever I/O
// thread ran it, pipelined or not; /v1/stats shows every setting. (GET
// /metrics is tested over HTTP in integration/http; its format checker is
// tests/support.)

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "settings.h"
#include "tallyd_process.h"

namespace tally::itest {
namespace {

class StatsTest : public TallydTest {
 protected:
  // INFO <section> as field -> value.
  std::map<std::string, std::string> Info(RespClient& client, const std::string& section) {
    RespValue reply = client.Call({"INFO", section});
    EXPECT_EQ(reply.type, RespValue::Type::kBulk) << reply;
    std::map<std::string, std::string> fields;
    for (const std::string& line : SplitLines(reply.str)) {
      std::string text = Trim(line);
      size_t colon = text.find(':');
      if (text.empty() || text[0] == '#' || colon == std::string::npos) continue;
      fields[text.substr(0, colon)] = text.substr(colon + 1);
    }
    return fields;
  }
  struct Totals {
    uint64_t processed = 0;
    uint64_t errors = 0;
  };
  Totals ReadTotals(RespClient& client) {
    auto fields = Info(client, "stats");
    return {std::stoull(fields["total_commands_processed"]), std::stoull(fields["total_error_replies"])};
  }
};

TEST_F(StatsTest, InfoTotalsCountEveryCommandAndErrorReply) {
  RespClient info = Connect();
  Totals before = ReadTotals(info);

  // Each redis-cli run is a new connection, so the commands spread over the I/O threads.
  EXPECT_EQ(Cli({"SET", "k", "1"}), "OK");
  EXPECT_EQ(Cli({"INCR", "k"}), "(integer) 2");
  EXPECT_EQ(Cli({"INCR", "k"}), "(integer) 3");
  EXPECT_EQ(Cli({"SET", "s", "text"}), "OK");
  EXPECT_EQ(Cli({"INCR", "s"}), "(error) ERR value is not an integer or out of range");
  EXPECT_EQ(Cli({"GET"}), "(error) ERR wrong number of arguments for 'get' command");
  EXPECT_TRUE(Contains(Cli({"NOSUCHCOMMAND", "x"}), "unknown command"));
  EXPECT_EQ(Cli({"CTR.INCRBY", "user:1", "downloads", "5"}), "(integer) 5");
  EXPECT_EQ(Cli({"CTR.GET", "user:1", "downloads"}), "(integer) 5");

  Totals after = ReadTotals(info);
  EXPECT_EQ(after.processed - before.processed, 9u + 1u) << "the nine commands and the first INFO";
  EXPECT_EQ(after.errors - before.errors, 3u);

  auto stats = Info(info, "commandstats");
  ASSERT_TRUE(stats.count("cmdstat_incr")) << "INFO commandstats lists the commands called";
  EXPECT_TRUE(Contains(stats["cmdstat_incr"], "calls=3,")) << stats["cmdstat_incr"];
  EXPECT_TRUE(Contains(stats["cmdstat_incr"], "failed_calls=1")) << stats["cmdstat_incr"];
  EXPECT_TRUE(Contains(stats["cmdstat_get"], "calls=0,")) << stats["cmdstat_get"];
  EXPECT_TRUE(Contains(stats["cmdstat_get"], "rejected_calls=1,")) << stats["cmdstat_get"];
  EXPECT_TRUE(Contains(stats["cmdstat_ctr.incrby"], "calls=1,")) << stats["cmdstat_ctr.incrby"];
  EXPECT_EQ(stats.count("cmdstat_ctr.top"), 0u) << "commands never called are left out";
  EXPECT_EQ(Info(info, "default").count("cmdstat_incr"), 0u) << "as in Redis: not part of the default sections";
}

TEST_F(StatsTest, PipelinedCommandsAreEachCounted) {
  RespClient info = Connect();
  RespClient client = Connect();
  Totals before = ReadTotals(info);
  std::string pipeline;
  for (int i = 0; i < 200; ++i) pipeline += EncodeCommand({"INCR", "p"});
  for (int i = 0; i < 50; ++i) pipeline += EncodeCommand({"INCR"});  // wrong arity
  ASSERT_TRUE(client.Send(pipeline));
  for (int i = 0; i < 250; ++i) ASSERT_TRUE(client.ReadReply().ok()) << "reply " << i;
  Totals after = ReadTotals(info);
  EXPECT_EQ(after.processed - before.processed, 250u + 1u);
  EXPECT_EQ(after.errors - before.errors, 50u);
  EXPECT_EQ(Cli({"GET", "p"}), "\"200\"");
}

TEST_F(StatsTest, ProtocolErrorsCountAsErrorRepliesOnly) {
  RespClient info = Connect();
  Totals before = ReadTotals(info);
  RespClient bad = Connect();
  ASSERT_TRUE(bad.Send("*1\r\n$abc\r\n"));
  RespValue reply = bad.ReadReply();
  EXPECT_TRUE(reply.is_error()) << reply;
  EXPECT_TRUE(bad.WaitClosed());
  Totals after = ReadTotals(info);
  EXPECT_EQ(after.processed - before.processed, 1u) << "only the first INFO";
  EXPECT_EQ(after.errors - before.errors, 1u);
}

// The config block of /v1/stats comes from the settings table: every setting
// not marked hidden, with the value the daemon runs with.
class StatsConfigTest : public TallydTest {
 protected:
  std::vector<std::string> ExtraArgs() const override {
    return {"--timeout", "17", "--retention-week-days", "9", "--durability", "fsync"};
  }
};

TEST_F(StatsConfigTest, ConfigBlockShowsEverySettingNotHidden) {
  HttpReply reply = HttpClient::Request(daemon().http_port(), "GET", "/v1/stats");
  ASSERT_EQ(reply.status, 200) << reply;
  nlohmann::json stats = nlohmann::json::parse(reply.body, nullptr, false);
  ASSERT_FALSE(stats.is_discarded()) << reply;
  const nlohmann::json& config = stats["config"];
  for (const Setting& s : Settings()) {
    if (s.hidden) {
      EXPECT_FALSE(config.contains(s.key)) << s.key << " is hidden but /v1/stats shows it";
      continue;
    }
    ASSERT_TRUE(config.contains(s.key)) << s.key << " is missing from /v1/stats: " << config.dump();
    EXPECT_EQ(config[s.key].is_number_integer(), s.is_integer()) << s.key << ": " << config[s.key];
  }
  EXPECT_EQ(config["timeout"], 17);
  EXPECT_EQ(config["retention_week_days"], 9);
  EXPECT_EQ(config["durability"], "fsync");
  EXPECT_EQ(config["port"], port());
  EXPECT_EQ(config["http_port"], daemon().http_port());
  EXPECT_EQ(config["unix_socket"], daemon().unix_socket()) << "the path in use";
  EXPECT_EQ(config["config_file"], daemon().dir() + "/tally.toml");
  // As earlier versions showed them.
  EXPECT_EQ(config["max_backdate_ms"], int64_t{35} * 86400 * 1000);
  EXPECT_EQ(config["max_future_skew_ms"], 300000);
}

}  // namespace
}  // namespace tally::itest
