#pragma once
// The vocabulary of the counters module (core/counters.h): options, requests
// and results of its ops. Plain structs, no behaviour.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/calendar.h"
#include "core/clock.h"
#include "storage/store.h"

namespace tally::core {

struct CounterOptions {
  TimeZone default_time_zone = TimeZone::Utc();
  int64_t dedupe_window_ms = 7ll * 86400 * 1000;
  // Per interval (indexed by Interval): how long cells are kept; 0 = forever.
  int64_t retention_ms[kIntervalCount] = {0, 7ll * 86400 * 1000, 400ll * 86400 * 1000, 0, 0, 0, 0};
  // How long changefeed records are kept (CHANGES.READ); 0 = forever.
  int64_t changes_retention_ms = 7ll * 86400 * 1000;
};

// The RocksDB compaction filter's view of retention (cells and event ids).
std::unique_ptr<storage::RetentionPolicy> MakeRetentionPolicy(const CounterOptions& options, const Clock& clock);

// Owner and key names: 1-128 bytes of printable ASCII except space and
// , " ' ` < > — so the names applications already have work unchanged:
// Laravel morph names (App\Models\Post:1), e-mail addresses
// (ada+billing@example.com), paths (team/42), auth0|abc, {hash-tags}.
bool ValidName(std::string_view name);
// Event ids: 1-128 printable ASCII bytes without spaces.
bool ValidEventId(std::string_view id);

// One cell to set (CTR.SET / RESET / RECOUNT).
struct CellAssignment {
  Interval interval;
  PeriodId period;
  int64_t value;
};

struct CounterIncrement {
  std::string_view owner;
  std::string_view key;
  int64_t delta = 0;
  int64_t event_ms = 0;       // when it happened (the caller checked the AT bounds)
  std::string_view event_id;  // empty: none
  // The client gave the event time (AT). With an event id, the arguments the
  // client sent (delta, and AT when given) must match the id's first use: a
  // retry without AT is the same event even though "now" moved on.
  bool at_given = false;
  // Whose id it is: 0 for CTR.INCRBY; another module's tag ('Q' for a quota
  // consume, ...) for an increment nested in that module's entry. It is part
  // of the fingerprint, so an id reused by another command is a conflict.
  char id_scope = 0;
  // The delta the id's fingerprint covers, when the module applies another
  // one (a release gives back at most what was used): a retry is recognised
  // by what the client sent.
  std::optional<int64_t> id_delta;
};

// CTR.ADJUST: a correction of a whole counter (see CountersModule::Adjust).
struct CounterAdjustment {
  std::string_view owner;
  std::string_view key;
  int64_t delta = 0;
  int64_t event_ms = 0;  // the time whose cells are corrected (the caller checked the AT bounds; now without AT)
  // Optional, as an increment's: a correction sent twice (a retry) applies
  // once. The arguments the id guards are delta and AT when given; an id
  // first used by an increment is a conflict, whatever the delta.
  std::string_view event_id;  // empty: none
  bool at_given = false;
};

struct IncrementResult {
  int64_t total = 0;
  // The event id was seen within the dedupe window with the same arguments:
  // nothing applied, `total` is the current total. (Other arguments:
  // kIdConflict.)
  bool duplicate = false;
};

struct RankedOwner {
  std::string owner;
  int64_t value;
};

// CTR.TOP: owners ranked by their cells of one key and interval, highest
// first, ties by owner name; owners whose value is 0 are not ranked.
struct TopQuery {
  std::string_view key;
  Interval interval = Interval::kTotal;
  // The periods ranked: each owner's value is the sum of its cells of
  // `interval` whose period ids lie in [from, to] (inclusive; from == to: one
  // cell, the fast path). Ids as PeriodOf gives them in the caller's zone:
  // for days and longer they are local dates, so [from, to] names the same
  // dates in every owner's zone; for hours they are instants, so an owner's
  // hour cells that start inside the range count, whatever its zone (as
  // CTR.SUM FROM..TO does). Ignored for `total`.
  PeriodId from = 0;
  PeriodId to = 0;
  size_t offset = 0;  // skip the first `offset` ranked owners (pages: offset = page * limit)
  size_t limit = 10;
  std::string_view owner_prefix;  // only owners whose names start with it
  // How to rank (every method gives the same answer; tests and benchmarks
  // compare them). kAuto picks by cost (counter_top.cc); kValueIndex always
  // reads the by_value index (the threshold algorithm for a range);
  // kKeyIndex always sums one by_key pass over the range.
  enum class Method : uint8_t { kAuto, kValueIndex, kKeyIndex };
  Method method = Method::kAuto;
};

// Which cells of an owner CountersModule::OwnerCells returns.
struct CellFilter {
  std::string_view key;              // empty: every key
  std::optional<Interval> interval;  // nullopt: total and every interval
  std::optional<PeriodId> period;    // with an interval: only that period; nullopt: every period
};

// One cell of an owner (CTR.CELLS: the admin table and export).
struct CellRow {
  std::string key;
  Interval interval;
  PeriodId period;
  int64_t value;
};

// Counter state in memory (for metrics): counted under each shard's lock,
// nothing read from RocksDB.
struct CounterMemoryStats {
  uint64_t owners = 0;          // owner names interned in memory
  uint64_t counters = 0;        // counters in memory (total + one hot cell per rollup interval)
  uint64_t dirty_counters = 0;  // counters changed since the last compaction
  // Changed non-hot cells waiting for compaction (late events, SET of past
  // periods, rolled-over hot cells), by Interval.
  uint64_t pending_cells[kIntervalCount] = {};
  uint64_t inflight_cells = 0;  // cells a running compaction is writing
  // Stored cells with a value, by Interval, as CountStoredCells last counted
  // them (read from RocksDB in the background, not under the locks), and
  // when (unix ms; 0: not counted yet).
  uint64_t stored_cells[kIntervalCount] = {};
  int64_t stored_cells_counted_ms = 0;
  uint64_t pending_event_ids = 0;  // event ids seen since the last compaction
};

}  // namespace tally::core
