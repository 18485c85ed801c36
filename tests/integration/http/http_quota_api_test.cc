// Plans, quotas, credits, reservations and alerts over HTTP against the real
// tallyd (docs/http.md "Plans, quotas and credits"): every route, a refused
// consume as 429 quota_exceeded with the figures and Retry-After, retries by
// id, the credit ledger's balance, the alert log and its server-sent event
// stream resumed from Last-Event-ID, and bad input on each route: a clear
// error and nothing changed.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "eventually.h"
#include "http_util.h"

namespace tally::itest::http {
namespace {

const json kPlan = json::parse(R"({"features": {
  "api_calls": {"limit": 1000, "period": "month", "alerts": [50, 80, 100]},
  "seats": {"limit": 5, "period": "total"}}})");

class HttpQuotaTest : public HttpTest {
 protected:
  std::vector<std::string> ExtraArgs() const override { return {"--compaction-interval-ms", "50"}; }

  void SetUpPlan(const std::string& owner) {
    ASSERT_EQ(Put("/v1/plans/pro", kPlan).status, 200);
    ASSERT_EQ(Put("/v1/owners/" + owner + "/plan", {{"plan", "pro"}}).status, 200);
  }
  // The owner's usage of one feature.
  json Usage(const std::string& owner, const std::string& feature) {
    JsonReply reply = Get("/v1/owners/" + owner + "/usage?feature=" + feature);
    EXPECT_EQ(reply.status, 200) << reply;
    if (reply.status != 200 || reply.body["usage"].size() != 1) return json::object();
    return reply.body["usage"][0];
  }
  JsonReply Consume(const std::string& owner, const std::string& feature, const json& body) {
    return Post("/v1/owners/" + owner + "/quotas/" + feature + "/consume", body);
  }
};

TEST_F(HttpQuotaTest, PlansAreSetReadListedAndDeleted) {
  JsonReply put = Put("/v1/plans/pro", kPlan, {{"X-Actor", "alice"}});
  ASSERT_EQ(put.status, 200) << put;
  EXPECT_EQ(put.body["plan"], "pro");
  EXPECT_EQ(put.body["features"]["api_calls"]["limit"], 1000);
  EXPECT_EQ(put.body["features"]["api_calls"]["overage"], "reject");
  EXPECT_EQ(put.body["features"]["seats"]["period"], "total");

  JsonReply got = Get("/v1/plans/pro");
  ASSERT_EQ(got.status, 200) << got;
  EXPECT_EQ(got.body, put.body);
  ASSERT_EQ(Put("/v1/plans/free", {{"features", {{"api_calls", {{"limit", 10}, {"period", "day"}}}}}}).status, 200);
  JsonReply list = Get("/v1/plans");
  ASSERT_EQ(list.status, 200) << list;
  ASSERT_EQ(list.body["plans"].size(), 2u) << list;
  EXPECT_EQ(list.body["plans"][0]["plan"], "free");
  EXPECT_EQ(list.body["plans"][1], put.body);

  // Bad plans: a clear error naming what is wrong, and the stored plan unchanged.
  struct Bad {
    std::string body;
    int status;
    std::string code;
    std::string names;
  };
  const std::vector<Bad> bad = {
      {R"({"features": {"api_calls": {"limit": -1, "period": "month"}}})", 400, "invalid_plan", "limit"},
      {R"({"features": {"api_calls": {"limit": 1, "period": "fortnight"}}})", 400, "invalid_plan", "fortnight"},
      {R"({"features": {"api_calls": {"limit": 1, "colour": "red"}}})", 400, "invalid_plan", "colour"},
      {R"({"features": {"api_calls": {"limit": 1}, "api_calls": {"limit": 2}}})", 400, "duplicate_key", "api_calls"},
      {R"({"features": [1, 2]})", 400, "invalid_field", "features"},
      {R"({"feature": {}})", 400, "unknown_field", "feature"},
      {R"({})", 400, "missing_field", "features"},
      {R"(not json)", 400, "invalid_json", ""},
  };
  for (const Bad& b : bad) {
    SCOPED_TRACE(b.body);
    JsonReply reply = Call("PUT", "/v1/plans/pro", b.body);
    EXPECT_EQ(ErrorCode(reply, b.status), b.code);
    if (reply.body.is_object() && !b.names.empty()) {
      EXPECT_NE(reply.body["error"]["message"].get<std::string>().find(b.names), std::string::npos) << reply;
    }
  }
  EXPECT_EQ(ErrorCode(Call("PUT", "/v1/plans/bad%20name", kPlan.dump()), 400), "invalid_name");
  EXPECT_EQ(Get("/v1/plans/pro").body, put.body);
  EXPECT_EQ(ErrorCode(Get("/v1/plans/nope"), 404), "unknown_plan");

  // Deleting: refused while an owner is on the plan, then done; a second delete is 404.
  ASSERT_EQ(Put("/v1/owners/team:1/plan", {{"plan", "pro"}}).status, 200);
  EXPECT_EQ(ErrorCode(Call("DELETE", "/v1/plans/pro"), 409), "plan_in_use");
  EXPECT_EQ(Get("/v1/plans/pro").status, 200);
  ASSERT_EQ(Put("/v1/owners/team:1/plan", {{"plan", "free"}}).status, 200);
  JsonReply deleted = Call("DELETE", "/v1/plans/pro", "", {{"X-Actor", "alice"}});
  EXPECT_EQ(deleted.status, 200) << deleted;
  EXPECT_EQ(deleted.body["deleted"], true);
  EXPECT_EQ(ErrorCode(Call("DELETE", "/v1/plans/pro"), 404), "unknown_plan");

  // Audited with the actor (visible after the next compaction).
  auto audited_by_alice = [&] {
    int count = 0;
    const JsonReply audit = Get("/v1/audit");
    for (const json& record : audit.body["audit"]) {
      if (record["actor"] == "local (as: alice)" &&
          (record["command"] == "PLAN.SET" || record["command"] == "PLAN.DEL"))
        ++count;
    }
    return count;
  };
  EXPECT_TRUE(fixtures::Eventually([&] { return audited_by_alice() == 2; })) << audited_by_alice();
}

