// Metering with cost against the real tallyd: the chat flow of
// docs/metering.md (a message, an AI response of 1,500 tokens, a 2 MB upload)
// read back as this month's tokens, messages, bytes and cost in one CTR.ALL;
// a batch of 1,000 events with 10 duplicates and 3 invalid ones; an event
// refused as a whole by CONSUME when one measure is over its limit (RESP and
// HTTP 429); all of it the same after kill -9 and a restart.

#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "http_client.h"
#include "tallyd_process.h"

namespace tally::itest {
namespace {

using json = nlohmann::json;

class MeteringTest : public TallydTest {
 protected:
  // Frequent compactions: the kill finds compacted cells and a log on top.
  std::vector<std::string> ExtraArgs() const override { return {"--compaction-interval-ms", "100"}; }

  // redis-cli's raw output (not a terminal: no "(integer)" decoration, a
  // map as key and value lines) without the final newline.
  std::string Cli(const std::vector<std::string>& args) {
    std::vector<std::string> argv{RedisCliPath(), "-h", "127.0.0.1", "-p", std::to_string(port())};
    argv.insert(argv.end(), args.begin(), args.end());
    ProcessResult r = RunProcess(argv);
    EXPECT_TRUE(r.exited && r.exit_code == 0) << r.Describe();
    return Trim(r.out);
  }

  // CTR.ALL's reply (key, value lines) as a map.
  std::map<std::string, std::string> All(const std::string& owner) {
    std::vector<std::string> lines = SplitLines(Cli({"CTR.ALL", owner, "month"}));
    std::map<std::string, std::string> out;
    for (size_t i = 0; i + 1 < lines.size(); i += 2) out[lines[i]] = lines[i + 1];
    return out;
  }

