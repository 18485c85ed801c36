// tally-admin export and import against the real tallyd: a data dir seeded
// over RESP (owners in several time zones, counters with backdated and id'd
// increments, audited changes, plain keys, a sketch, distinct counts, a plan,
// a quota, a credit grant, a price, a metered event), part of it only in the
// log (the daemon is killed), is exported, imported into an empty dir, and
// served by a second tallyd: every reply compared is the same, a retried
// event id is still a duplicate, and the re-export of the imported dir is
// the same file. Bad inputs are refused with their line number and leave
// the target empty; a running daemon's dir is refused with what to do.

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tallyd_process.h"

namespace tally::itest {
namespace {

namespace fs = std::filesystem;

ProcessResult Admin(const std::vector<std::string>& args, std::string_view stdin_data = {}) {
  std::vector<std::string> argv = {TALLY_ADMIN_PATH};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunProcess(argv, stdin_data, 60s);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void WriteFile(const std::string& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

RespClient Connect(const TallydProcess& daemon) {
  auto client = RespClient::ConnectTcp(daemon.port());
  EXPECT_TRUE(client.has_value()) << "cannot connect to tallyd on port " << daemon.port();
  return client ? std::move(*client) : RespClient();
}

// Every entry of the target dir's parent that an import may have left behind.
std::vector<std::string> Leftovers(const std::string& parent) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(parent)) {
    std::string name = entry.path().filename().string();
    if (name.find(".import-") != std::string::npos) names.push_back(name);
  }
  return names;
}

bool EmptyOrAbsent(const std::string& dir) { return !fs::exists(dir) || fs::is_empty(dir); }

const std::vector<std::string> kOwners = {"user:1", "user:2", "user:3", "org:acme"};

// What the two daemons are asked; their replies must be byte for byte equal.
std::vector<std::vector<std::string>> Queries() {
  std::vector<std::vector<std::string>> queries;
  for (const std::string& owner : kOwners) {
    queries.push_back({"OWNER.TZ", owner});
    queries.push_back({"CTR.ALL", owner});
    for (const char* interval : {"hour", "day", "week", "month", "quarter", "year"}) {
      queries.push_back({"CTR.ALL", owner, interval});
    }
    queries.push_back({"CTR.HISTORY", owner, "api", "day", "5"});
    queries.push_back({"CTR.HISTORY", owner, "api", "hour", "72"});
  }
  queries.push_back({"CTR.TOP", "api", "total"});
  queries.push_back({"CTR.TOP", "api", "day"});
  queries.push_back({"CTR.OWNERS"});
  queries.push_back({"AUDIT.READ", "0", "COUNT", "1000"});
  queries.push_back({"CHANGES.READ", "0", "COUNT", "10000"});
  queries.push_back({"GET", "greeting"});
  queries.push_back({"GET", "n"});
  queries.push_back({"PFCOUNT", "visitors"});
  queries.push_back({"UNIQ.COUNT", "user:1", "pages", "total"});
  queries.push_back({"UNIQ.COUNT", "user:1", "pages", "day"});
  queries.push_back({"PLAN.GET", "pro"});
  queries.push_back({"PLAN.OF", "user:1"});
  queries.push_back({"QUOTA.USAGE", "user:1", "exports"});
  queries.push_back({"CREDIT.LIST", "user:1", "exports"});
  queries.push_back({"CREDIT.LEDGER", "user:1"});
  queries.push_back({"PRICE.LIST"});
  return queries;
}

class ExportImportTest : public ::testing::Test {
 protected:
  // Seeds `daemon` (running): a first part that a clean stop compacts, then
  // a second part that only the log holds when the daemon is killed.
  void Seed(TallydProcess& daemon) {
    const int64_t now = NowMs();
    const std::string two_days_ago = std::to_string(now - 2 * 86400000LL);
    const std::string three_hours_ago = std::to_string(now - 3 * 3600000LL);
    {
      RespClient c = Connect(daemon);
      ASSERT_EQ(c.Call({"OWNER.TZ", "user:1", "Europe/Berlin"}).str, "OK");
      ASSERT_EQ(c.Call({"OWNER.TZ", "user:2", "America/New_York"}).str, "OK");
      ASSERT_EQ(c.Call({"OWNER.TZ", "org:acme", "Asia/Kolkata"}).str, "OK");
      for (const std::string& owner : kOwners) {
        ASSERT_FALSE(c.Call({"CTR.INCRBY", owner, "api", "3", "AT", two_days_ago}).is_error());
        ASSERT_FALSE(c.Call({"CTR.INCRBY", owner, "api", "2", "AT", three_hours_ago}).is_error());
        ASSERT_FALSE(c.Call({"CTR.INCRBY", owner, "api", "1"}).is_error());
        ASSERT_FALSE(c.Call({"CTR.INCRBY", owner, "downloads", "7", "ID", "evt-" + owner}).is_error());
      }
      ASSERT_FALSE(c.Call({"CTR.SET", "user:2", "downloads", "100", "BY", "alice"}).is_error());
      ASSERT_FALSE(c.Call({"CTR.RESET", "user:3", "api", "BY", "bob"}).is_error());
      ASSERT_EQ(c.Call({"SET", "greeting", "hello world"}).str, "OK");
      ASSERT_FALSE(c.Call({"INCR", "n"}).is_error());
      ASSERT_FALSE(c.Call({"PEXPIRE", "n", "86400000"}).is_error());
      ASSERT_FALSE(c.Call({"PFADD", "visitors", "a", "b", "c"}).is_error());
      ASSERT_FALSE(c.Call({"UNIQ.ADD", "user:1", "pages", "/a", "/b", "/c"}).is_error());
      ASSERT_EQ(c.Call({"PLAN.SET", "pro", R"({"features":{"exports":{"limit":10,"period":"month"}}})"}).str, "OK");
      ASSERT_FALSE(c.Call({"PLAN.ASSIGN", "user:1", "pro", "BY", "carol"}).is_error());
      ASSERT_FALSE(c.Call({"QUOTA.CONSUME", "user:1", "exports", "3", "ID", "q-1"}).is_error());
      ASSERT_FALSE(c.Call({"CREDIT.GRANT", "user:1", "exports", "50", "REASON", "welcome"}).is_error());
      ASSERT_FALSE(c.Call({"PRICE.SET", "chat.tokens", "0.000002"}).is_error());
      ASSERT_FALSE(c.Call({"METER.RECORD", "user:2", "chat", "tokens", "100", "ID", "m-1"}).is_error());
    }
    ASSERT_TRUE(daemon.Restart());  // compacts everything so far
    {
      RespClient c = Connect(daemon);
      ASSERT_FALSE(c.Call({"CTR.INCRBY", "user:1", "api", "5", "ID", "late-1"}).is_error());
      ASSERT_FALSE(c.Call({"CTR.SET", "org:acme", "downloads", "42", "BY", "dave"}).is_error());
      ASSERT_EQ(c.Call({"OWNER.TZ", "user:3", "Australia/Adelaide"}).str, "OK");
      ASSERT_FALSE(c.Call({"CTR.INCRBY", "user:3", "api", "4", "AT", three_hours_ago}).is_error());
      ASSERT_EQ(c.Call({"SET", "only-in-log", "yes"}).str, "OK");
    }
    daemon.Kill();  // the second part is only in the log now
  }

