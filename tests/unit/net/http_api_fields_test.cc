// The HTTP API's request checks, in-process and without an engine: the JSON
// body parser that refuses duplicate keys, the request target, the Host
// header, and a route's declared inputs (unknown, repeated, mistyped,
// missing). Every refusal has its code and names the field.

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "net/http_api.h"
#include "net/http_fields.h"
#include "net/http_route.h"

namespace tally::net {
namespace {

using protocol::ErrorCode;

std::optional<protocol::Error> Parse(std::string_view text) {
  json out;
  return ParseJsonBody(text, &out);
}

TEST(ParseJsonBody, AcceptsJsonWithDistinctKeys) {
  json out;
  EXPECT_EQ(ParseJsonBody(R"({"by": 1, "at": 2, "id": "x"})", &out), std::nullopt);
  EXPECT_EQ(out["by"], 1);
  EXPECT_EQ(Parse(R"({"a": {"k": 1}, "b": {"k": 2}})"), std::nullopt) << "the same key in two objects";
  EXPECT_EQ(Parse(R"([{"k": 1}, {"k": 2}])"), std::nullopt) << "the same key in two array elements";
  EXPECT_EQ(Parse(R"({"K": 1, "k": 2})"), std::nullopt) << "keys are case-sensitive";
  EXPECT_EQ(Parse("[1, 2]"), std::nullopt) << "not an object is for the caller to refuse";
}

TEST(ParseJsonBody, RefusesAKeyRepeatedInTheTopObject) {
  auto error = Parse(R"({"by": 1, "by": 1000})");
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->code(), ErrorCode::kDuplicateKey);
  EXPECT_EQ(error->Message(), "duplicate key 'by' in the request body");
}

TEST(ParseJsonBody, RefusesRepeatsAtAnyDepthAndSaysWhere) {
  auto nested = Parse(R"({"interval": "day", "periods": {"2024-01-01": 1, "2024-01-01": 2}})");
  ASSERT_TRUE(nested.has_value());
  EXPECT_EQ(nested->code(), ErrorCode::kDuplicateKey);
  EXPECT_EQ(nested->Message(), "duplicate key '2024-01-01' in the request body (in 'periods')");
  auto in_array = Parse(R"({"list": [{"a": 1, "a": 2}]})");
  ASSERT_TRUE(in_array.has_value());
  EXPECT_EQ(in_array->code(), ErrorCode::kDuplicateKey);
  // Escapes are decoded before keys are compared: "a" and "\u0061" are one key.
  auto escaped = Parse(R"({"a": 1, "\u0061": 2})");
  ASSERT_TRUE(escaped.has_value());
  EXPECT_EQ(escaped->code(), ErrorCode::kDuplicateKey);
  // After the nested object closes, its keys no longer count.
  EXPECT_EQ(Parse(R"({"o": {"x": 1}, "x": 2})"), std::nullopt);
}

TEST(ParseJsonBody, InvalidJsonIsInvalidJson) {
  for (std::string_view bad : {"{\"by\": 1", "{by: 1}", "{\"by\": 01}", "\xff{}", "{\"a\": 1,}", ""}) {
    auto error = Parse(bad);
    ASSERT_TRUE(error.has_value()) << bad;
    EXPECT_EQ(error->code(), ErrorCode::kInvalidJson) << bad;
  }
}

TEST(ParseTarget, SplitsDecodesAndKeepsRepeatedParameters) {
  Target target;
  ASSERT_EQ(ParseTarget("/v1/owners/user%3A1/counters/?interval=day&&interval=month&x", &target), std::nullopt);
  EXPECT_EQ(target.segments, (std::vector<std::string>{"v1", "owners", "user:1", "counters"}));
  ASSERT_EQ(target.query.size(), 3u);
  EXPECT_EQ(target.query[0], (std::pair<std::string, std::string>{"interval", "day"}));
  EXPECT_EQ(target.query[1], (std::pair<std::string, std::string>{"interval", "month"}));
  EXPECT_EQ(target.query[2], (std::pair<std::string, std::string>{"x", ""}));
  Target bad;
  auto error = ParseTarget("/v1/x?a=%zz", &bad);
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->code(), ErrorCode::kBadRequest);
  EXPECT_TRUE(ParseTarget("v1/x", &bad).has_value());
}