  HttpReply Post(const std::string& path, const std::string& body, const std::string& type = "application/json") {
    return HttpClient::Request(daemon().http_port(), "POST", path, body, {{"Content-Type", type}});
  }
};

TEST_F(MeteringTest, ChatFlowGivesTheMonthsTokensMessagesBytesAndCostInOneCtrAll) {
  ASSERT_EQ(Trim(Cli({"PRICE.SET", "chat.tokens", "0.000002"})), "0");
  ASSERT_EQ(Trim(Cli({"PRICE.SET", "chat.messages", "0.001"})), "0");
  ASSERT_EQ(Trim(Cli({"PRICE.SET", "upload.bytes", "0.000001"})), "0");
  // A message sent, the AI's response, a file upload (HTTP).
  EXPECT_TRUE(Contains(Cli({"METER.RECORD", "user:42", "chat", "messages", "1", "ID", "m1"}), "0.001"));
  EXPECT_TRUE(Contains(Cli({"METER.RECORD", "user:42", "chat", "tokens", "1500", "ID", "r1"}), "0.003"));
  HttpReply upload = Post("/v1/owners/user:42/events", R"({"type": "upload", "measures": {"bytes": 2000000}})");
  ASSERT_EQ(upload.status, 200) << upload.body;
  EXPECT_EQ(json::parse(upload.body)["cost"], "2");
  // A retry of the response counts once.
  EXPECT_TRUE(Contains(Cli({"METER.RECORD", "user:42", "chat", "tokens", "1500", "ID", "r1"}), "duplicate\n1"));

  const std::map<std::string, std::string> expected{{"chat.messages", "1"},     {"chat.tokens", "1500"},
                                                    {"cost", "2004000"},        {"cost.chat", "4000"},
                                                    {"cost.upload", "2000000"}, {"upload.bytes", "2000000"}};
  EXPECT_EQ(All("user:42"), expected);
  ASSERT_TRUE(daemon().KillAndRestart());
  EXPECT_EQ(All("user:42"), expected);
  EXPECT_EQ(Trim(Cli({"PRICE.GET", "chat.tokens"})), "0.000002");
  // The ID is remembered across the kill.
  EXPECT_TRUE(Contains(Cli({"METER.RECORD", "user:42", "chat", "tokens", "1500", "ID", "r1"}), "duplicate\n1"));
  EXPECT_TRUE(Contains(Cli({"METER.RECORD", "user:42", "chat", "tokens", "9", "ID", "r1"}), "already used"));
  EXPECT_EQ(All("user:42"), expected);
}

TEST_F(MeteringTest, ABatchOf1000EventsWith10DuplicatesAnd3InvalidAppliesEachGoodOneOnce) {
  ASSERT_EQ(Trim(Cli({"PRICE.SET", "api.calls", "0.0001"})), "0");
  json events = json::array();
  for (int i = 0; i < 987; ++i) {
    events.push_back({{"owner", "team:" + std::to_string(i % 7)},
                      {"type", "api"},
                      {"measures", {{"calls", 1}, {"bytes", 100}}},
                      {"id", "e" + std::to_string(i)}});
  }
  for (int i = 0; i < 10; ++i) events.push_back(events[i * 3]);  // retries: same id, same event
  events.push_back({{"owner", "team:1"}, {"type", "api"}, {"measures", {{"calls", "1"}}}});          // not an integer
  events.push_back({{"owner", "team:1"}, {"type", "api"}, {"measures", {{"calls", 1}}}, {"x", 1}});  // unknown field
  events.push_back({{"owner", "bad owner"}, {"type", "api"}, {"measures", {{"calls", 1}}}});         // invalid name
  ASSERT_EQ(events.size(), 1000u);

  auto check = [&](const HttpReply& reply, int applied, int duplicate) {
    ASSERT_EQ(reply.status, 200) << reply.body.substr(0, 400);
    const json body = json::parse(reply.body);
    EXPECT_EQ(body["applied"], applied);
    EXPECT_EQ(body["duplicate"], duplicate);
    EXPECT_EQ(body["invalid"], 3);
    EXPECT_EQ(body["refused"], 0);
    EXPECT_EQ(body["failed"], 0);
    ASSERT_EQ(body["results"].size(), 1000u);
    EXPECT_EQ(body["results"][997]["status"], "invalid");
    EXPECT_EQ(body["results"][999]["error"]["code"], "invalid_name");
  };
  check(Post("/v1/events", events.dump()), 987, 10);
  auto totals = [&] {
    int64_t calls = 0;
    for (int t = 0; t < 7; ++t) calls += std::stoll(Trim(Cli({"CTR.GET", "team:" + std::to_string(t), "api.calls"})));
    return calls;
  };
  EXPECT_EQ(totals(), 987);
  EXPECT_EQ(Trim(Cli({"CTR.GET", "team:0", "cost"})), "14100");  // 141 events x 0.0001 = 141 x 100 micro-units

  ASSERT_TRUE(daemon().KillAndRestart());
  EXPECT_EQ(totals(), 987);
  // The same batch again, as NDJSON: every good event is now a duplicate.
  std::string ndjson;
  for (const json& event : events) ndjson += event.dump() + "\n";
  check(Post("/v1/events", ndjson, "application/x-ndjson"), 0, 997);
  EXPECT_EQ(totals(), 987);
}

TEST_F(MeteringTest, ConsumeRefusesTheWholeEventWhenOneMeasureIsOverItsLimit) {
  ASSERT_EQ(Trim(Cli({"PLAN.SET", "free",
                      R"({"features": {"chat.tokens": {"limit": 1000, "period": "month"},
                                       "chat.messages": {"limit": 10, "period": "month"}}})"})),
            "OK");
  ASSERT_EQ(Trim(Cli({"PLAN.ASSIGN", "user:7", "free"})), "OK");
  EXPECT_TRUE(
      Contains(Cli({"METER.RECORD", "user:7", "chat", "messages", "1", "tokens", "900", "CONSUME"}), "allowed\n1"));
  // 200 more tokens do not fit: neither the message nor the tokens count.
  const std::string refused = Cli({"METER.RECORD", "user:7", "chat", "messages", "1", "tokens", "200", "CONSUME"});
  EXPECT_TRUE(Contains(refused, "allowed\n0")) << refused;
  EXPECT_TRUE(Contains(refused, "measure\ntokens")) << refused;
  HttpReply http = Post("/v1/owners/user:7/events",
                        R"({"type": "chat", "measures": {"messages": 1, "tokens": 200}, "consume": true})");
  EXPECT_EQ(http.status, 429) << http.body;
  EXPECT_EQ(json::parse(http.body)["error"]["code"], "quota_exceeded");
  EXPECT_EQ(json::parse(http.body)["refused"]["shortfall"], 100);
  auto check = [&] {
    EXPECT_EQ(Trim(Cli({"CTR.GET", "user:7", "chat.messages"})), "1");
    EXPECT_EQ(Trim(Cli({"CTR.GET", "user:7", "chat.tokens"})), "900");
    EXPECT_TRUE(Contains(Cli({"QUOTA.USAGE", "user:7", "chat.tokens"}), "used\n900"));
  };
  check();
  ASSERT_TRUE(daemon().KillAndRestart());
  check();
  // What fits still goes through, and is consumed from the plan.
  EXPECT_TRUE(Contains(Cli({"METER.RECORD", "user:7", "chat", "tokens", "100", "CONSUME"}), "allowed\n1"));
  EXPECT_TRUE(Contains(Cli({"QUOTA.USAGE", "user:7", "chat.tokens"}), "used\n1000"));
}

// max_batch_events bounds a batch: one event more is refused whole (400)
// and records nothing; the limit itself goes through.
class MeteringBatchLimitTest : public MeteringTest {
 protected:
  std::vector<std::string> ExtraArgs() const override { return {"--max-batch-events", "5"}; }
};

TEST_F(MeteringBatchLimitTest, ABatchOverTheSettingIsRefusedWholeAndRecordsNothing) {
  json events = json::array();
  for (int i = 0; i < 6; ++i) events.push_back({{"owner", "team:1"}, {"type", "api"}, {"measures", {{"calls", 1}}}});
  HttpReply refused = Post("/v1/events", events.dump());
  EXPECT_EQ(refused.status, 400) << refused.body;
  EXPECT_TRUE(Contains(refused.body, "max_batch_events")) << refused.body;
  EXPECT_EQ(Cli({"CTR.GET", "team:1", "api.calls"}), "0");
  events.erase(events.size() - 1);
  HttpReply accepted = Post("/v1/events", events.dump());
  ASSERT_EQ(accepted.status, 200) << accepted.body;
  EXPECT_EQ(json::parse(accepted.body)["applied"], 5);
  EXPECT_EQ(Cli({"CTR.GET", "team:1", "api.calls"}), "5");
}

}  // namespace
}  // namespace tally::itest
