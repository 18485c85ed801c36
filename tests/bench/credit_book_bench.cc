// How a consume's draw scales with an owner's number of grants
// (core/credit_book.h): Plan + Apply of a small amount over books of 1,000 to
// 1,000,000 live grants. A draw touches the few grants it takes from, found
// at the front of the draw order, so its cost should grow like log n.
//
//   cmake --build --preset release --target credit_book_bench
//   build/release/tests/bench/credit_book_bench

#include <benchmark/benchmark.h>

#include <string>

#include "core/credit_book.h"

namespace tally::core {
namespace {

constexpr int64_t kNow = 1'800'000'000'000;
constexpr int64_t kDayMs = 86'400'000;

void BM_ConsumeFromManyGrants(benchmark::State& state) {
  const int64_t grants = state.range(0);
  CreditBook book;
  for (int64_t i = 0; i < grants; ++i) {
    Grant grant;
    grant.id = "g" + std::to_string(i);
    grant.amount = 1'000'000'000;  // never runs out during the benchmark
    grant.priority = i % 5;
    grant.expires_ms = kNow + (1 + i % 10'000) * kDayMs;
    grant.granted_ms = kNow - i;
    book.Add(std::move(grant));
  }
  const Allowance none{0, kNow + kDayMs};
  for (auto _ : state) {
    DrawPlan plan = book.Plan(3, none, false);
    book.Apply(plan.draws);
    benchmark::DoNotOptimize(plan);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ConsumeFromManyGrants)->RangeMultiplier(10)->Range(1'000, 1'000'000);

}  // namespace
}  // namespace tally::core

BENCHMARK_MAIN();
