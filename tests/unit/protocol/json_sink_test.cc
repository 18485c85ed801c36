// JsonSink: a handler's reply as the JSON value the HTTP routes reshape.

#include "protocol/json_sink.h"

#include <gtest/gtest.h>

#include <cstdint>

namespace tally::protocol {
namespace {

using json = nlohmann::json;

TEST(JsonSink, ScalarsBecomeJsonScalars) {
  JsonSink sink;
  sink.SendInteger(INT64_MIN);
  EXPECT_TRUE(sink.complete());
  EXPECT_EQ(sink.value(), json(INT64_MIN));
  sink.Reset();
  sink.SendBulk("hello");
  EXPECT_EQ(sink.value(), json("hello"));
  sink.Reset();
  sink.SendOk();
  EXPECT_EQ(sink.value(), json("OK"));
  sink.Reset();
  sink.SendNull();
  EXPECT_TRUE(sink.complete());
  EXPECT_TRUE(sink.value().is_null());
  EXPECT_FALSE(sink.error().has_value());
}

TEST(JsonSink, NestedArraysKeepTheirShape) {
  // [next-cursor, [[owner, value], [owner, value]]] as CTR.TOP-like handlers send it.
  JsonSink sink;
  sink.SendArray(2);
  EXPECT_FALSE(sink.complete());
  sink.SendBulk("0");
  sink.SendArray(2);
  sink.SendArray(2);
  sink.SendBulk("user:1");
  sink.SendInteger(5);
  sink.SendArray(2);
  sink.SendBulk("user:2");
  EXPECT_FALSE(sink.complete());
  sink.SendInteger(3);
  EXPECT_TRUE(sink.complete());
  EXPECT_EQ(sink.value(), json::parse(R"(["0", [["user:1", 5], ["user:2", 3]]])"));
}

TEST(JsonSink, EmptyAggregatesAreCompleteAtOnce) {
  JsonSink sink;
  sink.SendArray(0);
  EXPECT_TRUE(sink.complete());
  EXPECT_EQ(sink.value(), json::array());
  sink.Reset();
  sink.SendArray(2);
  sink.SendArray(0);
  sink.SendMap(0);
  EXPECT_TRUE(sink.complete());
  EXPECT_EQ(sink.value(), json::parse("[[], {}]"));
}

TEST(JsonSink, MapsBecomeObjectsWithStringKeys) {
  JsonSink sink;
  sink.SendMap(3);
  sink.SendBulk("allowed");
  sink.SendInteger(1);
  sink.SendSimple("limits");
  sink.SendArray(1);
  sink.SendInteger(7);
  sink.SendBulk("plan");
  sink.SendNull();
  EXPECT_TRUE(sink.complete());
  EXPECT_EQ(sink.value(), json::parse(R"({"allowed": 1, "limits": [7], "plan": null})"));
}

TEST(JsonSink, NullArrayIsNull) {
  JsonSink sink;
  sink.SendArray(2);
  sink.SendNullArray();
  sink.SendInteger(1);
  EXPECT_EQ(sink.value(), json::parse("[null, 1]"));
}

TEST(JsonSink, TopLevelErrorIsKeptApartFromTheValue) {
  JsonSink sink;
  sink.SendError(ErrorCode::kInvalidName, "invalid owner 'a b'");
  EXPECT_TRUE(sink.complete());
  ASSERT_TRUE(sink.error().has_value());
  EXPECT_EQ(sink.error()->code(), ErrorCode::kInvalidName);
  EXPECT_EQ(sink.error()->Message(), "invalid owner 'a b'");
  EXPECT_TRUE(sink.value().is_null());
  sink.Reset();
  EXPECT_FALSE(sink.error().has_value());
  EXPECT_FALSE(sink.complete());
}

TEST(JsonSink, KeepsTheArgumentsAnErrorNamesSoHttpCanRenameThem) {
  JsonSink sink;
  sink.SendError(errors::OutOfRange("COUNT", 1, 10000));
  ASSERT_TRUE(sink.error().has_value());
  EXPECT_EQ(sink.error()->code(), ErrorCode::kOutOfRange);
  EXPECT_EQ(sink.error()->argument(), "COUNT");
  EXPECT_EQ(sink.error()->Message(), "COUNT must be between 1 and 10000");
  auto http = [](std::string_view argument) { return argument == "COUNT" ? std::string("limit") : std::string(); };
  EXPECT_EQ(sink.error()->Message(http), "limit must be between 1 and 10000");
}

TEST(JsonSink, ErrorInsideAnArrayStaysInPlaceWithItsCode) {
  JsonSink sink;
  sink.SendArray(2);
  sink.SendInteger(1);
  sink.SendError(ErrorCode::kStorageFailed, "boom");
  EXPECT_TRUE(sink.complete());
  EXPECT_FALSE(sink.error().has_value());
  EXPECT_EQ(sink.value(), json::parse(R"([1, {"error": {"code": "storage_failed", "message": "boom"}}])"));
}

TEST(JsonSink, LargeArraysStayValid) {
  // Pointers into the tree must survive growth of sibling arrays.
  JsonSink sink;
  sink.SendArray(1000);
  for (int i = 0; i < 1000; ++i) {
    sink.SendArray(2);
    sink.SendBulk("k" + std::to_string(i));
    sink.SendInteger(i);
  }
  ASSERT_TRUE(sink.complete());
  ASSERT_EQ(sink.value().size(), 1000u);
  EXPECT_EQ(sink.value()[999], json::parse(R"(["k999", 999])"));
}

}  // namespace
}  // namespace tally::protocol
