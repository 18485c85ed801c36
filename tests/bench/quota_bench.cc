// Engine benchmarks for quotas: QUOTA.CONSUME's cost next to CTR.INCRBY's on
// the same number of owners (a consume is a counter increment plus the
// quota account), and a consume by an owner with many credit grants. Real
// RocksDB in a temp dir.
//   cmake --build --preset release --target quota_bench
//   build/release/tests/bench/quota_bench --benchmark_min_time=1
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "core/engine.h"
#include "engine_fixture.h"
#include "temp_dir.h"

namespace tally::core {
namespace {

struct TempEngine {
  TempEngine() {
    EngineOptions options;
    options.data_dir = dir.path();
    engine = fixtures::OpenEngineOrDie(options, clock);
  }
  fixtures::TempDir dir;  // destroyed after the engine
  SystemClock clock;
  std::unique_ptr<Engine> engine;
};

std::vector<std::string> Owners(int64_t count) {
  std::vector<std::string> names;
  for (int64_t i = 0; i < count; ++i) names.push_back("team:" + std::to_string(i));
  return names;
}

// Every owner on a plan with a monthly limit nobody reaches.
void OnPlan(Engine& engine, const std::vector<std::string>& owners) {
  Plan plan;
  plan.name = "bench";
  plan.features.push_back(PlanFeature{"api_calls", 1'000'000'000'000,
                                      QuotaPeriod{QuotaPeriod::Kind::kCalendar, Interval::kMonth, 0},
                                      Overage::kReject});
  std::string error;
  if (!NormalizePlan(plan, &error)) std::abort();
  const AuditInfo audit{"bench", "PLAN.SET"};
  if (!engine.quotas().SetPlan(plan, audit).ok()) std::abort();
  for (const std::string& owner : owners) {
    if (!engine.quotas().Assign(owner, "bench", std::nullopt, audit).ok()) std::abort();
  }
}

// The daemon compacts on its own thread; here it runs every 20,000 ops,
// outside the measured time, so the figures are the request path's.
void CompactUntimed(benchmark::State& state, Engine& engine) {
  state.PauseTiming();
  if (!engine.CompactAll().ok()) std::abort();
  state.ResumeTiming();
}

void BM_QuotaConsume(benchmark::State& state) {
  TempEngine t;
  const std::vector<std::string> owners = Owners(state.range(0));
  OnPlan(*t.engine, owners);
  size_t i = 0;
  for (auto _ : state) {
    QuotaRequest request{owners[i++ % owners.size()], "api_calls", 1};
    auto r = t.engine->quotas().Consume(request);
    benchmark::DoNotOptimize(r);
    if (i % 20'000 == 0) CompactUntimed(state, *t.engine);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_QuotaConsume)->Arg(1000)->Arg(100000);

// The same owners and schedule with CTR.INCRBY, the baseline.
void BM_CounterIncrementBaseline(benchmark::State& state) {
  TempEngine t;
  const std::vector<std::string> owners = Owners(state.range(0));
  const int64_t now = t.clock.NowMs();
  for (const std::string& owner : owners) t.engine->counters().Increment({owner, "api_calls", 1, now, {}});
  size_t i = 0;
  for (auto _ : state) {
    auto r = t.engine->counters().Increment({owners[i++ % owners.size()], "api_calls", 1, t.clock.NowMs(), {}});
    benchmark::DoNotOptimize(r);
    if (i % 20'000 == 0) CompactUntimed(state, *t.engine);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CounterIncrementBaseline)->Arg(1000)->Arg(100000);

// One owner with N live grants (and no plan allowance left to draw from):
// each consume draws from the front of the draw order.
void BM_QuotaConsumeFromManyGrants(benchmark::State& state) {
  TempEngine t;
  const int64_t grants = state.range(0);
  const int64_t now = t.clock.NowMs();
  for (int64_t g = 0; g < grants; ++g) {
    GrantRequest grant;
    grant.owner = "team:1";
    grant.feature = "tokens";
    grant.amount = 1'000'000'000;
    grant.priority = g % 5;
    grant.expires_ms = now + (1 + g % 10'000) * 86'400'000ll;
    grant.actor = "bench";
    if (!t.engine->quotas().GrantCredit(grant).ok()) std::abort();
  }
  t.engine->CompactAll();
  int64_t i = 0;
  for (auto _ : state) {
    QuotaRequest request{"team:1", "tokens", 3};
    auto r = t.engine->quotas().Consume(request);
    if (!r.ok() || !r.value.allowed) std::abort();
    benchmark::DoNotOptimize(r);
    if (++i % 20'000 == 0) CompactUntimed(state, *t.engine);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["grants"] = static_cast<double>(grants);
}
BENCHMARK(BM_QuotaConsumeFromManyGrants)->Arg(1000)->Arg(100000)->Unit(benchmark::kMicrosecond);

// The maintenance tick's sweep (once a second) over N owners with credits,
// none due: it visits only the owners whose deadline has come (a queue by
// instant), so it costs the same for 1,000 owners as for 100,000.
void BM_SweepWithNothingDue(benchmark::State& state) {
  TempEngine t;
  const std::vector<std::string> owners = Owners(state.range(0));
  const int64_t now = t.clock.NowMs();
  for (const std::string& owner : owners) {
    GrantRequest grant;
    grant.owner = owner;
    grant.feature = "tokens";
    grant.amount = 100;
    grant.expires_ms = now + 30 * 86'400'000ll;
    grant.actor = "bench";
    if (!t.engine->quotas().GrantCredit(grant).ok()) std::abort();
  }
  for (auto _ : state) benchmark::DoNotOptimize(t.engine->quotas().Sweep());
  state.counters["owners"] = static_cast<double>(owners.size());
}
BENCHMARK(BM_SweepWithNothingDue)->Arg(1000)->Arg(100000)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace tally::core

BENCHMARK_MAIN();