TEST_F(HttpQuotaTest, AssignmentAndAnchor) {
  SetUpPlan("team:1");
  JsonReply of = Get("/v1/owners/team:1/plan");
  EXPECT_EQ(of.status, 200);
  EXPECT_EQ(of.body["plan"], "pro");
  EXPECT_EQ(Get("/v1/owners/team:2/plan").body["plan"], nullptr);
  JsonReply anchored = Put("/v1/owners/team:2/plan", {{"plan", "pro"}, {"anchor", "2026-01-31"}});
  EXPECT_EQ(anchored.status, 200) << anchored;
  EXPECT_EQ(anchored.body["plan"], "pro");

  EXPECT_EQ(ErrorCode(Put("/v1/owners/team:3/plan", {{"plan", "nope"}}), 404), "unknown_plan");
  EXPECT_EQ(ErrorCode(Put("/v1/owners/team:3/plan", {{"plan", "pro"}, {"anchor", "31/01/2026"}}), 400),
            "invalid_argument");
  EXPECT_EQ(ErrorCode(Put("/v1/owners/team:3/plan", json::object()), 400), "missing_field");
  EXPECT_EQ(ErrorCode(Put("/v1/owners/team:3/plan", {{"plan", 5}}), 400), "invalid_field");
  EXPECT_EQ(Get("/v1/owners/team:3/plan").body["plan"], nullptr);
}