TEST(CheckHost, Http11NeedsExactlyOneHostHeader) {
  HttpRequest request;
  request.version = 11;
  ASSERT_TRUE(CheckHost(request).has_value());
  EXPECT_EQ(CheckHost(request)->code(), ErrorCode::kMissingHost);
  request.headers.emplace_back("host", "localhost");
  EXPECT_EQ(CheckHost(request), std::nullopt);
  request.headers.emplace_back("host", "other");
  ASSERT_TRUE(CheckHost(request).has_value());
  EXPECT_NE(CheckHost(request)->Message().find("exactly one"), std::string::npos);
  HttpRequest old;
  old.version = 10;
  EXPECT_EQ(CheckHost(old), std::nullopt) << "HTTP/1.0 may omit Host";
}

TEST(ClosestName, SuggestsNearNamesOnly) {
  const std::vector<std::string_view> names = {"interval", "period", "by", "at", "id"};
  EXPECT_EQ(ClosestName("intervall", names), "interval");
  EXPECT_EQ(ClosestName("peroid", names), "period");
  EXPECT_EQ(ClosestName("amount", names), "");
  EXPECT_EQ(ClosestName("zz", names), "") << "two edits turn any two letters into any other";
  EXPECT_EQ(ClosestName("bx", names), "by");
}

// ---------------------------------------------------------------------------
// CheckInputs against a route declared for the test

HttpResponse Unused(RouteCall&) { return {}; }

using enum FieldSource;
using enum FieldType;
constexpr FieldSpec kFields[] = {
    {"owner", kPath, kString, true, "owner", "the owner"},
    {"interval", kQuery, kString, false, "interval", "an interval"},
    {"period", kQuery, kString, false, "period", "a period", {}, "interval"},
    {"limit", kQuery, kInteger, false, "COUNT", "page size"},
    {"format", kQuery, kEnum, false, "", "output", "csv ndjson"},
    {"by", kBody, kInteger, false, "delta", "amount"},
    {"id", kBody, kString, true, "ID", "event id"},
    {"dry", kBody, kBoolean, false, "", "dry run"},
    {"periods", kBody, kPeriodMap, false, "period value", "cells"},
};
constexpr RouteSpec kRoute{"POST", "/t/{owner}", "CTR.INCRBY", kFields, "test", Unused};
constexpr RouteSpec kGetRoute{"GET", "/t", "CTR.GET", std::span<const FieldSpec>(kFields, 5), "test", Unused};

struct Checked {
  std::optional<protocol::Error> error;
  std::map<std::string, std::string> query;
  json body;
};

Checked Check(const RouteSpec& route, std::string_view target_text, std::string body) {
  HttpRequest request;
  request.method = std::string(route.method);
  request.target = std::string(target_text);
  request.body = std::move(body);
  Target target;
  EXPECT_EQ(ParseTarget(target_text, &target), std::nullopt);
  Checked out;
  out.error = CheckInputs(route, request, target, &out.query, &out.body);
  return out;
}

// The code and the message of a refused request.
std::pair<ErrorCode, std::string> Refused(const RouteSpec& route, std::string_view target, std::string body) {
  Checked checked = Check(route, target, std::move(body));
  EXPECT_TRUE(checked.error.has_value()) << target;
  if (!checked.error) return {ErrorCode::kInternal, ""};
  return {checked.error->code(), checked.error->Message()};
}

TEST(CheckInputs, DeclaredInputsOfTheRightTypePass) {
  Checked ok = Check(kRoute, "/t/o?interval=day&period=current&limit=5&format=csv",
                     R"({"by": -3, "id": "e1", "dry": true, "periods": {"2024-01-01": 4}})");
  ASSERT_EQ(ok.error, std::nullopt) << ok.error->Message();
  EXPECT_EQ(ok.query.at("limit"), "5");
  EXPECT_EQ(ok.body["by"], -3);
}

