// Compaction cost with many dirty counters: N owners are each incremented
// once, then one CompactAll folds them (7 cells per counter, plus the
// changefeed records). Prints milliseconds per CompactAll. Not part of ctest.
//   build/release/tests/bench/compaction_bench [counters=100000] [rounds=5] [dir=/tmp]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/engine.h"
#include "engine_fixture.h"
#include "temp_dir.h"

int main(int argc, char** argv) {
  using namespace tally::core;
  const int64_t counters = argc > 1 ? std::atoll(argv[1]) : 100000;
  const int rounds = argc > 2 ? std::atoi(argv[2]) : 5;
  tally::fixtures::TempDir dir(std::string(argc > 3 ? argv[3] : "/tmp"));
  SystemClock clock;
  EngineOptions options;
  options.data_dir = dir.path();
  auto engine = tally::fixtures::OpenEngineOrDie(options, clock);
  std::vector<std::string> owners;
  for (int64_t i = 0; i < counters; ++i) owners.push_back("user:" + std::to_string(i));
  std::vector<double> ms;
  for (int round = 0; round <= rounds; ++round) {
    const int64_t now = clock.NowMs();
    for (const auto& owner : owners) engine->counters().Increment({owner, "downloads", 1, now, {}});
    if (!engine->WaitDurable(engine->Ticket()).ok()) return 1;
    auto start = std::chrono::steady_clock::now();
    auto s = engine->CompactAll();
    double elapsed = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    if (!s.ok()) {
      std::fprintf(stderr, "compact: %s\n", s.ToString().c_str());
      return 1;
    }
    std::printf("round %d (%s): CompactAll of %lld dirty counters: %.1f ms\n", round,
                round == 0 ? "new counters" : "steady", static_cast<long long>(counters), elapsed);
    if (round > 0) ms.push_back(elapsed);
  }
  std::sort(ms.begin(), ms.end());
  if (!ms.empty()) std::printf("median steady CompactAll: %.1f ms\n", ms[ms.size() / 2]);
  engine.reset();
  return 0;
}
