// Plans, quotas, credits, reservations and alerts over RESP against the real
// tallyd (docs/quotas.md): the figures, exactly-once consumes by ID, a
// refused consume that changes nothing, the credit ledger's balance, holds
// that expire across a kill -9, alerts once per threshold, and 8 concurrent
// clients against a limit while the daemon is SIGKILLed and restarted.

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "quota_daemon_test.h"
#include "tallyd_process.h"

namespace tally::itest {
namespace {

// A field of a map reply (RESP2: a flat array of key, value, ...).
const RespValue* Field(const RespValue& map, const std::string& name) {
  for (size_t i = 0; i + 1 < map.elements.size(); i += 2) {
    if (map.elements[i].str == name) return &map.elements[i + 1];
  }
  return nullptr;
}
int64_t Int(const RespValue& map, const std::string& name) {
  const RespValue* v = Field(map, name);
  EXPECT_NE(v, nullptr) << "no field '" << name << "' in " << map;
  return v == nullptr ? -1 : v->integer;
}

constexpr std::string_view kPlan = R"({"features":{"api_calls":{"limit":1000,"period":"month","alerts":[50,80,100]},)"
                                   R"("seats":{"limit":5,"period":"total"},"tokens":{"limit":5000,"period":"month"}}})";

class QuotaTest : public QuotaDaemonTest {
 protected:
  QuotaTest() : QuotaDaemonTest("50", std::string(kPlan)) {}
  RespValue Usage(const std::string& owner, const std::string& feature) {
    RespValue all = Call({"QUOTA.USAGE", owner, feature});
    EXPECT_EQ(all.elements.size(), 1u) << all;
    return all.elements.empty() ? RespValue{} : all.elements[0];
  }
  void KillAndRestart() {
    conn_.Close();
    ASSERT_TRUE(daemon().KillAndRestart());
  }
};

TEST_F(QuotaTest, ConsumeIsAtomicExactlyOnceAndSurvivesKill) {
  SetUpPlan("user:1");
  RespValue first = Call({"QUOTA.CONSUME", "user:1", "api_calls", "600", "ID", "e1"});
  EXPECT_EQ(Int(first, "allowed"), 1) << first;
  EXPECT_EQ(Int(first, "duplicate"), 0);
  EXPECT_EQ(Int(first, "used"), 600);
  EXPECT_EQ(Int(first, "remaining"), 400);
  // A retry counts once; the same ID with another amount is a conflict.
  EXPECT_EQ(Int(Call({"QUOTA.CONSUME", "user:1", "api_calls", "600", "ID", "e1"}), "duplicate"), 1);
  EXPECT_TRUE(Call({"QUOTA.CONSUME", "user:1", "api_calls", "601", "ID", "e1"}).is_error());
  // Refused: nothing changes.
  RespValue refused = Call({"QUOTA.CONSUME", "user:1", "api_calls", "401"});
  EXPECT_EQ(Int(refused, "allowed"), 0) << refused;
  EXPECT_EQ(Int(refused, "shortfall"), 1);
  EXPECT_EQ(Int(Usage("user:1", "api_calls"), "used"), 600);
  // The usage counter (owner, feature) moves with the consumes.
  EXPECT_EQ(Call({"CTR.GET", "user:1", "api_calls", "month"}).integer, 600);
  RespValue released = Call({"QUOTA.RELEASE", "user:1", "api_calls", "100"});
  EXPECT_EQ(Int(released, "released"), 100) << released;
  KillAndRestart();
  RespValue after = Usage("user:1", "api_calls");
  EXPECT_EQ(Int(after, "used"), 500) << after;
  EXPECT_EQ(Int(after, "remaining"), 500);
  EXPECT_EQ(Int(Call({"QUOTA.CONSUME", "user:1", "api_calls", "600", "ID", "e1"}), "duplicate"), 1);
  EXPECT_EQ(Call({"CTR.GET", "user:1", "api_calls"}).integer, 500);
}

TEST_F(QuotaTest, CreditsDrawInOrderAndTheLedgerBalances) {
  ASSERT_EQ(Call({"PLAN.SET", "free", R"({"features":{"exports":{"limit":0,"period":"month"}}})"}).str, "OK");
  ASSERT_EQ(Call({"PLAN.ASSIGN", "org:1", "free"}).str, "OK");
  EXPECT_EQ(Call({"CREDIT.GRANT", "org:1", "exports", "100", "PRIORITY", "1", "ID", "A"}).str, "A");
  EXPECT_EQ(Call({"CREDIT.GRANT", "org:1", "exports", "100", "PRIORITY", "2", "ID", "B", "BY", "support"}).str, "B");
  RespValue consumed = Call({"QUOTA.CONSUME", "org:1", "exports", "120"});
  EXPECT_EQ(Int(consumed, "allowed"), 1) << consumed;
  RespValue list = Call({"CREDIT.LIST", "org:1"});
  ASSERT_EQ(list.elements.size(), 2u) << list;
  EXPECT_EQ(Int(list.elements[0], "left"), 0);
  EXPECT_EQ(Int(list.elements[1], "left"), 80);
  EXPECT_EQ(Call({"QUOTA.RELEASE", "org:1", "exports", "30"}).ok(), true);
  EXPECT_EQ(Call({"CREDIT.REVOKE", "org:1", "B"}).integer, 80 + 20);
  KillAndRestart();
  // amount = drawn − released + expired + revoked + left, for each grant,
  // from CREDIT.LIST and again from the ledger's rows.
  RespValue all = Call({"CREDIT.LIST", "org:1", "ALL"});
  ASSERT_EQ(all.elements.size(), 2u) << all;
  RespValue ledger = Call({"CREDIT.LEDGER", "org:1"});
  std::map<std::string, int64_t> balance;
  for (const RespValue& row : ledger.elements) {
    const std::string kind = Field(row, "kind")->str;
    const std::string grant = Field(row, "grant")->str;
    const int64_t amount = Int(row, "amount");
    balance[grant] += kind == "grant" ? amount : (kind == "release" ? amount : -amount);
  }
  for (const RespValue& g : all.elements) {
    EXPECT_EQ(Int(g, "amount"),
              Int(g, "drawn") - Int(g, "released") + Int(g, "expired") + Int(g, "revoked") + Int(g, "left"))
        << g;
    EXPECT_EQ(balance[Field(g, "grant")->str], Int(g, "left")) << ledger;
  }
  EXPECT_TRUE(Call({"CREDIT.REVOKE", "org:1", "nope"}).is_error());
}

TEST_F(QuotaTest, ReservationsHoldCommitOnceAndExpireAcrossAKill) {
  SetUpPlan("user:2");
  EXPECT_EQ(Int(Call({"QUOTA.RESERVE", "user:2", "api_calls", "4000"}), "allowed"), 0);
  RespValue held = Call({"QUOTA.RESERVE", "user:2", "api_calls", "1000"});
  ASSERT_EQ(Int(held, "allowed"), 1) << held;
  const std::string reservation = Field(held, "reservation")->str;
  EXPECT_EQ(Int(Call({"QUOTA.RESERVE", "user:2", "api_calls", "1"}), "allowed"), 0);
  RespValue committed = Call({"QUOTA.COMMIT", "user:2", reservation, "743"});
  EXPECT_EQ(Int(committed, "applied"), 1) << committed;
  EXPECT_EQ(Int(committed, "remaining"), 257);
  RespValue again = Call({"QUOTA.COMMIT", "user:2", reservation, "743"});
  EXPECT_EQ(Int(again, "applied"), 0);
  EXPECT_EQ(Field(again, "state")->str, "committed");
  EXPECT_EQ(Int(again, "remaining"), 257);
  // A hold with a short TTL frees itself once, also across a kill -9.
  RespValue short_hold = Call({"QUOTA.RESERVE", "user:2", "api_calls", "200", "TTL", "1500"});
  ASSERT_EQ(Int(short_hold, "allowed"), 1);
  EXPECT_EQ(Int(Usage("user:2", "api_calls"), "remaining"), 57);
  KillAndRestart();
  std::this_thread::sleep_for(std::chrono::milliseconds(1700));
  RespValue usage = Usage("user:2", "api_calls");
  EXPECT_EQ(Int(usage, "held"), 0) << usage;
  EXPECT_EQ(Int(usage, "remaining"), 257);
  EXPECT_EQ(Int(Call({"QUOTA.CANCEL", "user:2", Field(short_hold, "reservation")->str}), "applied"), 0);
}

TEST_F(QuotaTest, AlertsFireOncePerThreshold) {
  SetUpPlan("user:3");
  Call({"QUOTA.CONSUME", "user:3", "api_calls", "950", "ID", "big"});
  Call({"QUOTA.CONSUME", "user:3", "api_calls", "950", "ID", "big"});
  std::vector<std::string> fired;
  for (int i = 0; i < 200 && fired.size() < 2; ++i) {
    fired.clear();
    RespValue page = Call({"EVENTS.READ", "0"});
    for (const RespValue& event : page.elements[1].elements) fired.push_back(event.elements[1].str);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(fired.size(), 2u);
  EXPECT_NE(fired[0].find("\"threshold\":50"), std::string::npos) << fired[0];
  EXPECT_NE(fired[1].find("\"threshold\":80"), std::string::npos) << fired[1];
  Call({"QUOTA.CONSUME", "user:3", "api_calls", "50"});  // exactly 100 %
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  RespValue page = Call({"EVENTS.READ", "2"});
  ASSERT_EQ(page.elements[1].elements.size(), 1u) << page;
  EXPECT_NE(page.elements[1].elements[0].elements[1].str.find("\"threshold\":100"), std::string::npos);
}

TEST_F(QuotaTest, BadInputIsAClearErrorAndChangesNothing) {
  EXPECT_TRUE(Call({"PLAN.SET", "x", R"({"features":{"a":{"limit":-1}}})"}).is_error());
  EXPECT_TRUE(Call({"PLAN.SET", "x", R"({"features":{"a":{"limit":1,"colour":"red"}}})"}).is_error());
  EXPECT_TRUE(Call({"PLAN.SET", "x", R"({"features":{"a":{"limit":1,"period":"fortnight"}}})"}).is_error());
  EXPECT_TRUE(Call({"PLAN.SET", "x", "{not json"}).is_error());
  EXPECT_EQ(Call({"PLAN.LIST"}).elements.size(), 0u);
  EXPECT_TRUE(Call({"PLAN.ASSIGN", "user:4", "nope"}).is_error());
  SetUpPlan("user:4");
  EXPECT_TRUE(Call({"QUOTA.CONSUME", "user:4", "api_calls", "0"}).is_error());
  EXPECT_TRUE(Call({"QUOTA.CONSUME", "user:4", "api_calls", "-5"}).is_error());
  EXPECT_TRUE(Call({"QUOTA.CONSUME", "user:4", "nope", "1"}).is_error());
  EXPECT_TRUE(Call({"QUOTA.CONSUME", "user:4", "api_calls", "1", "WHAT", "x"}).is_error());
  EXPECT_TRUE(Call({"CREDIT.GRANT", "user:4", "api_calls", "5", "EXPIRES", "1000"}).is_error());
  EXPECT_TRUE(Call({"CREDIT.GRANT", "user:4", "api_calls", "5", "IN", "3 days"}).is_error());
  EXPECT_TRUE(Call({"QUOTA.COMMIT", "user:4", "r99", "1"}).is_error());
  EXPECT_TRUE(Call({"PLAN.DEL", "pro"}).is_error());  // user:4 is on it
  EXPECT_TRUE(Call({"QUOTA.RELEASE", "user:4", "api_calls", "x"}).is_error());
  EXPECT_TRUE(Call({"QUOTA.RESERVE", "user:4", "api_calls", "5", "TTL", "0"}).is_error());
  EXPECT_TRUE(Call({"QUOTA.CANCEL", "user:4", "r99"}).is_error());
  EXPECT_TRUE(Call({"QUOTA.CHECK", "user:4", "api_calls", "1", "2"}).is_error());
  EXPECT_TRUE(Call({"QUOTA.USAGE", "us er"}).is_error());
  EXPECT_TRUE(Call({"PLAN.GET", "bad plan"}).is_error());
  EXPECT_TRUE(Call({"PLAN.OF", "us er"}).is_error());
  EXPECT_TRUE(Call({"CREDIT.LIST", "user:4", "api_calls", "SOME"}).is_error());
  EXPECT_TRUE(Call({"CREDIT.LEDGER", "user:4", "g1", "extra"}).is_error());
  EXPECT_TRUE(Call({"EVENTS.READ", "-1"}).is_error());
  EXPECT_TRUE(Call({"EVENTS.READ", "0", "COUNT", "0"}).is_error());
  EXPECT_TRUE(Call({"EVENTS.READ", "999999"}).is_error());
  EXPECT_EQ(Int(Usage("user:4", "api_calls"), "used"), 0);
  EXPECT_EQ(Int(Usage("user:4", "api_calls"), "held"), 0);
  EXPECT_EQ(Call({"CREDIT.LIST", "user:4"}).elements.size(), 0u);
}

// 8 clients × 1,000 consumes of 1 with IDs against a limit of 5,000, the
// daemon SIGKILLed and restarted in the middle; clients retry an unanswered
// consume with its ID. Exactly 5,000 IDs end up allowed and used = 5,000.
TEST_F(QuotaTest, ConcurrentConsumersNeverPassTheLimitAcrossAKill) {
  ASSERT_EQ(Call({"PLAN.SET", "team", R"({"features":{"jobs":{"limit":5000,"period":"total"}}})"}).str, "OK");
  ASSERT_EQ(Call({"PLAN.ASSIGN", "team:1", "team"}).str, "OK");
  conn_.Close();
  constexpr int kClients = 8, kEach = 1000;
  std::atomic<int> allowed{0}, refused{0}, done{0};
  std::atomic<bool> failed{false};
  const int port = daemon().port();
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      std::optional<RespClient> client;
      for (int j = 0; j < kEach && !failed; ++j) {
        const std::string id = "c" + std::to_string(c) + "-" + std::to_string(j);
        for (int attempt = 0;; ++attempt) {
          if (attempt > 400) {
            failed = true;
            return;
          }
          if (!client || !client->connected()) {
            client = RespClient::ConnectTcp(port, std::chrono::milliseconds(200));
            if (!client) {
              std::this_thread::sleep_for(std::chrono::milliseconds(25));
              continue;
            }
          }
          RespValue v = client->Call({"QUOTA.CONSUME", "team:1", "jobs", "1", "ID", id});
          if (v.type != RespValue::Type::kArray && v.type != RespValue::Type::kMap) {
            client.reset();  // no reply or an error: unknown outcome, retry by ID
            std::this_thread::sleep_for(std::chrono::milliseconds(25));
            continue;
          }
          (Int(v, "allowed") == 1 ? allowed : refused)++;
          break;
        }
        done++;
      }
    });
  }
  while (done < kClients * kEach / 3 && !failed) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  daemon().Kill();
  ASSERT_TRUE(daemon().Start());
  for (auto& t : clients) t.join();
  ASSERT_FALSE(failed) << "a client could not get an answer";
  EXPECT_EQ(allowed.load(), 5000);
  EXPECT_EQ(refused.load(), kClients * kEach - 5000);
  RespValue usage = Usage("team:1", "jobs");
  EXPECT_EQ(Int(usage, "used"), 5000) << usage;
  EXPECT_EQ(Int(usage, "remaining"), 0);
}

}  // namespace
}  // namespace tally::itest