TEST(CheckInputs, UnknownAndRepeatedQueryParametersAreNamed) {
  auto [code, message] = Refused(kRoute, "/t/o?intervall=day", R"({"id": "e"})");
  EXPECT_EQ(code, ErrorCode::kUnknownParameter);
  EXPECT_EQ(message, "unknown query parameter 'intervall': did you mean 'interval'?");
  std::tie(code, message) = Refused(kRoute, "/t/o?by=5", R"({"id": "e"})");
  EXPECT_EQ(code, ErrorCode::kUnknownParameter);
  EXPECT_EQ(message, "unknown query parameter 'by': this route takes 'by' in the JSON body");
  std::tie(code, message) = Refused(kRoute, "/t/o?zzz=1", R"({"id": "e"})");
  EXPECT_EQ(message, "unknown query parameter 'zzz'; this route takes: interval, period, limit, format");
  std::tie(code, message) = Refused(kRoute, "/t/o?limit=1&limit=2", R"({"id": "e"})");
  EXPECT_EQ(code, ErrorCode::kRepeatedParameter);
  EXPECT_EQ(message, "query parameter 'limit' is given 2 times; give it once");
}

TEST(CheckInputs, QueryValuesOfTheWrongTypeAreNamed) {
  auto [code, message] = Refused(kRoute, "/t/o?limit=abc", R"({"id": "e"})");
  EXPECT_EQ(code, ErrorCode::kNotInteger);
  EXPECT_EQ(message, "query parameter 'limit' must be an integer, got 'abc'");
  EXPECT_EQ(Refused(kRoute, "/t/o?limit=1.5", R"({"id": "e"})").first, ErrorCode::kNotInteger);
  EXPECT_EQ(Refused(kRoute, "/t/o?limit=1e3", R"({"id": "e"})").first, ErrorCode::kNotInteger);
  EXPECT_EQ(Refused(kRoute, "/t/o?limit=", R"({"id": "e"})").first, ErrorCode::kNotInteger);
  std::tie(code, message) = Refused(kRoute, "/t/o?format=xml", R"({"id": "e"})");
  EXPECT_EQ(code, ErrorCode::kInvalidField);
  EXPECT_EQ(message, "query parameter 'format' must be one of csv, ndjson, got 'xml'");
}

TEST(CheckInputs, BodyFieldsMustBeDeclaredAndOfTheirType) {
  struct Case {
    std::string body;
    ErrorCode code;
    std::string message;
  };
  const Case cases[] = {
      {R"({"id": "e", "amount": 2})", ErrorCode::kUnknownField,
       "unknown field 'amount'; this route takes: by, id, dry, periods"},
      {R"({"id": "e", "limit": 2})", ErrorCode::kUnknownField,
       "unknown field 'limit': this route takes 'limit' in the query string"},
      {R"({"id": "e", "by": "5"})", ErrorCode::kInvalidField, "field 'by' must be an integer, got a string (\"5\")"},
      {R"({"id": "e", "by": 1.5})", ErrorCode::kInvalidField,
       "field 'by' must be an integer, got a number with a fraction or an exponent (1.5)"},
      {R"({"id": "e", "by": 1e3})", ErrorCode::kInvalidField,
       "field 'by' must be an integer, got a number with a fraction or an exponent (1000.0)"},
      {R"({"id": "e", "by": 2.0})", ErrorCode::kInvalidField,
       "field 'by' must be an integer, got a number with a fraction or an exponent (2.0)"},
      {R"({"id": "e", "by": null})", ErrorCode::kInvalidField, "field 'by' must be an integer, got null"},
      {R"({"id": "e", "by": true})", ErrorCode::kInvalidField, "field 'by' must be an integer, got true"},
      {R"({"id": "e", "by": [1]})", ErrorCode::kInvalidField, "field 'by' must be an integer, got an array"},
      {R"({"id": "e", "by": 18446744073709551615})", ErrorCode::kNotInteger,
       "field 'by' is out of range for a signed 64-bit integer"},
      {R"({"id": 7})", ErrorCode::kInvalidField, "field 'id' must be a string, got an integer (7)"},
      {R"({"id": "e", "dry": "yes"})", ErrorCode::kInvalidField,
       "field 'dry' must be true or false, got a string (\"yes\")"},
      {R"({"id": "e", "periods": {"2024-01-01": "4"}})", ErrorCode::kInvalidField,
       "field 'periods.2024-01-01' must be an integer, got a string (\"4\")"},
      {R"({"id": "e", "periods": {}})", ErrorCode::kInvalidField,
       "field 'periods' must be a non-empty object of period: integer, got an object"},
      {R"({"by": 1})", ErrorCode::kMissingField, "missing field 'id'"},
      {R"({"id": "e", "id": "f"})", ErrorCode::kDuplicateKey, "duplicate key 'id' in the request body"},
      {"[1]", ErrorCode::kInvalidJson, "the request body must be a JSON object"},
      {"null", ErrorCode::kInvalidJson, "the request body must be a JSON object"},
      {"{\"id\": ", ErrorCode::kInvalidJson, "the request body is not valid JSON"},
  };
  for (const Case& c : cases) {
    auto [code, message] = Refused(kRoute, "/t/o", c.body);
    EXPECT_EQ(code, c.code) << c.body;
    EXPECT_EQ(message, c.message) << c.body;
  }
}

