// Event ids and their arguments: an id reused with different arguments
// (delta, or the AT the client gave) inside the dedupe window is an id
// conflict and applies nothing; an identical retry is a duplicate that
// replies the current total, also without AT after "now" moved on. Across
// compaction and restart (the five modes), and with data written before
// fingerprints existed (log entries and dedupe rows without one match any
// arguments).
#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "counter_test_util.h"
#include "storage/log_format.h"

namespace tally::core::counters_test {
namespace {

namespace lf = storage::log_format;

using IdConflictTest = CounterModeTest;

TEST_P(IdConflictTest, SameIdWithAnotherDeltaIsAConflictAndChangesNothing) {
  bool duplicate = true;
  EXPECT_EQ(Incr("user:1", "api", 1, std::nullopt, "e1", &duplicate), 1);
  EXPECT_FALSE(duplicate);
  auto conflict = TryIncr("user:1", "api", 5, std::nullopt, "e1");
  EXPECT_EQ(conflict.status, OpStatus::kIdConflict);
  EXPECT_EQ(Total("user:1", "api"), 1);
  EXPECT_EQ(CellAt("user:1", "api", Interval::kDay), 1);
  Restart();
  EXPECT_EQ(TryIncr("user:1", "api", 5, std::nullopt, "e1").status, OpStatus::kIdConflict);
  EXPECT_EQ(TryIncr("user:1", "api", -1, std::nullopt, "e1").status, OpStatus::kIdConflict);
  EXPECT_EQ(Incr("user:1", "api", 1, std::nullopt, "e1", &duplicate), 1);  // the same arguments: a retry
  EXPECT_TRUE(duplicate);
  Restart();
  EXPECT_EQ(TryIncr("user:1", "api", 5, std::nullopt, "e1").status, OpStatus::kIdConflict);
  EXPECT_EQ(Incr("user:1", "api", 1, std::nullopt, "e1", &duplicate), 1);
  EXPECT_TRUE(duplicate);
  EXPECT_EQ(Total("user:1", "api"), 1);
  EXPECT_EQ(CellAt("user:1", "api", Interval::kMonth), 1);
  // Ids are scoped to one counter: the same id elsewhere is a new event.
  EXPECT_EQ(Incr("user:1", "other", 5, std::nullopt, "e1", &duplicate), 5);
  EXPECT_FALSE(duplicate);
}

TEST_P(IdConflictTest, ARetryWithoutAtIsADuplicateAfterNowMovedOn) {
  bool duplicate = true;
  EXPECT_EQ(Incr("user:1", "api", 2, std::nullopt, "late-retry", &duplicate), 2);
  EXPECT_FALSE(duplicate);
  clock_.Advance(kHourMs + 1234);  // another hour, and another "now"
  Restart();
  EXPECT_EQ(Incr("user:1", "api", 2, std::nullopt, "late-retry", &duplicate), 2);
  EXPECT_TRUE(duplicate);
  clock_.Advance(kDayMs);
  Restart();
  EXPECT_EQ(Incr("user:1", "api", 2, std::nullopt, "late-retry", &duplicate), 2);
  EXPECT_TRUE(duplicate);
  // Giving AT where the first use had none is another argument.
  EXPECT_EQ(TryIncr("user:1", "api", 2, clock_.NowMs(), "late-retry").status, OpStatus::kIdConflict);
  EXPECT_EQ(Total("user:1", "api"), 2);
}

TEST_P(IdConflictTest, TheAtTheClientGaveIsPartOfTheArguments) {
  const int64_t at = Utc(2024, 6, 14, 9, 30);
  bool duplicate = true;
  EXPECT_EQ(Incr("user:1", "api", 3, at, "ev", &duplicate), 3);
  EXPECT_FALSE(duplicate);
  Restart();
  EXPECT_EQ(Incr("user:1", "api", 3, at, "ev", &duplicate), 3);
  EXPECT_TRUE(duplicate);
  EXPECT_EQ(TryIncr("user:1", "api", 3, at + 1, "ev").status, OpStatus::kIdConflict);
  EXPECT_EQ(TryIncr("user:1", "api", 3, std::nullopt, "ev").status, OpStatus::kIdConflict);
  Restart();
  EXPECT_EQ(TryIncr("user:1", "api", 3, at + 1, "ev").status, OpStatus::kIdConflict);
  EXPECT_EQ(CellOf("user:1", "api", Interval::kDay, "2024-06-14"), 3);
  EXPECT_EQ(CellAt("user:1", "api", Interval::kDay), 0);
  EXPECT_EQ(Total("user:1", "api"), 3);
}

TEST_P(IdConflictTest, AfterTheWindowTheIdIsFreeForOtherArguments) {
  bool duplicate = true;
  Incr("user:1", "api", 1, std::nullopt, "w");
  Restart();
  clock_.Advance(options_.counters.dedupe_window_ms);
  EXPECT_EQ(Incr("user:1", "api", 4, std::nullopt, "w", &duplicate), 5);
  EXPECT_FALSE(duplicate);
  Restart();
  EXPECT_EQ(TryIncr("user:1", "api", 1, std::nullopt, "w").status, OpStatus::kIdConflict);
  EXPECT_EQ(Total("user:1", "api"), 5);
}

INSTANTIATE_TEST_SUITE_P(Modes, IdConflictTest, AllRestartModes(), RestartModeParamName);

// Data dirs from before fingerprints: a dedupe row that holds only the
// expiry, and a log entry without a fingerprint, match any arguments.
TEST_F(CounterTest, IdsRecordedWithoutAFingerprintMatchAnyArguments) {
  const int64_t expiry = clock_.NowMs() + kDayMs;
  // A compacted id, as an older tallyd wrote it: fixed64 expiry alone.
  storage::WriteBatch batch(engine_->store());
  batch.Put(storage::Family::kDedupe, lf::DedupeKey("old:1", "api", "compacted"), lf::EncodeInt64(expiry));
  ASSERT_TRUE(engine_->store().Write(batch, false).ok());
  // A logged id, as an older tallyd wrote it: the entry ends after the expiry.
  lf::CounterIncr incr;
  incr.owner = "old:2";
  incr.key = "api";
  incr.delta = 7;
  incr.event_ms = clock_.NowMs();
  for (int i = 0; i < 6; ++i) incr.periods[i] = PeriodOf(kRollupIntervals[i], incr.event_ms, TimeZone::Utc());
  incr.event_id = "logged";
  incr.event_id_expiry_ms = expiry;
  incr.event_fingerprint = 0;
  std::string blob(1, static_cast<char>(lf::kBlobVersion));
  lf::AppendCounterIncr(blob, incr);
  storage::WriteBatch log(engine_->store());
  log.Put(storage::Family::kLog, lf::LogKey(static_cast<uint16_t>(ShardSet::ShardOf("old:2")), 1), blob);
  ASSERT_TRUE(engine_->store().Write(log, false).ok());
  Reopen();
  EXPECT_EQ(Total("old:2", "api"), 7);
  bool duplicate = false;
  EXPECT_EQ(Incr("old:1", "api", 100, std::nullopt, "compacted", &duplicate), 0);
  EXPECT_TRUE(duplicate);
  EXPECT_EQ(Incr("old:2", "api", 100, std::nullopt, "logged", &duplicate), 7);
  EXPECT_TRUE(duplicate);
  Compact();  // the replayed id moves to the dedupe family, still without a fingerprint
  Reopen();
  EXPECT_EQ(Incr("old:2", "api", 1, clock_.NowMs(), "logged", &duplicate), 7);
  EXPECT_TRUE(duplicate);
  EXPECT_EQ(Total("old:1", "api"), 0);
}

TEST(EventFingerprintFormatTest, LogEntriesCarryTheFingerprintAndOldOnesDecode) {
  lf::CounterIncr incr;
  incr.owner = "o";
  incr.key = "k";
  incr.delta = -3;
  incr.event_ms = 1'718'454'000'000;
  incr.event_id = "id";
  incr.event_id_expiry_ms = 1'719'000'000'000;
  incr.event_fingerprint = 0x0123456789abcdefULL;
  std::string with;
  lf::AppendCounterIncr(with, incr);
  incr.event_fingerprint = 0;
  std::string without;
  lf::AppendCounterIncr(without, incr);
  EXPECT_EQ(with.size(), without.size() + 8);  // one fixed64 more, at the end of the payload
  const std::string blob = std::string(1, static_cast<char>(lf::kBlobVersion)) + with + without;
  lf::BlobReader reader(blob);
  lf::Entry entry;
  lf::CounterIncr decoded;
  ASSERT_TRUE(reader.Next(&entry));
  ASSERT_TRUE(lf::DecodeCounterIncr(entry.payload, &decoded));
  EXPECT_EQ(decoded.event_fingerprint, 0x0123456789abcdefULL);
  EXPECT_EQ(decoded.event_id_expiry_ms, 1'719'000'000'000);
  ASSERT_TRUE(reader.Next(&entry));
  ASSERT_TRUE(lf::DecodeCounterIncr(entry.payload, &decoded));
  EXPECT_EQ(decoded.event_fingerprint, 0u);
  EXPECT_EQ(decoded.delta, -3);

  int64_t expiry = 0;
  uint64_t fingerprint = 1;
  ASSERT_TRUE(lf::DecodeDedupeValue(lf::EncodeInt64(42), &expiry, &fingerprint));
  EXPECT_EQ(expiry, 42);
  EXPECT_EQ(fingerprint, 0u);
  ASSERT_TRUE(lf::DecodeDedupeValue(lf::EncodeDedupeValue(43, 99), &expiry, &fingerprint));
  EXPECT_EQ(expiry, 43);
  EXPECT_EQ(fingerprint, 99u);
  EXPECT_FALSE(lf::DecodeDedupeValue("short", &expiry, &fingerprint));
}

}  // namespace
}  // namespace tally::core::counters_test
