// Read errors of stored state are errors, never "absent": for each column
// family a command reads, the test writes data, compacts it into one table
// file of that family, closes the engine, damages a data block in the
// middle of the file, reopens (so no block cache holds the good block) and
// checks that every answer is either the true value or kReadFailed naming
// the family, never 0 and never a double count, and that nothing was
// written over what could not be read (after the file is restored, the old
// values are all there).

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "core/read_errors.h"
#include "counter_test_util.h"

namespace tally::core::counters_test {
namespace {

using storage::Family;

class ReadFaultTest : public CounterFixture, public ::testing::Test {
 public:
  int64_t NowMs() const { return clock_.NowMs(); }

 protected:
  void SetUp() override { Open(); }

  // Compacts everything into the families, then `family` into one table
  // file at the bottom level; closes the engine and keeps a copy of that
  // file. Returns false (test failed) if the family has no table file.
  void SealFamily(Family family) {
    Compact();
    ASSERT_TRUE(engine_->FlushMemtables().ok());
    ASSERT_TRUE(engine_->store().CompactFamily(family).ok());
    files_ = engine_->store().TEST_TableFiles(family);
    ASSERT_FALSE(files_.empty()) << "no table file in " << storage::FamilyName(family);
    Durable();
    engine_.reset();
    for (const auto& file : files_) {
      std::filesystem::copy_file(file.path, file.path + ".good", std::filesystem::copy_options::overwrite_existing);
    }
  }
  // Flips 32 bytes in the middle of the data blocks of the family's files.
  void Damage() {
    for (const auto& file : files_) {
      ASSERT_GT(file.data_bytes, 64u) << file.path;
      const int fd = ::open(file.path.c_str(), O_RDWR);
      ASSERT_GE(fd, 0) << file.path;
      const off_t offset = static_cast<off_t>(file.data_bytes / 2);
      char bytes[32];
      ASSERT_EQ(::pread(fd, bytes, sizeof bytes, offset), static_cast<ssize_t>(sizeof bytes));
      for (char& b : bytes) b = static_cast<char>(b ^ 0x5a);
      ASSERT_EQ(::pwrite(fd, bytes, sizeof bytes, offset), static_cast<ssize_t>(sizeof bytes));
      ::close(fd);
    }
  }
  // Closes the engine, puts the undamaged files back, reopens.
  void Restore() {
    Durable();
    engine_.reset();
    for (const auto& file : files_) {
      std::filesystem::copy_file(file.path + ".good", file.path, std::filesystem::copy_options::overwrite_existing);
    }
    Open();
  }
  void DamageAndReopen() {
    Damage();
    Open();
  }