TEST_F(HttpQuotaTest, ConsumeRefusesWith429AndCountsRetriesOnce) {
  SetUpPlan("team:1");
  JsonReply first = Consume("team:1", "seats", {{"amount", 3}, {"id", "seat-a"}});
  ASSERT_EQ(first.status, 200) << first;
  EXPECT_EQ(first.body["allowed"], true);
  EXPECT_EQ(first.body["duplicate"], false);
  EXPECT_EQ(first.body["used"], 3);
  EXPECT_EQ(first.body["remaining"], 2);
  EXPECT_EQ(first.body["sources"], json::parse(R"([{"source": "plan", "amount": 3}])"));

  JsonReply retry = Consume("team:1", "seats", {{"amount", 3}, {"id", "seat-a"}});
  EXPECT_EQ(retry.status, 200) << retry;
  EXPECT_EQ(retry.body["duplicate"], true);
  EXPECT_EQ(retry.body["used"], 3);
  EXPECT_EQ(ErrorCode(Consume("team:1", "seats", {{"amount", 2}, {"id", "seat-a"}}), 409), "id_conflict");

  // Refused: 429 with the figures; a lifetime limit never resets, so no Retry-After.
  JsonReply refused = Consume("team:1", "seats", {{"amount", 4}});
  EXPECT_EQ(ErrorCode(refused, 429), "quota_exceeded");
  EXPECT_EQ(refused.body["allowed"], false);
  EXPECT_EQ(refused.body["used"], 3);
  EXPECT_EQ(refused.body["remaining"], 2);
  EXPECT_EQ(refused.body["shortfall"], 2);
  EXPECT_FALSE(refused.raw.HasHeader("retry-after")) << refused;
  // A monthly limit resets: Retry-After is the seconds until then.
  ASSERT_EQ(Consume("team:1", "api_calls", {{"amount", 1000}}).status, 200);
  JsonReply monthly = Consume("team:1", "api_calls", {{"amount", 1}});
  EXPECT_EQ(ErrorCode(monthly, 429), "quota_exceeded");
  ASSERT_TRUE(monthly.raw.HasHeader("retry-after")) << monthly;
  const long long retry_after = std::stoll(monthly.raw.Header("retry-after"));
  EXPECT_GE(retry_after, 1);
  EXPECT_LE(retry_after, 31LL * 86400);
  EXPECT_TRUE(monthly.body["resets_at"].is_string()) << monthly;
  EXPECT_TRUE(monthly.body["resets_at_ms"].is_number_integer()) << monthly;

  // The dry run draws nothing; release gives back.
  JsonReply check = Get("/v1/owners/team:1/quotas/seats/check?amount=2");
  EXPECT_EQ(check.status, 200) << check;
  EXPECT_EQ(check.body["allowed"], true);
  EXPECT_EQ(Get("/v1/owners/team:1/quotas/seats/check?amount=3").body["allowed"], false);
  EXPECT_EQ(Usage("team:1", "seats")["used"], 3);
  JsonReply released = Post("/v1/owners/team:1/quotas/seats/release", {{"amount", 1}});
  EXPECT_EQ(released.status, 200) << released;
  EXPECT_EQ(released.body["released"], 1);
  EXPECT_EQ(released.body["used"], 2);

  // Bad input on consume, check and release: an error, and nothing changed.
  struct Bad {
    std::string method, target, body;
    int status;
    std::string code;
  };
  const std::string q = "/v1/owners/team:1/quotas/seats/";
  const std::vector<Bad> bad = {
      {"POST", q + "consume", R"({"amount": 0})", 400, "out_of_range"},
      {"POST", q + "consume", R"({"amount": -5})", 400, "out_of_range"},
      {"POST", q + "consume", R"({"amount": "1"})", 400, "invalid_field"},
      {"POST", q + "consume", R"({"amount": 1.5})", 400, "invalid_field"},
      {"POST", q + "consume", R"({})", 400, "missing_field"},
      {"POST", q + "consume", R"({"amount": 1, "by": 2})", 400, "unknown_field"},
      {"POST", q + "consume", R"({"amount": 1, "at": 1})", 400, "invalid_time"},
      {"POST", q + "consume", R"({"amount": 1, "id": ""})", 400, "invalid_id"},
      {"POST", "/v1/owners/team:1/quotas/nope/consume", R"({"amount": 1})", 404, "unknown_feature"},
      {"POST", "/v1/owners/team:9/quotas/seats/consume", R"({"amount": 1})", 404, "no_plan"},
      {"POST", q + "release", R"({"amount": 0})", 400, "out_of_range"},
      {"GET", q + "check?amount=x", "", 400, "not_integer"},
      {"GET", q + "check?amount=0", "", 400, "out_of_range"},
      {"GET", q + "check?amont=1", "", 400, "unknown_parameter"},
      {"GET", "/v1/owners/team:1/usage?feature=nope", "", 404, "unknown_feature"},
      {"GET", "/v1/owners/team:1/usage?x=1", "", 400, "unknown_parameter"},
  };
  for (const Bad& b : bad) {
    SCOPED_TRACE(b.method + " " + b.target + " " + b.body);
    EXPECT_EQ(ErrorCode(Call(b.method, b.target, b.body), b.status), b.code);
  }
  EXPECT_EQ(Usage("team:1", "seats")["used"], 2);
  EXPECT_EQ(Get("/v1/owners/team:9/plan").body["plan"], nullptr);
}

