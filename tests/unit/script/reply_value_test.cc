#include "script/reply_value.h"

#include <gtest/gtest.h>

#include <string>

#include "protocol/error_codes.h"
#include "protocol/resp_writer.h"

namespace tally::script {
namespace {

using Kind = ReplyValue::Kind;

TEST(ReplyCapture, CapturesNestedArraysInOrder) {
  ReplyCapture capture;
  capture.SendArray(3);
  capture.SendInteger(1);
  capture.SendArray(2);
  capture.SendBulk("a");
  capture.SendArray(0);
  capture.SendNull();
  ReplyValue value = capture.Take();
  ASSERT_EQ(value.kind, Kind::kArray);
  ASSERT_EQ(value.elements.size(), 3u);
  EXPECT_EQ(value.elements[0].integer, 1);
  ASSERT_EQ(value.elements[1].elements.size(), 2u);
  EXPECT_EQ(value.elements[1].elements[0].text, "a");
  EXPECT_EQ(value.elements[1].elements[1].kind, Kind::kArray);
  EXPECT_TRUE(value.elements[1].elements[1].elements.empty());
  EXPECT_EQ(value.elements[2].kind, Kind::kNull);
}

TEST(ReplyCapture, AMapIsAFlatArrayAsInResp2) {
  ReplyCapture capture;
  capture.SendMap(1);
  capture.SendBulk("k");
  capture.SendInteger(7);
  ReplyValue value = capture.Take();
  ASSERT_EQ(value.elements.size(), 2u);
  EXPECT_EQ(value.elements[1].integer, 7);
}

TEST(ReplyCapture, AnErrorKeepsItsCodeWord) {
  ReplyCapture capture;
  capture.SendError(protocol::ErrorCode::kWrongType, "Operation against a key holding the wrong kind of value");
  EXPECT_TRUE(capture.replied_error());
  EXPECT_EQ(capture.Take().text, "WRONGTYPE Operation against a key holding the wrong kind of value");
}

TEST(SendReplyValue, AScriptErrorIsSentWithItsOwnCodeWord) {
  std::string out;
  protocol::RespSink sink(&out);
  SendReplyValue(ReplyValue::Error("MYERR bad\r\nthing"), sink);
  SendReplyValue(ReplyValue::Error("e"), sink);
  EXPECT_EQ(out, "-MYERR bad  thing\r\n-e\r\n");
}

}  // namespace
}  // namespace tally::script