  std::string Export(const TallydProcess& daemon, const std::string& file) {
    ProcessResult result = Admin({"export", daemon.data_dir(), "-o", file});
    EXPECT_TRUE(result.exited && result.exit_code == 0) << result.Describe();
    return ReadFile(file);
  }
};

// The header line without its time stamp, then every other line.
std::vector<std::string> Comparable(const std::string& dump) {
  std::vector<std::string> lines = SplitLines(dump);
  if (!lines.empty()) {
    nlohmann::json header = nlohmann::json::parse(lines[0], nullptr, false);
    header.erase("exported_at");
    lines[0] = header.dump();
  }
  return lines;
}

TEST_F(ExportImportTest, AnImportedDataDirServesTheSameStateAndExportsTheSameFile) {
  TallydProcess source;
  ASSERT_TRUE(source.Start());
  ASSERT_NO_FATAL_FAILURE(Seed(source));

  const std::string first = source.dir() + "/first.ndjson";
  const std::string dump = Export(source, first);
  ASSERT_FALSE(dump.empty());
  EXPECT_FALSE(fs::exists(first + ".partial"));
  // Only records, one JSON object per line, framed by header and trailer.
  std::vector<std::string> lines = SplitLines(dump);
  ASSERT_GE(lines.size(), 3u);
  nlohmann::json header = nlohmann::json::parse(lines.front(), nullptr, false);
  nlohmann::json trailer = nlohmann::json::parse(lines.back(), nullptr, false);
  ASSERT_EQ(header["type"], "header");
  ASSERT_EQ(trailer["type"], "trailer");
  EXPECT_EQ(trailer["records"].get<uint64_t>(), lines.size() - 2);
  EXPECT_EQ(trailer["counts"]["owner"], 4);
  EXPECT_GE(trailer["counts"]["audit"].get<int>(), 5);  // 2 sets, 1 reset, the plan, its assignment, ...
  EXPECT_TRUE(Contains(dump, R"("time_zone":"Australia/Adelaide")")) << "the zone set only in the log is exported";
  EXPECT_TRUE(Contains(dump, R"("id":"late-1")")) << "the event id only in the log is exported";
  EXPECT_TRUE(Contains(dump, R"("key":"only-in-log")"));
  EXPECT_TRUE(Contains(dump, R"("actor":"dave")"));
  EXPECT_TRUE(Contains(dump, R"("type":"raw","family":"plans")") || Contains(dump, R"("family":"plans")"));

  // Import into a dir that does not exist yet, and serve it.
  TallydProcess target;
  ProcessResult imported = Admin({"import", first, target.data_dir()});
  ASSERT_TRUE(imported.exited && imported.exit_code == 0) << imported.Describe();
  EXPECT_TRUE(Contains(imported.out, "imported " + std::to_string(lines.size() - 2) + " records")) << imported.out;
  EXPECT_TRUE(Leftovers(target.dir()).empty());
  ASSERT_TRUE(target.Start());
  ASSERT_TRUE(source.Start());

  {
    // "current" periods must be the same hour for both daemons.
    const int64_t into_hour = NowMs() % 3600000;
    if (into_hour > 3600000 - 5000) std::this_thread::sleep_for(std::chrono::milliseconds(3600000 - into_hour + 100));
    RespClient from = Connect(source);
    RespClient to = Connect(target);
    for (const std::vector<std::string>& query : Queries()) {
      RespValue expected = from.Call(query);
      RespValue got = to.Call(query);
      EXPECT_FALSE(expected.is_error()) << query[0] << ": " << expected;
      EXPECT_EQ(got.raw, expected.raw) << "query " << query[0] << " " << (query.size() > 1 ? query[1] : "");
    }
    // Spot checks, so that equal replies cannot both be empty.
    EXPECT_EQ(to.Call({"OWNER.TZ", "user:1"}).str, "Europe/Berlin");
    EXPECT_EQ(to.Call({"CTR.GET", "user:1", "api"}).integer, 11);
    EXPECT_EQ(to.Call({"CTR.GET", "user:2", "downloads"}).integer, 100);
    EXPECT_EQ(to.Call({"CTR.GET", "org:acme", "downloads"}).integer, 42);
    EXPECT_EQ(to.Call({"GET", "only-in-log"}).str, "yes");
    EXPECT_GT(to.Call({"TTL", "n"}).integer, 86000) << "the expiry came along";
    RespValue audit = to.Call({"AUDIT.READ", "0", "COUNT", "1000"});
    ASSERT_EQ(audit.type, RespValue::Type::kArray) << audit;
    EXPECT_TRUE(Contains(audit.ToString(), "dave")) << audit;
    EXPECT_TRUE(Contains(audit.ToString(), "alice")) << audit;

    // Retried ids are still duplicates (the same total, nothing added), and
    // their fingerprints came along (other arguments: a conflict).
    EXPECT_EQ(to.Call({"CTR.INCRBY", "user:1", "api", "5", "ID", "late-1"}).integer, 11);
    EXPECT_EQ(to.Call({"CTR.INCRBY", "user:2", "downloads", "7", "ID", "evt-user:2"}).integer, 100);
    EXPECT_TRUE(to.Call({"CTR.INCRBY", "user:1", "api", "6", "ID", "late-1"}).is_error());
    EXPECT_EQ(to.Call({"CTR.GET", "user:1", "api"}).integer, 11);
  }

  // The imported dir exports to the same file (but for the time stamp).
  ASSERT_TRUE(target.Stop());
  const std::string second = Export(target, target.dir() + "/second.ndjson");
  const std::vector<std::string> again = Comparable(second);
  const std::vector<std::string> before = Comparable(dump);
  EXPECT_EQ(again.size(), before.size());
  for (size_t i = 0; i < std::min(again.size(), before.size()); ++i) {
    ASSERT_EQ(again[i], before[i]) << "line " << i + 1 << " of the re-export differs";
  }
}

// A small export to spoil in the tests below.
class BadInputTest : public ExportImportTest {
 protected:
  void SetUp() override {
    source_ = std::make_unique<TallydProcess>();
    ASSERT_TRUE(source_->Start());
    RespClient c = Connect(*source_);
    for (int i = 0; i < 20; ++i) {
      ASSERT_FALSE(c.Call({"CTR.INCRBY", "user:" + std::to_string(i), "api", std::to_string(i + 1)}).is_error());
    }
    ASSERT_FALSE(c.Call({"CTR.SET", "user:1", "api", "9", "BY", "erin"}).is_error());
    ASSERT_TRUE(source_->Stop());
    dump_ = Export(*source_, source_->dir() + "/dump.ndjson");
    lines_ = SplitLines(dump_);
    ASSERT_GT(lines_.size(), 10u);
    target_ = source_->dir() + "/imported";
  }