TEST_F(HttpQuotaTest, CreditsLedgerAndRevoke) {
  ASSERT_EQ(Put("/v1/plans/starter", {{"features", {{"tokens", {{"limit", 0}, {"period", "month"}}}}}}).status, 200);
  ASSERT_EQ(Put("/v1/owners/user:1/plan", {{"plan", "starter"}}).status, 200);
  JsonReply a = Post("/v1/owners/user:1/credits",
                     {{"feature", "tokens"}, {"amount", 100}, {"priority", 1}, {"reason", "welcome"}, {"id", "a"}},
                     {{"X-Actor", "support"}});
  ASSERT_EQ(a.status, 201) << a;
  EXPECT_EQ(a.body["grant"], "a");
  EXPECT_EQ(a.body["left"], 100);
  EXPECT_EQ(a.body["by"], "local (as: support)");
  EXPECT_EQ(a.body["expires_at"], nullptr);
  JsonReply b = Post("/v1/owners/user:1/credits", {{"feature", "tokens"}, {"amount", 100}, {"in", "30d"}, {"id", "b"}});
  ASSERT_EQ(b.status, 201) << b;
  EXPECT_TRUE(b.body["expires_at"].is_string()) << b;

  // Priority 0 (b) is drawn before priority 1 (a).
  JsonReply used = Consume("user:1", "tokens", {{"amount", 120}});
  ASSERT_EQ(used.status, 200) << used;
  EXPECT_EQ(used.body["sources"], json::parse(R"([{"source": "b", "amount": 100}, {"source": "a", "amount": 20}])"));
  JsonReply revoked = Call("DELETE", "/v1/owners/user:1/credits/a", "", {{"X-Actor", "support"}});
  ASSERT_EQ(revoked.status, 200) << revoked;
  EXPECT_EQ(revoked.body["revoked"], 80);

  JsonReply live = Get("/v1/owners/user:1/credits");
  ASSERT_EQ(live.status, 200) << live;
  // a is revoked; b is used up but live until it expires (a release would give back to it).
  ASSERT_EQ(live.body["credits"].size(), 1u) << live;
  EXPECT_EQ(live.body["credits"][0]["grant"], "b");
  EXPECT_EQ(live.body["credits"][0]["left"], 0);
  JsonReply all = Get("/v1/owners/user:1/credits?feature=tokens&all=true");
  ASSERT_EQ(all.body["credits"].size(), 2u) << all;
  for (const json& grant : all.body["credits"]) {
    SCOPED_TRACE(grant.dump());
    EXPECT_EQ(grant["amount"].get<int64_t>(), grant["drawn"].get<int64_t>() - grant["released"].get<int64_t>() +
                                                  grant["expired"].get<int64_t>() + grant["revoked"].get<int64_t>() +
                                                  grant["left"].get<int64_t>());
  }
  JsonReply ledger = Get("/v1/owners/user:1/ledger?grant=a");
  ASSERT_EQ(ledger.status, 200) << ledger;
  std::vector<std::string> kinds;
  for (const json& row : ledger.body["ledger"]) kinds.push_back(row["kind"]);
  EXPECT_EQ(kinds, (std::vector<std::string>{"grant", "draw", "revoke"})) << ledger;
  EXPECT_TRUE(ledger.body["ledger"][0]["time"].is_string());

  // Bad input: an error, no grant made or revoked.
  struct Bad {
    std::string method, target, body;
    int status;
    std::string code;
  };
  const std::string c = "/v1/owners/user:1/credits";
  const std::vector<Bad> bad = {
      {"POST", c, R"({"feature": "tokens", "amount": 0})", 400, "out_of_range"},
      {"POST", c, R"({"feature": "tokens"})", 400, "missing_field"},
      {"POST", c, R"({"amount": 5})", 400, "missing_field"},
      {"POST", c, R"({"feature": "tokens", "amount": 5, "expires_at": 1})", 400, "invalid_time"},
      {"POST", c, R"({"feature": "tokens", "amount": 5, "in": "soon"})", 400, "invalid_argument"},
      {"POST", c, R"({"feature": "tokens", "amount": 5, "in": "1d", "expires_at": 99999999999999})", 400, "syntax"},
      {"POST", c, R"({"feature": "tokens", "amount": 5, "priority": 2000000})", 400, "out_of_range"},
      {"POST", c, R"({"feature": "tokens", "amount": 5, "colour": 1})", 400, "unknown_field"},
      {"DELETE", c + "/nope", "", 404, "unknown_grant"},
      {"GET", c + "?all=yes", "", 400, "invalid_field"},
      {"GET", "/v1/owners/user:1/ledger?grant=", "", 400, "invalid_id"},
  };
  for (const Bad& bi : bad) {
    SCOPED_TRACE(bi.method + " " + bi.target + " " + bi.body);
    EXPECT_EQ(ErrorCode(Call(bi.method, bi.target, bi.body), bi.status), bi.code);
  }
  EXPECT_EQ(Get(c + "?all=true").body["credits"].size(), 2u);
  EXPECT_EQ(Get("/v1/owners/user:1/ledger").body["ledger"].size(), ledger.body["ledger"].size() + 2)
      << "grant b: grant and draw rows";
}

