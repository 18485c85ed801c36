// Micro-benchmarks for the engine's plain keyspace (not a test: run by hand).
//   IncrPlain throughput on one thread, with and without waiting for the log;
//   recovery (Engine::Open) of N log entries.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/engine.h"
#include "engine_fixture.h"
#include "temp_dir.h"

namespace tally::core {
namespace {

using fixtures::TempDir;

// An engine with the daemon's default options on `dir`.
std::unique_ptr<Engine> OpenOrDie(const std::string& dir, const Clock& clock) {
  EngineOptions options;
  options.data_dir = dir;
  return fixtures::OpenEngineOrDie(options, clock);
}

std::vector<std::string> Keys(int n) {
  std::vector<std::string> keys;
  for (int i = 0; i < n; ++i) keys.push_back("bench:key:" + std::to_string(i));
  return keys;
}

// In-memory apply + log append; the log is written every 4096 ops (pipelined
// clients sharing group commits).
void BM_IncrPlain(benchmark::State& state) {
  TempDir dir;
  SystemClock clock;
  auto engine = OpenOrDie(dir.Sub("data"), clock);
  const std::vector<std::string> keys = Keys(static_cast<int>(state.range(0)));
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(engine->keyspace().IncrBy(keys[i % keys.size()], 1));
    if (++i % 4096 == 0) engine->WaitDurable(engine->Ticket());
  }
  engine->WaitDurable(engine->Ticket());
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_IncrPlain)->Arg(1000)->Arg(100000);

// One client, no pipelining: every op waits for its own RocksDB write.
void BM_IncrPlainDurableEachOp(benchmark::State& state) {
  TempDir dir;
  SystemClock clock;
  auto engine = OpenOrDie(dir.Sub("data"), clock);
  const std::vector<std::string> keys = Keys(1000);
  size_t i = 0;
  for (auto _ : state) {
    engine->keyspace().IncrBy(keys[i++ % keys.size()], 1);
    if (!engine->WaitDurable(engine->Ticket()).ok()) std::abort();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_IncrPlainDurableEachOp);

// Engine::Open over a log of state.range(0) entries on 100k keys (nothing compacted).
void BM_RecoverLog(benchmark::State& state) {
  TempDir dir;
  SystemClock clock;
  const int64_t entries = state.range(0);
  {
    auto engine = OpenOrDie(dir.Sub("data"), clock);
    const std::vector<std::string> keys = Keys(100000);
    for (int64_t i = 0; i < entries; ++i) {
      engine->keyspace().IncrBy(keys[static_cast<size_t>(i) % keys.size()], 1);
      if (i % 4096 == 4095) engine->WaitDurable(engine->Ticket());
    }
    engine->WaitDurable(engine->Ticket());
  }
  for (auto _ : state) {
    auto engine = OpenOrDie(dir.Sub("data"), clock);
    if (engine->recovered_entries() != static_cast<uint64_t>(entries)) std::abort();
    state.PauseTiming();
    engine.reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * entries);
}
BENCHMARK(BM_RecoverLog)->Arg(100000)->Arg(1000000)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace tally::core

BENCHMARK_MAIN();
