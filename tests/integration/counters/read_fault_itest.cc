// A damaged block in the owners and dedupe families' table files, against
// the real tallyd over RESP and HTTP: every reply is the true value or the
// storage_read_failed error naming the family, never 0 and never a double
// count; the log says so in a bounded number of lines; /metrics counts it;
// and once the files are restored every stored value is still there.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "storage/store.h"
#include "tallyd_process.h"

namespace tally::itest {
namespace {

using storage::Family;

std::string Owner(int i) { return "o:" + std::to_string(1000 + i); }

// Compacts `family` of the stopped daemon's data dir into one table file,
// keeps a copy of it and flips bytes in the middle of its data blocks.
std::vector<std::string> DamageFamily(const std::string& db_path, Family family) {
  storage::StoreOptions options;
  options.path = db_path;
  options.create_if_missing = false;
  auto store = storage::Store::Open(options);
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  if (!store.ok()) return {};
  EXPECT_TRUE(store.value()->CompactFamily(family).ok());
  std::vector<storage::Store::TableFile> files = store.value()->TEST_TableFiles(family);
  store.value().reset();
  std::vector<std::string> paths;
  for (const auto& file : files) {
    std::filesystem::copy_file(file.path, file.path + ".good", std::filesystem::copy_options::overwrite_existing);
    const int fd = ::open(file.path.c_str(), O_RDWR);
    EXPECT_GE(fd, 0);
    char bytes[32];
    const off_t offset = static_cast<off_t>(file.data_bytes / 2);
    EXPECT_EQ(::pread(fd, bytes, sizeof bytes, offset), static_cast<ssize_t>(sizeof bytes));
    for (char& b : bytes) b = static_cast<char>(b ^ 0x5a);
    EXPECT_EQ(::pwrite(fd, bytes, sizeof bytes, offset), static_cast<ssize_t>(sizeof bytes));
    ::close(fd);
    paths.push_back(file.path);
  }
  EXPECT_FALSE(paths.empty()) << "no table file in " << storage::FamilyName(family);
  return paths;
}

size_t CountLines(const std::string& text, const std::string& needle) {
  size_t count = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++count;
  return count;
}

TEST(ReadFaultITest, DamagedOwnersAndDedupeBlocksAnswerErrorsNeverWrongValues) {
  constexpr int kOwners = 600;
  constexpr int kIds = 3000;
  TallydProcess tallyd;
  ASSERT_TRUE(tallyd.Start());
  {
    auto client = RespClient::ConnectTcp(tallyd.port());
    ASSERT_TRUE(client);
    for (int i = 0; i < kOwners; ++i) {
      ASSERT_EQ(client->Call({"OWNER.TZ", Owner(i), "Asia/Tokyo"}).str, "OK");
      ASSERT_EQ(client->Call({"CTR.INCRBY", Owner(i), "k", "200"}).integer, 200);
    }
    for (int i = 0; i < kIds; ++i) {
      ASSERT_EQ(client->Call({"CTR.INCRBY", "d:1", "k", "1", "ID", "evt-" + std::to_string(i)}).integer, i + 1);
    }
  }
  ASSERT_TRUE(tallyd.Stop());  // compacts and flushes
  const std::string db = tallyd.data_dir() + "/db";
  std::vector<std::string> damaged = DamageFamily(db, Family::kOwners);
  for (const std::string& path : DamageFamily(db, Family::kDedupe)) damaged.push_back(path);
  ASSERT_FALSE(HasFailure());
  ASSERT_TRUE(tallyd.Start());
  const auto started = std::chrono::steady_clock::now();

  auto client = RespClient::ConnectTcp(tallyd.port());
  ASSERT_TRUE(client);
  std::vector<bool> applied(kOwners, false);
  int owner_errors = 0;
  std::string failing_owner;
  for (int i = 0; i < kOwners; ++i) {
    RespValue reply = client->Call({"CTR.INCRBY", Owner(i), "k", "1"});
    if (!reply.is_error()) {
      ASSERT_EQ(reply.integer, 201) << Owner(i) << ": " << reply;
      applied[i] = true;
      continue;
    }
    ++owner_errors;
    failing_owner = Owner(i);
    EXPECT_NE(reply.str.find("storage read failed in column family 'owners'"), std::string::npos) << reply;
    // The cells are intact: the stored value, never 0.
    EXPECT_EQ(client->Call({"CTR.GET", Owner(i), "k"}).integer, 200) << Owner(i);
    EXPECT_TRUE(client->Call({"OWNER.TZ", Owner(i)}).is_error()) << Owner(i);
  }
  EXPECT_GT(owner_errors, 0) << "the damage hit no owner";
  EXPECT_LT(owner_errors, kOwners);
  if (!failing_owner.empty()) {
    HttpReply http = HttpClient::Request(tallyd.http_port(), "POST",
                                         "/v1/owners/" + failing_owner + "/counters/k/increment", R"({"by": 1})");
    EXPECT_EQ(http.status, 500) << http;
    EXPECT_NE(http.body.find(R"("code":"storage_read_failed")"), std::string::npos) << http;
    EXPECT_NE(http.body.find("'owners'"), std::string::npos) << http;
  }

  // Every retry is a duplicate (the total) or an error: never counted twice.
  int dedupe_errors = 0;
  for (int i = 0; i < kIds; ++i) {
    RespValue reply = client->Call({"CTR.INCRBY", "d:1", "k", "1", "ID", "evt-" + std::to_string(i)});
    if (reply.is_error()) {
      ++dedupe_errors;
      EXPECT_NE(reply.str.find("column family 'dedupe'"), std::string::npos) << reply;
    } else {
      ASSERT_EQ(reply.integer, kIds) << i << ": " << reply;
    }
  }
  EXPECT_GT(dedupe_errors, 0) << "the damage hit no event id";
  EXPECT_EQ(client->Call({"CTR.GET", "d:1", "k"}).integer, kIds);

  HttpReply metrics = HttpClient::Request(tallyd.http_port(), "GET", "/metrics");
  EXPECT_NE(metrics.body.find("tally_storage_read_errors_total{family=\"owners\"}"), std::string::npos);
  EXPECT_EQ(metrics.body.find("tally_storage_read_errors_total{family=\"owners\"} 0\n"), std::string::npos);
  EXPECT_EQ(metrics.body.find("tally_storage_read_errors_total{family=\"dedupe\"} 0\n"), std::string::npos);

  // At most one line a second about it, each naming the family and the key.
  const std::string log = tallyd.ReadLog();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const size_t lines = CountLines(log, "storage read failed in the ");
  EXPECT_GE(lines, 1u) << tallyd.LogTail();
  EXPECT_LE(lines, static_cast<size_t>(seconds) + 2) << tallyd.LogTail();
  EXPECT_NE(log.find("storage read failed in the "), std::string::npos);
  EXPECT_TRUE(log.find("family at key 'o:") != std::string::npos ||
              log.find("family at key 'd:1\\x00k\\x00evt-") != std::string::npos)
      << tallyd.LogTail();

  // Nothing was written over what could not be read.
  client.reset();
  ASSERT_TRUE(tallyd.Stop());
  for (const std::string& path : damaged) {
    std::filesystem::copy_file(path + ".good", path, std::filesystem::copy_options::overwrite_existing);
  }
  ASSERT_TRUE(tallyd.Start());
  client = RespClient::ConnectTcp(tallyd.port());
  ASSERT_TRUE(client);
  for (int i = 0; i < kOwners; ++i) {
    EXPECT_EQ(client->Call({"CTR.GET", Owner(i), "k"}).integer, applied[i] ? 201 : 200) << Owner(i);
    EXPECT_EQ(client->Call({"OWNER.TZ", Owner(i)}).str, "Asia/Tokyo") << Owner(i);
  }
  EXPECT_EQ(client->Call({"CTR.GET", "d:1", "k"}).integer, kIds);
  EXPECT_EQ(client->Call({"CTR.INCRBY", "d:1", "k", "1", "ID", "evt-7"}).integer, kIds);
}

}  // namespace
}  // namespace tally::itest