TEST(CheckInputs, AFieldThatNeedsAnotherIsRefusedAlone) {
  auto [code, message] = Refused(kRoute, "/t/o?period=2024", R"({"id": "e"})");
  EXPECT_EQ(code, ErrorCode::kMissingField);
  EXPECT_EQ(message, "query parameter 'period' needs query parameter 'interval'");
}

TEST(CheckInputs, ARouteWithoutBodyFieldsRefusesAnyBody) {
  EXPECT_EQ(Check(kGetRoute, "/t?interval=day", "").error, std::nullopt);
  EXPECT_EQ(Check(kGetRoute, "/t", " \r\n").error, std::nullopt) << "whitespace is no body";
  for (std::string body : {"{}", "{\"interval\": \"day\"}", "x"}) {
    auto [code, message] = Refused(kGetRoute, "/t", body);
    EXPECT_EQ(code, ErrorCode::kUnexpectedBody) << body;
    EXPECT_EQ(message, "GET /t takes no request body (its arguments are in the path and the query string)");
  }
}

// Every route of the API is declared consistently.
TEST(Routes, EveryRouteIsUniqueAndItsFieldsAreWellFormed) {
  std::set<std::string> seen;
  for (const RouteSpec& route : AllRoutes()) {
    const std::string id = std::string(route.method) + " " + std::string(route.pattern);
    EXPECT_TRUE(seen.insert(id).second) << "declared twice: " << id;
    EXPECT_FALSE(route.summary.empty()) << id;
    EXPECT_NE(route.handle, nullptr) << id;
    std::set<std::pair<FieldSource, std::string_view>> names;
    for (const FieldSpec& field : route.fields) {
      EXPECT_TRUE(names.insert({field.source, field.name}).second) << id << ": field " << field.name << " twice";
      EXPECT_FALSE(field.doc.empty()) << id << ": " << field.name;
      EXPECT_EQ(field.type == FieldType::kEnum, !field.choices.empty()) << id << ": " << field.name;
      if (field.source == FieldSource::kPath) {
        EXPECT_NE(route.pattern.find("{" + std::string(field.name) + "}"), std::string_view::npos)
            << id << ": path field " << field.name << " is not in the pattern";
      }
      if (!field.needs.empty()) {
        bool found = false;
        for (const FieldSpec& other : route.fields) found = found || other.name == field.needs;
        EXPECT_TRUE(found) << id << ": " << field.name << " needs an undeclared " << field.needs;
      }
    }
    // Every {segment} of the pattern is declared.
    for (size_t open = route.pattern.find('{'); open != std::string_view::npos;
         open = route.pattern.find('{', open + 1)) {
      const std::string_view segment = route.pattern.substr(open + 1, route.pattern.find('}', open) - open - 1);
      EXPECT_TRUE(names.count({FieldSource::kPath, segment})) << id << ": {" << segment << "} is not declared";
    }
  }
}

}  // namespace
}  // namespace tally::net