TEST_F(HttpQuotaTest, ReservationsHoldCommitOnceAndCancel) {
  SetUpPlan("team:1");
  const std::string r = "/v1/owners/team:1/quotas/api_calls/reserve";
  EXPECT_EQ(ErrorCode(Post(r, {{"amount", 4000}}), 429), "quota_exceeded");
  JsonReply held = Post(r, {{"amount", 1000}, {"ttl_ms", 60000}, {"id", "stream-1"}});
  ASSERT_EQ(held.status, 200) << held;
  EXPECT_EQ(held.body["reservation"], "stream-1");
  EXPECT_TRUE(held.body["expires_at"].is_string()) << held;
  EXPECT_EQ(ErrorCode(Post(r, {{"amount", 1}}), 429), "quota_exceeded");

  const std::string commit = "/v1/owners/team:1/reservations/stream-1/commit";
  JsonReply committed = Post(commit, {{"actual", 743}});
  ASSERT_EQ(committed.status, 200) << committed;
  EXPECT_EQ(committed.body["applied"], true);
  EXPECT_EQ(committed.body["consumed"], 743);
  EXPECT_EQ(committed.body["remaining"], 257);
  JsonReply again = Post(commit, {{"actual", 743}});
  EXPECT_EQ(again.status, 200) << again;
  EXPECT_EQ(again.body["applied"], false);
  EXPECT_EQ(again.body["remaining"], 257);

  JsonReply second = Post(r, {{"amount", 50}, {"id", "stream-2"}});
  ASSERT_EQ(second.status, 200) << second;
  JsonReply cancelled = Call("POST", "/v1/owners/team:1/reservations/stream-2/cancel");
  EXPECT_EQ(cancelled.status, 200) << cancelled;
  EXPECT_EQ(cancelled.body["applied"], true);
  EXPECT_EQ(cancelled.body["held"], 0);

  struct Bad {
    std::string target, body;
    int status;
    std::string code;
  };
  const std::vector<Bad> bad = {
      {r, R"({"amount": 10, "ttl_ms": 0})", 400, "out_of_range"},
      {r, R"({"amount": 10, "ttl_ms": "60s"})", 400, "invalid_field"},
      {"/v1/owners/team:1/reservations/nope/commit", R"({"actual": 1})", 404, "unknown_reservation"},
      {"/v1/owners/team:1/reservations/nope/cancel", "", 404, "unknown_reservation"},
      {commit, R"({"actual": -1})", 400, "out_of_range"},
      {commit, R"({})", 400, "missing_field"},
  };
  for (const Bad& b : bad) {
    SCOPED_TRACE(b.target + " " + b.body);
    EXPECT_EQ(ErrorCode(Call("POST", b.target, b.body), b.status), b.code);
  }
  json usage = Usage("team:1", "api_calls");
  EXPECT_EQ(usage["used"], 743);
  EXPECT_EQ(usage["held"], 0);
}

