// The command table and the error texts it sends: name lookup, arity, and
// Redis's exact "unknown command" / "wrong number of arguments" replies.

#include "protocol/command_table.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "protocol/errors.h"
#include "protocol/resp_writer.h"

namespace tally::protocol {
namespace {

void Noop(CommandContext&, CommandArgs, ReplySink&) {}

constexpr CommandSpec kSpecs[] = {
    {"GET", 2, flags::kReadOnly | flags::kFast, "string", "key", "Get a value", Noop},
    {"INCRBY", 3, flags::kWrite | flags::kFast, "string", "key increment", "Increment", Noop},
    {"MGET", -2, flags::kReadOnly, "string", "key [key ...]", "Get many", Noop},
    {"CTR.INCRBY", -4, flags::kWrite, "counter", "owner key delta", "Add to a counter", Noop},
    {"PING", -1, flags::kConnection | flags::kFast, "connection", "[message]", "Ping", Noop},
};

class CommandTableTest : public ::testing::Test {
 protected:
  CommandTableTest() { table_.Register(kSpecs); }

  // Resolves `args` and returns what the client would receive (empty on success).
  std::string Reply(std::vector<std::string_view> args) {
    std::string out;
    RespSink sink(&out);
    const CommandSpec* spec = table_.Resolve(CommandArgs(args.data(), args.size()), sink);
    EXPECT_EQ(spec == nullptr, !out.empty()) << "an error reply if and only if nothing resolved";
    return out;
  }

