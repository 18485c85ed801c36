// Bad input over HTTP, in-process: thousands of random requests — real route
// pieces mixed with garbage in paths, query strings, methods and JSON bodies
// — go through HttpApi::Handle on a real Engine (RocksDB in a temp dir). No
// request may crash or throw; every answer is a known status with a JSON
// body, every error has a code and a message, and no error changes anything
// (the log receives no entry).

#include "net/http_api.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "commands/context.h"
#include "commands/registry.h"
#include "core/engine.h"
#include "engine_fixture.h"
#include "net/http_route.h"

namespace tally::net {
namespace {

using json = nlohmann::json;

class HttpApiRandomTest : public ::testing::Test, public fixtures::EngineFixture {
 protected:
  HttpApiRandomTest() : EngineFixture(1'718'454'000'000) {}
  void SetUp() override {
    Open();
    if (HasFatalFailure()) return;
    server_.commands = &commands::BuildCommandTable();
    server_.ready = true;
    api_ = std::make_unique<HttpApi>(*engine_, server_);
  }

  // Log entries appended so far (durable or not).
  uint64_t LogEntries() {
    EXPECT_TRUE(engine_->WaitDurable(engine_->Ticket()).ok());
    return engine_->wal_stats().entries;
  }

  ServerState server_;
  std::unique_ptr<HttpApi> api_;
};

const std::vector<std::string> kMethods = {"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "get", "", "G\x01T"};
const std::vector<std::string> kSegments = {"v1",
                                            "owners",
                                            "counters",
                                            "user:1",
                                            "user%3A2",
                                            "downloads",
                                            "increment",
                                            "reset",
                                            "history",
                                            "sum",
                                            "top",
                                            "export",
                                            "changes",
                                            "audit",
                                            "timezone",
                                            "metrics",
                                            "health",
                                            "ready",
                                            "stats",
                                            "%",
                                            "%zz",
                                            "%00",
                                            "a b",
                                            "..",
                                            "",
                                            "x%2Fy",
                                            "\xff\xfe",
                                            "owners",
                                            std::string(130, 'k'),
                                            "counters",
                                            "user:1",
                                            "k"};
const std::vector<std::string> kQueryNames = {"interval", "period", "count",  "from",  "to",     "key", "limit",
                                              "prefix",   "type",   "cursor", "since", "format", "x",   ""};
const std::vector<std::string> kQueryValues = {
    "day",     "hour",       "total",    "all",        "fortnight",
    "current", "2024-06-15", "2024-W24", "2024-13-01", "0",
    "-1",      "10001",      "abc",      "csv",        "ndjson",
    "user:",   "%zz",        "",         "1e3",        "99999999999999999999",
    "user",    "a+b",        "%E2%82%AC"};
const std::vector<std::string> kBodies = {
    "",
    "{}",
    "{\"by\": 1}",
    "{\"by\": -5, \"id\": \"e1\"}",
    "{\"by\": \"x\"}",
    "{\"by\": 1.5}",
    "{\"by\": 9223372036854775807}",
    "{\"by\": 18446744073709551615}",
    "{\"at\": 0}",
    "{\"value\": 3}",
    "{\"value\": 3, \"interval\": \"day\", \"period\": \"2024-W01\"}",
    "{\"interval\": \"day\", \"periods\": {\"2024-06-01\": 4, \"bad\": 1}}",
    "{\"interval\": \"day\", \"periods\": []}",
    "{\"timezone\": \"Mars/Base\"}",
    "{\"timezone\": 7}",
    "[1, 2]",
    "null",
    "{\"by\": 1",
    "\xff\xfe{}",
    "{\"id\": \"has space\"}",
    "{\"id\": \"\xc3\x28\"}",
};

template <typename T>
const T& Pick(std::mt19937_64& rng, const std::vector<T>& options) {
  return options[rng() % options.size()];
}

const std::vector<std::string> kRoutes = {"/health",
                                          "/ready",
                                          "/metrics",
                                          "/v1/stats",
                                          "/v1/owners",
                                          "/v1/owners/{o}/counters",
                                          "/v1/owners/{o}/counters/{k}",
                                          "/v1/owners/{o}/counters/{k}/increment",
                                          "/v1/owners/{o}/counters/{k}/reset",
                                          "/v1/owners/{o}/counters/{k}/history",
                                          "/v1/owners/{o}/counters/{k}/sum",
                                          "/v1/owners/{o}/timezone",
                                          "/v1/top",
                                          "/v1/counters",
                                          "/v1/export",
                                          "/v1/changes",
                                          "/v1/audit"};
const std::vector<std::string> kNames = {"user:1", "user:2", "org:acme", "user%3A1", "downloads",           "k", "a b",
                                         "%zz",    "%00",    "",         "x%2Fy",    std::string(129, 'n'), "ÿ"};

void ReplaceAll(std::string& text, const std::string& from, const std::function<std::string()>& to) {
  for (size_t pos = text.find(from); pos != std::string::npos; pos = text.find(from, pos)) {
    std::string value = to();
    text.replace(pos, from.size(), value);
    pos += value.size();
  }
}

// The query parameters the route with this test pattern declares ("{o}" is
// "{owner}", "{k}" is "{key}"), so that most generated requests reach a command.
std::vector<std::string> DeclaredQueryNames(std::string pattern) {
  ReplaceAll(pattern, "{o}", [] { return std::string("{owner}"); });
  ReplaceAll(pattern, "{k}", [] { return std::string("{key}"); });
  std::vector<std::string> names;
  for (const RouteSpec& route : AllRoutes()) {
    if (route.pattern != pattern) continue;
    for (const FieldSpec& field : route.fields) {
      if (field.source == FieldSource::kQuery) names.emplace_back(field.name);
    }
  }
  return names;
}

std::string RandomTarget(std::mt19937_64& rng) {
  std::string target;
  std::vector<std::string> declared;
  if (rng() % 4 != 0) {
    // A real route with random names, sometimes with a segment added or cut.
    target = Pick(rng, kRoutes);
    declared = DeclaredQueryNames(target);
    ReplaceAll(target, "{o}", [&] { return Pick(rng, kNames); });
    ReplaceAll(target, "{k}", [&] { return Pick(rng, kNames); });
    if (rng() % 10 == 0) target += "/" + Pick(rng, kSegments);
    if (rng() % 10 == 0) target = target.substr(0, target.rfind('/'));
  } else {
    const int segments = static_cast<int>(rng() % 7);
    for (int i = 0; i < segments; ++i) target += "/" + Pick(rng, kSegments);
  }
  if (target.empty() || rng() % 20 == 0) target = rng() % 2 ? "/" : Pick(rng, kSegments);
  if (rng() % 2) {
    target += "?";
    const int params = static_cast<int>(rng() % 4);
    for (int i = 0; i < params; ++i) {
      if (i > 0) target += rng() % 8 ? "&" : "&&";
      // Mostly a parameter the route takes; else any (unknown ones are a 400).
      target += !declared.empty() && rng() % 4 != 0 ? Pick(rng, declared) : Pick(rng, kQueryNames);
      if (rng() % 6) target += "=" + Pick(rng, kQueryValues);
    }
  }
  return target;
}

TEST_F(HttpApiRandomTest, RandomRequestsGetKnownStatusesJsonErrorsAndErrorsChangeNothing) {
  const std::set<int> known = {200, 400, 404, 405, 409, 410, 503};
  std::mt19937_64 rng(20261126);
  int ok = 0, errors = 0;
  std::map<std::string, int> codes;
  for (int i = 0; i < 20000; ++i) {
    HttpRequest request;
    request.method = Pick(rng, kMethods);
    request.target = RandomTarget(rng);
    // Routes that read take no body: send them none most of the time, so
    // that the generator still reaches their commands.
    const bool reads = request.method == "GET" || request.method == "HEAD" || request.method == "DELETE";
    request.body = reads && rng() % 5 != 0 ? std::string() : Pick(rng, kBodies);
    request.peer = "127.0.0.1:1";
    request.headers.emplace_back("host", "localhost");
    if (rng() % 5 == 0) request.headers.emplace_back("x-actor", rng() % 2 ? "alice" : " bad actor\x01");
    const uint64_t entries_before = LogEntries();
    HttpResponse response;
    ASSERT_NO_THROW(response = api_->Handle(request)) << request.method << " " << request.target;
    SCOPED_TRACE(request.method + " " + request.target + " " + request.body + " -> " + std::to_string(response.status) +
                 " " + response.body.substr(0, 300));
    ASSERT_TRUE(known.count(response.status)) << "unexpected status";
    if (response.next_chunk) {
      // An export: drain it (bounded) to prove it terminates.
      std::string piece;
      int pieces = 0;
      while (response.next_chunk(piece) && ++pieces < 100000) piece.clear();
      ASSERT_LT(pieces, 100000);
      ++ok;
      continue;
    }
    if (response.content_type.starts_with("text/plain")) {
      ASSERT_EQ(response.status, 200);  // /metrics
      continue;
    }
    // The dashboard's files (daemon/net/dashboard.h): its page, style, scripts, icon.
    if (!response.content_type.starts_with("application/json")) {
      ASSERT_EQ(response.status, 200) << response.content_type;
      ASSERT_TRUE(request.target == "/" || request.target.starts_with("/dashboard/") ||
                  request.target.starts_with("/?"))
          << "a non-JSON reply outside the dashboard: " << response.content_type;
      continue;
    }
    json body = json::parse(response.body, nullptr, false);
    ASSERT_FALSE(body.is_discarded()) << "not JSON";
    if (response.status >= 400) {
      ++errors;
      ASSERT_TRUE(body["error"]["code"].is_string());
      ++codes[body["error"]["code"].get<std::string>()];
      ASSERT_TRUE(body["error"]["message"].is_string());
      ASSERT_FALSE(body["error"]["message"].get<std::string>().empty());
      // 409 is a duplicate increment: nothing applied either.
      EXPECT_EQ(LogEntries(), entries_before) << "an error changed something";
    } else {
      ++ok;
    }
  }
  std::cout << "[random http] " << ok << " answered 200, " << errors << " errors:";
  for (const auto& [code, count] : codes) std::cout << " " << code << " " << count;
  std::cout << std::endl;
  // The generator reaches both sides.
  // (Most random requests are refused: wrong methods, unknown paths, and
  // since the routes declare their inputs, any field or parameter the route
  // does not take.)
  EXPECT_GT(ok, 500);
  EXPECT_GT(errors, 5000);
}

}  // namespace
}  // namespace tally::net