  std::vector<storage::Store::TableFile> files_;
};

std::string OwnerName(int i) { return "o:" + std::to_string(1000 + i); }

// owners: an owner whose stored settings cannot be read is not interned. An
// increment fails (before: it was interned as new, its counter started from
// 0 and the stored 200 was overwritten with 1); a read of its zone fails.
// After the file is restored, every total and every zone is intact.
TEST_F(ReadFaultTest, OwnersFamilyDamagedIncrementFailsAndOverwritesNothing) {
  constexpr int kOwners = 600;
  const TimeZone tokyo = Zone("Asia/Tokyo");
  for (int i = 0; i < kOwners; ++i) {
    ASSERT_TRUE(engine_->owners().SetTimeZone(OwnerName(i), tokyo).ok());
    Incr(OwnerName(i), "k", 200);
  }
  SealFamily(Family::kOwners);
  const uint64_t errors_before = StorageReadErrors(Family::kOwners);
  DamageAndReopen();

  std::vector<bool> applied(kOwners, false);
  int failed = 0;
  for (int i = 0; i < kOwners; ++i) {
    OpResult<IncrementResult> r = TryIncr(OwnerName(i), "k", 1);
    if (r.ok()) {
      EXPECT_EQ(r.value.total, 201) << OwnerName(i);
      applied[i] = true;
      EXPECT_EQ(ZoneFor(OwnerName(i)), tokyo) << OwnerName(i);
    } else {
      ASSERT_EQ(r.status, OpStatus::kReadFailed) << OwnerName(i);
      EXPECT_EQ(r.failed_family, "owners");
      ++failed;
      OpResult<TimeZone> zone = engine_->owners().TimeZoneOf(OwnerName(i));
      EXPECT_EQ(zone.status, OpStatus::kReadFailed) << OwnerName(i);
      // The cells family is intact: the total reads as stored, not 0.
      EXPECT_EQ(Total(OwnerName(i), "k"), 200) << OwnerName(i);
      // A time zone set on it is refused too (it would intern the owner).
      EXPECT_EQ(engine_->owners().SetTimeZone(OwnerName(i), TimeZone::Utc()).status, OpStatus::kReadFailed);
    }
  }
  EXPECT_GT(failed, 0) << "the damage hit no owner";
  EXPECT_LT(failed, kOwners) << "the damage hit every owner";
  EXPECT_GE(StorageReadErrors(Family::kOwners) - errors_before, static_cast<uint64_t>(failed));
  Compact();
  Restore();
  for (int i = 0; i < kOwners; ++i) {
    EXPECT_EQ(Total(OwnerName(i), "k"), applied[i] ? 201 : 200) << OwnerName(i);
    EXPECT_EQ(ZoneFor(OwnerName(i)), tokyo) << OwnerName(i);
  }
}

// cells: a counter whose stored cells cannot be read is not loaded; reads
// and increments of it fail. LoadStoredCounters reports the failure and
// does not claim every counter is in memory.
TEST_F(ReadFaultTest, CellsFamilyDamagedReadsAndIncrementsFailNeverZero) {
  constexpr int kOwners = 300;
  for (int i = 0; i < kOwners; ++i) Incr(OwnerName(i), "k", 200);
  SealFamily(Family::kCells);
  DamageAndReopen();

  std::vector<bool> applied(kOwners, false);
  int failed = 0;
  for (int i = 0; i < kOwners; ++i) {
    OpResult<int64_t> read = engine_->counters().ReadCell(OwnerName(i), "k", Interval::kTotal, 0);
    OpResult<IncrementResult> r = TryIncr(OwnerName(i), "k", 1);
    if (read.ok()) {
      EXPECT_EQ(read.value, 200) << OwnerName(i);
    }
    if (r.ok()) {
      EXPECT_EQ(r.value.total, 201) << OwnerName(i);
      applied[i] = true;
    } else {
      ASSERT_EQ(r.status, OpStatus::kReadFailed) << OwnerName(i);
      EXPECT_EQ(r.failed_family, "cells");
      EXPECT_FALSE(read.ok()) << OwnerName(i);
      EXPECT_EQ(read.failed_family, "cells");
      ++failed;
      // Every read path of the counter fails the same way.
      EXPECT_EQ(engine_->counters().ReadRange(OwnerName(i), "k", Interval::kDay, 0, 0).status, OpStatus::kReadFailed);
      EXPECT_EQ(engine_->counters().OwnerCells(OwnerName(i), {}).status, OpStatus::kReadFailed);
      EXPECT_EQ(engine_->counters().DeleteCells(OwnerName(i), "k", std::nullopt).status, OpStatus::kReadFailed);
    }
  }
  EXPECT_GT(failed, 0) << "the damage hit no counter";
  EXPECT_LT(failed, kOwners) << "the damage hit every counter";
  // The listing and the background load see the damaged block too.
  EXPECT_EQ(engine_->owners().List("", "", 10000).status, OpStatus::kReadFailed);
  EXPECT_FALSE(engine_->counters().LoadStoredCounters().ok());
  EXPECT_FALSE(engine_->counters().all_loaded());
  Compact();
  Restore();
  for (int i = 0; i < kOwners; ++i) EXPECT_EQ(Total(OwnerName(i), "k"), applied[i] ? 201 : 200) << OwnerName(i);
}

// by_value and by_key: CTR.TOP reads its indexes whatever memory holds; a
// damaged block fails the ranking instead of leaving owners out. Each index
// holds every interval's rows and the damage hits some of them: each
// interval's full ranking is either the true one or kReadFailed naming the
// index. Once the files are restored, every ranking is whole again.
void CheckTopUnderDamage(ReadFaultTest& test, Engine& engine, int owners, TopQuery::Method method,
                         std::string_view family, bool expect_failures) {
  int failed = 0;
  for (int iv = 0; iv < kIntervalCount; ++iv) {
    const auto interval = static_cast<Interval>(iv);
    SCOPED_TRACE(std::string(IntervalName(interval)));
    const PeriodId period = interval == Interval::kTotal ? 0 : PeriodOf(interval, test.NowMs(), TimeZone::Utc());
    TopQuery query{"k", interval, period, period, 0, static_cast<size_t>(owners), ""};
    query.method = method;
    auto top = engine.counters().Top(query);
    if (!top.ok()) {
      EXPECT_EQ(top.status, OpStatus::kReadFailed);
      EXPECT_EQ(top.failed_family, family);
      ++failed;
      continue;
    }
    ASSERT_EQ(top.value.size(), static_cast<size_t>(owners));
    for (int rank = 0; rank < owners; ++rank) {
      EXPECT_EQ(top.value[rank].owner, OwnerName(owners - 1 - rank));
      EXPECT_EQ(top.value[rank].value, 1000 + owners - 1 - rank);
    }
  }
  if (expect_failures) {
    EXPECT_GT(failed, 0) << "the damage hit no interval's rows";
  } else {
    EXPECT_EQ(failed, 0);
  }
}

TEST_F(ReadFaultTest, ValueIndexDamagedTopFailsInsteadOfRankingPartially) {
  constexpr int kOwners = 400;
  for (int i = 0; i < kOwners; ++i) Incr(OwnerName(i), "k", 1000 + i);
  SealFamily(Family::kByValue);
  DamageAndReopen();
  CheckTopUnderDamage(*this, *engine_, kOwners, TopQuery::Method::kValueIndex, "by_value", true);
  // Memory holding every counter does not make the index unneeded.
  ASSERT_TRUE(engine_->counters().LoadStoredCounters().ok());
  CheckTopUnderDamage(*this, *engine_, kOwners, TopQuery::Method::kAuto, "by_value", true);
  // The other index is intact.
  CheckTopUnderDamage(*this, *engine_, kOwners, TopQuery::Method::kKeyIndex, "", false);
  Restore();
  CheckTopUnderDamage(*this, *engine_, kOwners, TopQuery::Method::kAuto, "", false);
}

TEST_F(ReadFaultTest, KeyIndexDamagedTopFailsInsteadOfRankingPartially) {
  constexpr int kOwners = 400;
  for (int i = 0; i < kOwners; ++i) Incr(OwnerName(i), "k", 1000 + i);
  SealFamily(Family::kByKey);
  DamageAndReopen();
  CheckTopUnderDamage(*this, *engine_, kOwners, TopQuery::Method::kKeyIndex, "by_key", true);
  Restore();
  CheckTopUnderDamage(*this, *engine_, kOwners, TopQuery::Method::kKeyIndex, "", false);
}

// dedupe: an event id whose record cannot be read is neither "seen" nor
// "new": the retry fails and applies nothing (before: 20,000 retries raised
// the total to 20,178).
TEST_F(ReadFaultTest, DedupeFamilyDamagedRetriesNeverCountTwice) {
  constexpr int kIds = 3000;
  for (int i = 0; i < kIds; ++i) Incr("o:ids", "k", 1, std::nullopt, "evt-" + std::to_string(i));
  SealFamily(Family::kDedupe);
  DamageAndReopen();
  int failed = 0;
  for (int i = 0; i < kIds; ++i) {
    OpResult<IncrementResult> r = TryIncr("o:ids", "k", 1, std::nullopt, "evt-" + std::to_string(i));
    if (r.ok()) {
      EXPECT_TRUE(r.value.duplicate) << i;
      EXPECT_EQ(r.value.total, kIds) << i;
    } else {
      ASSERT_EQ(r.status, OpStatus::kReadFailed) << i;
      EXPECT_EQ(r.failed_family, "dedupe");
      ++failed;
    }
  }
  EXPECT_GT(failed, 0) << "the damage hit no event id";
  EXPECT_EQ(Total("o:ids", "k"), kIds);
  Compact();
  Restore();
  EXPECT_EQ(Total("o:ids", "k"), kIds);
  bool duplicate = false;
  EXPECT_EQ(Incr("o:ids", "k", 1, std::nullopt, "evt-0", &duplicate), kIds);
  EXPECT_TRUE(duplicate);
}

// changes and audit: a feed page over a damaged block fails (never a short
// page that would make a mirror skip records).
TEST_F(ReadFaultTest, ChangesAndAuditFamiliesDamagedFeedReadsFail) {
  const AuditInfo audit{"admin", "CTR.SET"};
  for (int i = 0; i < 400; ++i) {
    ASSERT_TRUE(engine_->counters().AssignCells(OwnerName(i), "k", {{Interval::kTotal, 0, 7 + i}}, &audit).ok());
  }
  Compact();  // publishes the records
  for (Family family : {Family::kChanges, Family::kAudit}) {
    SCOPED_TRACE(std::string(storage::FamilyName(family)));
    if (engine_ == nullptr) Open();
    SealFamily(family);
    DamageAndReopen();
    auto changes = engine_->feeds().ReadChanges(0, 10000);
    auto audited = engine_->feeds().ReadAudit(0, 10000);
    const bool is_changes = family == Family::kChanges;
    EXPECT_EQ((is_changes ? changes.status : audited.status), OpStatus::kReadFailed);
    EXPECT_EQ((is_changes ? changes.failed_family : audited.failed_family), storage::FamilyName(family));
    ASSERT_TRUE((is_changes ? audited.ok() : changes.ok()));
    Restore();
    ASSERT_TRUE(engine_->feeds().ReadChanges(0, 10000).ok());
    ASSERT_TRUE(engine_->feeds().ReadAudit(0, 10000).ok());
  }
}

// kv and meta live in memory from the start (every plain key; the
// checkpoints and feed bounds): a damaged block stops the start with a
// status naming the family, never a start without the keys.
TEST_F(ReadFaultTest, KvAndMetaFamiliesDamagedRefuseToStart) {
  for (int i = 0; i < 2000; ++i) {
    ASSERT_TRUE(engine_->keyspace().Set("key:" + std::to_string(i), std::string(20, 'v'), {}).ok());
  }
  Incr("o:1", "k", 5);
  for (Family family : {Family::kKv, Family::kMeta}) {
    SCOPED_TRACE(std::string(storage::FamilyName(family)));
    if (engine_ == nullptr) Open();
    SealFamily(family);
    Damage();
    auto engine = Engine::Open(options_, clock_);
    ASSERT_FALSE(engine.ok());
    EXPECT_NE(engine.status().message().find("reading the " + std::string(storage::FamilyName(family)) + " family"),
              std::string::npos)
        << engine.status().ToString();
    for (const auto& file : files_) {
      std::filesystem::copy_file(file.path + ".good", file.path, std::filesystem::copy_options::overwrite_existing);
    }
    Open();
    std::string value;
    EXPECT_TRUE(engine_->keyspace().Read("key:1999", [&](std::string_view v) { value.assign(v); }));
    EXPECT_EQ(value, std::string(20, 'v'));
    EXPECT_EQ(Total("o:1", "k"), 5);
  }
}

TEST(PrintableKeyTest, EscapesBytesThatAreNotPrintable) {
  EXPECT_EQ(PrintableKey(std::string("o:1\0k\x01", 6)), "o:1\\x00k\\x01");
  EXPECT_EQ(PrintableKey("a\\b"), "a\\x5cb");
  EXPECT_EQ(PrintableKey(std::string(300, 'x')), std::string(200, 'x') + "...");
}

}  // namespace
}  // namespace tally::core::counters_test