  CommandTable table_;
};

// ---------------------------------------------------------------------------
// Lookup

TEST_F(CommandTableTest, FindsCommandsWhateverTheirCase) {
  EXPECT_EQ(table_.Find("INCRBY"), &kSpecs[1]);
  EXPECT_EQ(table_.Find("incrby"), &kSpecs[1]);
  EXPECT_EQ(table_.Find("IncrBy"), &kSpecs[1]);
  EXPECT_EQ(table_.Find("ctr.incrby"), &kSpecs[3]);
  EXPECT_EQ(table_.Find("Ctr.IncrBy"), &kSpecs[3]);
}

TEST_F(CommandTableTest, UnknownNamesAreNotFound) {
  EXPECT_EQ(table_.Find("foo"), nullptr);
  EXPECT_EQ(table_.Find(""), nullptr);
  EXPECT_EQ(table_.Find("GE"), nullptr);
  EXPECT_EQ(table_.Find("GETX"), nullptr);
  EXPECT_EQ(table_.Find("ctr_incrby"), nullptr);
  EXPECT_EQ(table_.Find(std::string(65, 'g')), nullptr);
  EXPECT_EQ(table_.Find(std::string(100000, 'g')), nullptr);
  EXPECT_EQ(table_.Find(std::string_view("GET\0", 4)), nullptr);
}

TEST_F(CommandTableTest, ListsCommandsInRegistrationOrder) {
  ASSERT_EQ(table_.all().size(), std::size(kSpecs));
  for (size_t i = 0; i < std::size(kSpecs); ++i) EXPECT_EQ(table_.all()[i], &kSpecs[i]);
}

TEST(CommandTable, LaterRegistrationsAddToTheTable) {
  CommandTable table;
  table.Register(std::span(kSpecs).first(2));
  table.Register(std::span(kSpecs).subspan(2));
  EXPECT_EQ(table.all().size(), std::size(kSpecs));
  EXPECT_EQ(table.Find("ping"), &kSpecs[4]);
}

TEST(CommandTable, ANameOf64BytesIsAllowed) {
  static const std::string name(64, 'N');
  static const CommandSpec spec[] = {{name, 1, 0, "test", "", "", Noop}};
  CommandTable table;
  table.Register(spec);
  EXPECT_EQ(table.Find(std::string(64, 'n')), &spec[0]);
}

// ---------------------------------------------------------------------------
// Arity

TEST_F(CommandTableTest, ExactArityCountsTheCommandName) {
  EXPECT_EQ(Reply({"GET", "k"}), "");
  EXPECT_EQ(Reply({"GET"}), "-ERR wrong number of arguments for 'get' command\r\n");
  EXPECT_EQ(Reply({"GET", "a", "b"}), "-ERR wrong number of arguments for 'get' command\r\n");
}

TEST_F(CommandTableTest, NegativeArityIsAMinimum) {
  EXPECT_EQ(Reply({"MGET"}), "-ERR wrong number of arguments for 'mget' command\r\n");
  EXPECT_EQ(Reply({"MGET", "a"}), "");
  EXPECT_EQ(Reply({"MGET", "a", "b", "c", "d"}), "");
  EXPECT_EQ(Reply({"PING"}), "");
  EXPECT_EQ(Reply({"PING", "hello"}), "");
}

TEST_F(CommandTableTest, WrongArityNamesTheCommandInLowerCase) {
  EXPECT_EQ(Reply({"INCRBY", "k"}), "-ERR wrong number of arguments for 'incrby' command\r\n");
  EXPECT_EQ(Reply({"IncrBy", "k", "1", "2"}), "-ERR wrong number of arguments for 'incrby' command\r\n");
  EXPECT_EQ(Reply({"CTR.INCRBY", "o", "k"}), "-ERR wrong number of arguments for 'ctr.incrby' command\r\n");
}

TEST_F(CommandTableTest, ResolveReturnsTheSpecWhenNameAndArityMatch) {
  std::vector<std::string_view> args = {"incrby", "k", "5"};
  std::string out;
  RespSink sink(&out);
  EXPECT_EQ(table_.Resolve(CommandArgs(args.data(), args.size()), sink), &kSpecs[1]);
  EXPECT_EQ(out, "");
}

TEST(CommandTable, ArityMatchesFollowsRedisConvention) {
  EXPECT_TRUE(CommandTable::ArityMatches(2, 2));
  EXPECT_FALSE(CommandTable::ArityMatches(2, 1));
  EXPECT_FALSE(CommandTable::ArityMatches(2, 3));
  EXPECT_TRUE(CommandTable::ArityMatches(-2, 2));
  EXPECT_TRUE(CommandTable::ArityMatches(-2, 100));
  EXPECT_FALSE(CommandTable::ArityMatches(-2, 1));
  EXPECT_TRUE(CommandTable::ArityMatches(-1, 1));
  EXPECT_FALSE(CommandTable::ArityMatches(1, 0));
}

// ---------------------------------------------------------------------------
// Unknown commands: Redis's processCommand() text, byte for byte.

TEST_F(CommandTableTest, UnknownCommandEchoesNameAndArguments) {
  EXPECT_EQ(Reply({"foo", "a", "b"}), "-ERR unknown command 'foo', with args beginning with: 'a' 'b' \r\n");
}

TEST_F(CommandTableTest, UnknownCommandKeepsTheNameAsSent) {
  EXPECT_EQ(Reply({"FOO"}), "-ERR unknown command 'FOO', with args beginning with: \r\n");
}

TEST_F(CommandTableTest, AnEmptyCommandIsUnknown) {
  EXPECT_EQ(Reply({}), "-ERR unknown command '', with args beginning with: \r\n");
  EXPECT_EQ(Reply({""}), "-ERR unknown command '', with args beginning with: \r\n");
}

TEST_F(CommandTableTest, UnknownCommandNameIsCutAt128Bytes) {
  std::string name(200, 'x');
  EXPECT_EQ(Reply({name}), "-ERR unknown command '" + std::string(128, 'x') + "', with args beginning with: \r\n");
}

TEST_F(CommandTableTest, UnknownCommandArgumentsAreCutAt128Bytes) {
  // Redis appends "'%.*s' " with a precision of 128 minus what is already
  // there, while less than 128 bytes have been appended.
  std::string long_arg(200, 'a');
  EXPECT_EQ(Reply({"foo", long_arg, "b"}),
            "-ERR unknown command 'foo', with args beginning with: '" + std::string(128, 'a') + "' \r\n");

  std::string a(100, 'a');
  std::string b(100, 'b');
  EXPECT_EQ(Reply({"foo", a, b, "c"}),
            "-ERR unknown command 'foo', with args beginning with: '" + a + "' '" + std::string(25, 'b') + "' \r\n");
}

TEST_F(CommandTableTest, UnknownCommandStopsEchoingOnce128BytesAreOut) {
  std::vector<std::string_view> args = {"foo"};
  for (int i = 0; i < 12; ++i) args.push_back("abcdefghij");
  std::string echoed;
  for (int i = 0; i < 10; ++i) echoed += "'abcdefghij' ";  // 9 * 13 = 117 < 128, 10 * 13 = 130
  EXPECT_EQ(Reply(args), "-ERR unknown command 'foo', with args beginning with: " + echoed + "\r\n");

  std::string exactly(125, 'e');  // "'" + 125 + "' " = 128: nothing more is echoed
  EXPECT_EQ(Reply({"foo", exactly, "x"}),
            "-ERR unknown command 'foo', with args beginning with: '" + exactly + "' \r\n");
  std::string almost(124, 'e');  // 127: one more byte of the next argument fits
  EXPECT_EQ(Reply({"foo", almost, "xyz", "w"}),
            "-ERR unknown command 'foo', with args beginning with: '" + almost + "' 'x' \r\n");
}

TEST_F(CommandTableTest, UnknownCommandNeverEchoesCrOrLf) {
  EXPECT_EQ(Reply({"fo\r\no", "a\nb", "c\rd"}),
            "-ERR unknown command 'fo  o', with args beginning with: 'a b' 'c d' \r\n");
}

// ---------------------------------------------------------------------------
// Registration mistakes are programming errors: they abort at start-up.

TEST(CommandTableDeathTest, DuplicateNameAborts) {
  static constexpr CommandSpec dup[] = {
      {"GET", 2, 0, "string", "key", "", Noop},
      {"GET", 2, 0, "string", "key", "", Noop},
  };
  CommandTable table;
  EXPECT_DEATH(table.Register(dup), "duplicate or too long command name 'GET'");
}

TEST(CommandTableDeathTest, DuplicateNameInAnotherCaseAborts) {
  static constexpr CommandSpec lower[] = {{"get", 2, 0, "string", "key", "", Noop}};
  CommandTable table;
  table.Register(kSpecs);
  EXPECT_DEATH(table.Register(lower), "duplicate or too long command name 'get'");
}

TEST(CommandTableDeathTest, NameLongerThan64BytesAborts) {
  static const std::string name(65, 'N');
  static const CommandSpec spec[] = {{name, 1, 0, "test", "", "", Noop}};
  CommandTable table;
  EXPECT_DEATH(table.Register(spec), "too long command name");
}

// ---------------------------------------------------------------------------
// Other shared error texts

TEST(Errors, WrongArityLowerCasesAndScrubsTheName) {
  EXPECT_EQ(errors::WrongArity("INCRBY"), "wrong number of arguments for 'incrby' command");
  EXPECT_EQ(errors::WrongArity("a\r\nB"), "wrong number of arguments for 'a  b' command");
}

TEST(Errors, UnknownCommandWithoutTheErrPrefix) {
  std::vector<std::string_view> args = {"a", "b"};
  EXPECT_EQ(errors::UnknownCommand("foo", args.data(), args.size()),
            "unknown command 'foo', with args beginning with: 'a' 'b' ");
}

TEST(Errors, UnknownSubcommandNamesTheCommandInUpperCase) {
  EXPECT_EQ(errors::UnknownSubcommand("foo", "client"), "unknown subcommand 'foo'. Try CLIENT HELP.");
  EXPECT_EQ(errors::UnknownSubcommand(std::string(200, 's') + "\n", "config"),
            "unknown subcommand '" + std::string(128, 's') + "'. Try CONFIG HELP.");
  EXPECT_EQ(errors::UnknownSubcommand("a\r\nb", "x"), "unknown subcommand 'a  b'. Try X HELP.");
}

TEST(Errors, InvalidExpireNamesTheCommandInLowerCase) {
  EXPECT_EQ(errors::InvalidExpire("SET"), "invalid expire time in 'set' command");
  EXPECT_EQ(errors::InvalidExpire("pexpire"), "invalid expire time in 'pexpire' command");
}

TEST(Errors, ProtocolErrorsAreRedisTexts) {
  EXPECT_EQ(errors::kProtoInvalidMultibulkLength, "Protocol error: invalid multibulk length");
  EXPECT_EQ(errors::kProtoInvalidBulkLength, "Protocol error: invalid bulk length");
  EXPECT_EQ(errors::kProtoTooBigInline, "Protocol error: too big inline request");
  EXPECT_EQ(errors::kProtoTooBigMultibulk, "Protocol error: too big mbulk count string");
  EXPECT_EQ(errors::kProtoTooBigBulk, "Protocol error: too big bulk count string");
  EXPECT_EQ(errors::kProtoUnbalancedQuotes, "Protocol error: unbalanced quotes in request");
}

TEST(Errors, ValueErrorsAreRedisTexts) {
  EXPECT_EQ(errors::kNotInteger, "value is not an integer or out of range");
  EXPECT_EQ(errors::kOverflow, "increment or decrement would overflow");
  EXPECT_EQ(errors::kSyntax, "syntax error");
}

}  // namespace
}  // namespace tally::protocol