// The alert events of an SSE body: (id, event, data) per event.
struct SseEvent {
  uint64_t id = 0;
  std::string event;
  json data;
};
std::vector<SseEvent> ParseSse(const std::string& text) {
  std::vector<SseEvent> events;
  SseEvent current;
  bool any = false;
  for (const std::string& line : SplitLines(text)) {
    if (line.empty()) {
      if (any) events.push_back(current);
      current = SseEvent();
      any = false;
    } else if (line.rfind("id: ", 0) == 0) {
      current.id = std::stoull(line.substr(4));
      any = true;
    } else if (line.rfind("event: ", 0) == 0) {
      current.event = line.substr(7);
    } else if (line.rfind("data: ", 0) == 0) {
      current.data = json::parse(line.substr(6), nullptr, false);
    }
  }
  return events;
}

TEST_F(HttpQuotaTest, AlertsAreListedAndStreamedOnceAndResume) {
  SetUpPlan("team:1");
  auto stream = HttpClient::Connect(daemon().http_port());
  ASSERT_TRUE(stream.has_value());
  stream->Send(HttpClient::Encode("GET", "/v1/alerts/stream"));
  // The jump to 950 crosses 50 % and 80 %: one alert each; a retried ID raises none.
  ASSERT_EQ(Consume("team:1", "api_calls", {{"amount", 950}, {"id", "big"}}).status, 200);
  ASSERT_EQ(Consume("team:1", "api_calls", {{"amount", 950}, {"id", "big"}}).body["duplicate"], true);
  std::string received;
  HttpReply open = stream->ReadResponse(std::chrono::milliseconds(1500), false,
                                        [&](std::string_view chunk) { received.append(chunk); });
  EXPECT_FALSE(open.ok()) << "the stream must stay open: " << open;
  std::vector<SseEvent> events = ParseSse(received);
  ASSERT_EQ(events.size(), 2u) << received;
  EXPECT_EQ(events[0].event, "threshold");
  EXPECT_EQ(events[0].data["threshold"], 50);
  EXPECT_EQ(events[0].data["owner"], "team:1");
  EXPECT_EQ(events[0].data["feature"], "api_calls");
  EXPECT_EQ(events[1].data["threshold"], 80);
  EXPECT_LT(events[0].id, events[1].id);

  // The same alerts in the log, with their seqs as the events' ids.
  JsonReply list = Get("/v1/alerts");
  ASSERT_EQ(list.status, 200) << list;
  ASSERT_EQ(list.body["alerts"].size(), 2u) << list;
  EXPECT_EQ(list.body["alerts"][0]["seq"], events[0].id);
  EXPECT_EQ(list.body["alerts"][1]["seq"], events[1].id);
  EXPECT_TRUE(list.body["alerts"][0]["time"].is_string());
  EXPECT_EQ(list.body["next"], events[1].id);
  EXPECT_EQ(Get("/v1/alerts?since=" + std::to_string(events[0].id)).body["alerts"].size(), 1u);

  // Reaching exactly 1,000 raises 100 %; a stream resumed after the first event gets the rest once.
  ASSERT_EQ(Consume("team:1", "api_calls", {{"amount", 50}}).status, 200);
  auto resumed = HttpClient::Connect(daemon().http_port());
  ASSERT_TRUE(resumed.has_value());
  resumed->Send(HttpClient::Encode("GET", "/v1/alerts/stream", "", {{"Last-Event-ID", std::to_string(events[0].id)}}));
  std::string rest;
  resumed->ReadResponse(std::chrono::milliseconds(1500), false, [&](std::string_view chunk) { rest.append(chunk); });
  std::vector<SseEvent> later = ParseSse(rest);
  ASSERT_EQ(later.size(), 2u) << rest;
  EXPECT_EQ(later[0].id, events[1].id);
  EXPECT_EQ(later[1].data["threshold"], 100);

  // Bad cursors are refused before the stream starts.
  EXPECT_EQ(ErrorCode(Get("/v1/alerts/stream?since=abc"), 400), "not_integer");
  EXPECT_EQ(ErrorCode(Get("/v1/alerts/stream?since=999999"), 400), "invalid_cursor");
  EXPECT_EQ(ErrorCode(Call("GET", "/v1/alerts/stream", "", {{"Last-Event-ID", "x"}}), 400), "not_integer");
  EXPECT_EQ(ErrorCode(Get("/v1/alerts?since=-1"), 400), "not_integer");
  EXPECT_EQ(ErrorCode(Get("/v1/alerts?limit=0"), 400), "out_of_range");
}

}  // namespace
}  // namespace tally::itest::http
