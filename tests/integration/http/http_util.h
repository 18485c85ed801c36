#pragma once
// Shorthands of the HTTP API integration tests: JSON requests against the
// fixture's tallyd, and expectations on statuses and error codes.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "tallyd_process.h"

namespace tally::itest::http {

using json = nlohmann::json;

struct JsonReply {
  int status = 0;
  json body;  // discarded (is_discarded()) when the body was not JSON
  HttpReply raw;
};

inline std::ostream& operator<<(std::ostream& os, const JsonReply& reply) { return os << reply.raw; }

class HttpTest : public TallydTest {
 protected:
  JsonReply Call(const std::string& method, const std::string& target, const std::string& body = "",
                 const HttpClient::Headers& headers = {}) {
    JsonReply reply;
    reply.raw = HttpClient::Request(daemon_->http_port(), method, target, body, headers);
    reply.status = reply.raw.status;
    reply.body = json::parse(reply.raw.body, nullptr, false);
    return reply;
  }
  JsonReply Get(const std::string& target) { return Call("GET", target); }
  JsonReply Post(const std::string& target, const json& body, const HttpClient::Headers& headers = {}) {
    return Call("POST", target, body.dump(), headers);
  }
  JsonReply Put(const std::string& target, const json& body, const HttpClient::Headers& headers = {}) {
    return Call("PUT", target, body.dump(), headers);
  }
  // The error code of a reply that must be an error with `status`.
  std::string ErrorCode(const JsonReply& reply, int status) {
    EXPECT_EQ(reply.status, status) << reply;
    if (reply.body.is_discarded() || !reply.body.contains("error")) {
      ADD_FAILURE() << "no JSON error body: " << reply;
      return "";
    }
    EXPECT_TRUE(reply.body["error"]["message"].is_string()) << reply;
    EXPECT_FALSE(reply.body["error"]["message"].get<std::string>().empty()) << reply;
    return reply.body["error"]["code"].get<std::string>();
  }
};

}  // namespace tally::itest::http