  std::string Join(const std::vector<std::string>& lines) {
    std::string text;
    for (const std::string& line : lines) text += line + "\n";
    return text;
  }

  // Imports `text` from stdin into target_ and expects a refusal naming `line`.
  void ExpectRefused(const std::string& text, int line, const std::string& reason) {
    ProcessResult result = Admin({"import", "-", target_}, text);
    EXPECT_TRUE(result.exited && result.exit_code == 1) << result.Describe();
    EXPECT_TRUE(Contains(result.err, "stdin:" + std::to_string(line) + ": ")) << result.err;
    EXPECT_TRUE(Contains(result.err, reason)) << result.err;
    EXPECT_TRUE(Contains(result.err, "nothing imported")) << result.err;
    EXPECT_TRUE(EmptyOrAbsent(target_)) << "the target got something";
    EXPECT_TRUE(Leftovers(source_->dir()).empty());
  }

  std::unique_ptr<TallydProcess> source_;
  std::string dump_;
  std::vector<std::string> lines_;
  std::string target_;
};

TEST_F(BadInputTest, ATruncatedExportIsRefusedAndTheTargetStaysEmpty) {
  // Cut at a line boundary: the trailer is missing.
  std::vector<std::string> head(lines_.begin(), lines_.end() - 3);
  ExpectRefused(Join(head), static_cast<int>(head.size()) + 1, "truncated");
  // Cut inside a line: that line is not JSON.
  std::string cut = dump_.substr(0, dump_.size() / 2);
  const int cut_line = static_cast<int>(SplitLines(cut).size());
  ExpectRefused(cut, cut_line, "not valid JSON");
  // A line lost in the middle: the trailer's counts do not match.
  std::vector<std::string> missing = lines_;
  missing.erase(missing.begin() + 3);
  ExpectRefused(Join(missing), static_cast<int>(missing.size()), "the trailer counts");
}

TEST_F(BadInputTest, ACorruptedLineIsRefusedWithItsLineNumber) {
  // Line 5 (a record after the header): a value that is not an integer.
  std::vector<std::string> spoiled = lines_;
  nlohmann::json record = nlohmann::json::parse(spoiled[4]);
  ASSERT_TRUE(record.contains("owner")) << spoiled[4];
  record["owner"] = "no spaces allowed";
  spoiled[4] = record.dump();
  ExpectRefused(Join(spoiled), 5, "\"owner\" is not a valid name");

  spoiled = lines_;
  spoiled[6] = "{\"type\":\"cell\",";
  ExpectRefused(Join(spoiled), 7, "not valid JSON");

  spoiled = lines_;
  spoiled[2] = R"({"type":"owner","owner":"user:1","time_zone":"Mars/Olympus"})";
  ExpectRefused(Join(spoiled), 3, "unknown time zone");

  // The file itself, not only stdin: the message names it.
  const std::string file = source_->dir() + "/spoiled.ndjson";
  spoiled = lines_;
  spoiled[1] = R"({"type":"mystery"})";
  WriteFile(file, Join(spoiled));
  ProcessResult result = Admin({"import", file, target_});
  EXPECT_EQ(result.exit_code, 1) << result.Describe();
  EXPECT_TRUE(Contains(result.err, file + ":2: unknown record type 'mystery'")) << result.err;
  EXPECT_TRUE(EmptyOrAbsent(target_));
}

TEST_F(BadInputTest, ImportIntoANonEmptyDirIsRefused) {
  // The source's own data dir is not empty.
  ProcessResult result = Admin({"import", "-", source_->data_dir()}, dump_);
  EXPECT_EQ(result.exit_code, 1) << result.Describe();
  EXPECT_TRUE(Contains(result.err, "is not empty")) << result.err;
  EXPECT_TRUE(Leftovers(source_->dir()).empty());
  // An empty dir is fine, and then it is no longer empty.
  fs::create_directories(target_);
  result = Admin({"import", "-", target_}, dump_);
  ASSERT_EQ(result.exit_code, 0) << result.Describe();
  EXPECT_TRUE(fs::exists(target_ + "/db/CURRENT"));
  result = Admin({"import", "-", target_}, dump_);
  EXPECT_EQ(result.exit_code, 1) << result.Describe();
  EXPECT_TRUE(Contains(result.err, "is not empty")) << result.err;
}

TEST_F(BadInputTest, ExportOfARunningDaemonsDirSaysToStopItFirst) {
  ASSERT_TRUE(source_->Start());
  ProcessResult result = Admin({"export", source_->data_dir(), "-o", source_->dir() + "/live.ndjson"});
  EXPECT_EQ(result.exit_code, 1) << result.Describe();
  EXPECT_TRUE(Contains(result.err, "in use by a running tallyd: stop tallyd first")) << result.err;
  EXPECT_FALSE(fs::exists(source_->dir() + "/live.ndjson"));
  // And a dir that is no data dir at all.
  result = Admin({"export", source_->dir() + "/nothing-here"});
  EXPECT_EQ(result.exit_code, 1) << result.Describe();
  EXPECT_TRUE(Contains(result.err, "is not a tally data dir")) << result.err;
}

TEST(ExportImportHelp, BothCommandsHaveHelp) {
  for (const char* command : {"export", "import"}) {
    ProcessResult help = Admin({command, "--help"});
    EXPECT_EQ(help.exit_code, 0) << help.Describe();
    EXPECT_TRUE(Contains(help.out, "docs/export-import.md")) << help.out;
  }
  ProcessResult top = Admin({"--help"});
  EXPECT_TRUE(Contains(top.out, "export") && Contains(top.out, "import")) << top.out;
}

}  // namespace
}  // namespace tally::itest
