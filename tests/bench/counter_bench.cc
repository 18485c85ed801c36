// Engine benchmarks for counters: increment cost, CTR.TOP over many owners,
// memory per counter and recovery speed. Real RocksDB in a temp dir.
//   build/release/tests/bench/counter_bench --benchmark_min_time=1
#include <benchmark/benchmark.h>
#include <malloc.h>

#include <string>

#include "core/engine.h"
#include "engine_fixture.h"
#include "temp_dir.h"

namespace tally::core {
namespace {

// An engine with the daemon's default options on a disk temp dir.
struct TempEngine {
  TempEngine() { Reopen(); }
  void Reopen() {
    engine.reset();
    EngineOptions options;
    options.data_dir = dir.path();
    engine = fixtures::OpenEngineOrDie(options, clock);
  }
  // Destroyed in reverse: the engine before its dir.
  fixtures::TempDir dir;
  SystemClock clock;
  std::unique_ptr<Engine> engine;
};

std::string Owner(int64_t i) { return "user:" + std::to_string(i); }

void BM_CounterIncrement(benchmark::State& state) {
  TempEngine t;
  const int64_t owners = state.range(0);
  std::vector<std::string> names;
  for (int64_t i = 0; i < owners; ++i) names.push_back(Owner(i));
  int64_t now = t.clock.NowMs();
  for (const auto& name : names) t.engine->counters().Increment({name, "downloads", 1, now, {}});  // load
  size_t i = 0;
  for (auto _ : state) {
    auto r = t.engine->counters().Increment({names[i++ % names.size()], "downloads", 1, now, {}});
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CounterIncrement)->Arg(1000)->Arg(100000);

void BM_PlainIncrement(benchmark::State& state) {
  TempEngine t;
  std::vector<std::string> keys;
  for (int64_t i = 0; i < 100000; ++i) keys.push_back("key:" + std::to_string(i));
  size_t i = 0;
  for (auto _ : state) {
    auto r = t.engine->keyspace().IncrBy(keys[i++ % keys.size()], 1);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_PlainIncrement);

// CTR.TOP over N owners held in memory, and after a compaction + restart
// (then every value comes from the by_key index).
void BM_Top(benchmark::State& state) {
  TempEngine t;
  const int64_t owners = state.range(0);
  // 0: nothing compacted yet (memory only); 1: compacted and restarted (every
  // value from the by_key index); 2: compacted, still running (the steady
  // state: every counter in memory AND in the index); 3: compacted, restarted
  // and LoadStoredCounters done (what tallyd does in the background).
  const int64_t mode = state.range(1);
  int64_t now = t.clock.NowMs();
  for (int64_t i = 0; i < owners; ++i)
    t.engine->counters().Increment({Owner(i), "downloads", (i * 7919) % 100000, now, {}});
  if (mode >= 1) t.engine->CompactAll();
  if (mode == 1) t.Reopen();
  if (mode == 3) {  // restarted, then the background load has finished
    t.Reopen();
    t.engine->counters().LoadStoredCounters();
  }
  PeriodId day = PeriodOf(Interval::kDay, now, TimeZone::Utc());
  for (auto _ : state) {
    auto top = t.engine->counters().Top("downloads", Interval::kDay, day, 10, "");
    benchmark::DoNotOptimize(top);
  }
  state.counters["owners"] = static_cast<double>(owners);
}
BENCHMARK(BM_Top)
    ->Args({1000000, 0})
    ->Args({1000000, 1})
    ->Args({1000000, 2})
    ->Args({1000000, 3})
    ->Unit(benchmark::kMillisecond)
    ->Iterations(5);

// CTR.TOP ranking the sum of the last 7 days (a range) over N owners, each
// with a cell on every day. range(1): 0 nothing compacted (six of the seven
// cells are changed cells in memory); 1 compacted, still running (every
// counter in memory, past cells in RocksDB's memtables); 2 compacted,
// restarted and LoadStoredCounters done; 3 as 2, with the memtables flushed
// first (the index in SST files, as after a while of running).
void BM_TopRange(benchmark::State& state) {
  TempEngine t;
  const int64_t owners = state.range(0);
  const int64_t mode = state.range(1);
  const int64_t now = t.clock.NowMs();
  constexpr int64_t kDayMs = 86400 * 1000;
  for (int64_t day = 6; day >= 0; --day) {
    for (int64_t i = 0; i < owners; ++i) {
      t.engine->counters().Increment({Owner(i), "downloads", (i * 7919 + day) % 1000 + 1, now - day * kDayMs, {}});
    }
    t.engine->WaitDurable(t.engine->Ticket());
  }
  if (mode >= 1) t.engine->CompactAll();
  if (mode == 3) t.engine->FlushMemtables();
  if (mode >= 2) {
    t.Reopen();
    t.engine->counters().LoadStoredCounters();
  }
  const PeriodId today = PeriodOf(Interval::kDay, now, TimeZone::Utc());
  size_t ranked = 0;
  for (auto _ : state) {
    auto top = t.engine->counters().Top({"downloads", Interval::kDay, today - 6, today, 0, 10, ""});
    ranked = top.size();
    benchmark::DoNotOptimize(top);
  }
  state.counters["owners"] = static_cast<double>(owners);
  state.counters["ranked"] = static_cast<double>(ranked);
}
BENCHMARK(BM_TopRange)
    ->Args({100000, 0})
    ->Args({100000, 1})
    ->Args({100000, 2})
    ->Args({100000, 3})
    ->Unit(benchmark::kMillisecond)
    ->Iterations(5);

// CTR.TOP of one period with an offset (page 100 of 10): the heap holds
// offset + limit owners.
void BM_TopOffset(benchmark::State& state) {
  TempEngine t;
  const int64_t owners = state.range(0);
  const int64_t now = t.clock.NowMs();
  for (int64_t i = 0; i < owners; ++i) {
    t.engine->counters().Increment({Owner(i), "downloads", (i * 7919) % 100000, now, {}});
  }
  const PeriodId day = PeriodOf(Interval::kDay, now, TimeZone::Utc());
  for (auto _ : state) {
    auto top =
        t.engine->counters().Top({"downloads", Interval::kDay, day, day, static_cast<size_t>(state.range(1)), 10, ""});
    benchmark::DoNotOptimize(top);
  }
  state.counters["owners"] = static_cast<double>(owners);
}
BENCHMARK(BM_TopOffset)->Args({1000000, 0})->Args({1000000, 1000})->Unit(benchmark::kMillisecond)->Iterations(5);

// Memory of N counters (range(1) keys per owner), from malloc's own accounting.
void BM_MemoryPerCounter(benchmark::State& state) {
  const int64_t counters = state.range(0);
  const int64_t keys_per_owner = state.range(1);
  const int64_t owners = counters;
  for (auto _ : state) {
    TempEngine t;
    int64_t now = t.clock.NowMs();
    std::vector<std::string> names;
    for (int64_t i = 0; i < counters / keys_per_owner; ++i) names.push_back(Owner(i));
    std::vector<std::string> keys;
    for (int64_t k = 0; k < keys_per_owner; ++k) keys.push_back("key." + std::to_string(k));
    malloc_trim(0);
    size_t before = mallinfo2().uordblks;
    uint64_t memtable_before = t.engine->store().MemtableBytes();
    for (int64_t i = 0; i < owners; ++i) {
      t.engine->counters().Increment({names[i / keys_per_owner], keys[i % keys_per_owner], 1, now, {}});
      if (i % 10000 == 0) t.engine->WaitDurable(t.engine->Ticket());  // log blobs leave tally's memory
    }
    t.engine->WaitDurable(t.engine->Ticket());
    size_t after = mallinfo2().uordblks;
    // RocksDB's memtables (the log blobs just written) are not tally's state.
    double rocks = static_cast<double>(t.engine->store().MemtableBytes() - memtable_before);
    state.counters["bytes_per_counter"] = (static_cast<double>(after - before) - rocks) / static_cast<double>(owners);
  }
}
BENCHMARK(BM_MemoryPerCounter)->Args({1000000, 1})->Args({1000000, 10})->Iterations(1)->Unit(benchmark::kMillisecond);

// Restart with N uncompacted log entries (10M is the SPEC target: <= 10 s).
void BM_Recovery(benchmark::State& state) {
  const int64_t entries = state.range(0);
  TempEngine t;
  int64_t now = t.clock.NowMs();
  for (int64_t i = 0; i < entries; ++i) {
    if (i % 2 == 0) {
      t.engine->counters().Increment({Owner(i % 100000), "downloads", 1, now, {}});
    } else {
      t.engine->keyspace().IncrBy("key:" + std::to_string(i % 100000), 1);
    }
    if (i % 100000 == 0) t.engine->WaitDurable(t.engine->Ticket());
  }
  t.engine->WaitDurable(t.engine->Ticket());
  for (auto _ : state) {
    t.Reopen();
    state.counters["replayed"] = static_cast<double>(t.engine->recovered_entries());
  }
}
BENCHMARK(BM_Recovery)->Arg(1000000)->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace tally::core

BENCHMARK_MAIN();
