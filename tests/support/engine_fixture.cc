#include "engine_fixture.h"

#include <cstdlib>
#include <iostream>
#include <utility>

namespace tally::fixtures {

std::unique_ptr<core::Engine> OpenEngineOrDie(const core::EngineOptions& options, const core::Clock& clock) {
  auto engine = core::Engine::Open(options, clock);
  if (!engine.ok()) {
    std::cerr << "[fixtures] opening the engine on " << options.data_dir << ": " << engine.status().ToString() << "\n";
    std::abort();
  }
  return std::move(engine.value());
}

const char* RestartModeName(RestartMode mode) {
  switch (mode) {
    case RestartMode::kLive:
      return "Live";
    case RestartMode::kCompact:
      return "Compact";
    case RestartMode::kReplay:
      return "Replay";
    case RestartMode::kCompactReopen:
      return "CompactReopen";
    case RestartMode::kMixed:
      return "Mixed";
  }
  return "?";
}

void PrintTo(RestartMode mode, std::ostream* os) { *os << RestartModeName(mode); }

std::string RestartModeParamName(const ::testing::TestParamInfo<RestartMode>& info) {
  return RestartModeName(info.param);
}

EngineFixture::EngineFixture(int64_t start_ms) : clock_(start_ms) {
  options_.data_dir = dir_.Sub("data");
  options_.block_cache_bytes = 1 << 20;
}

void EngineFixture::Open() {
  auto engine = core::Engine::Open(options_, clock_);
  ASSERT_TRUE(engine.ok()) << engine.status().ToString();
  engine_ = std::move(engine.value());
}

void EngineFixture::Durable() {
  storage::Status s = engine_->WaitDurable(engine_->Ticket());
  ASSERT_TRUE(s.ok()) << s.ToString();
}

void EngineFixture::Reopen() {
  Durable();
  CrashAndReopen();
}

void EngineFixture::CrashAndReopen() {
  engine_.reset();
  Open();
}

void EngineFixture::Compact() {
  storage::Status s = engine_->CompactAll();
  ASSERT_TRUE(s.ok()) << s.ToString();
}

void EngineFixture::Checkpoint(RestartMode mode) {
  switch (mode) {
    case RestartMode::kLive:
      break;
    case RestartMode::kCompact:
      Compact();
      break;
    case RestartMode::kReplay:
      Reopen();
      break;
    case RestartMode::kCompactReopen:
      Compact();
      Reopen();
      break;
    case RestartMode::kMixed:
      if (++mixed_checkpoints_ % 2 == 1) {
        Compact();
      } else {
        Reopen();
      }
      break;
  }
}

}  // namespace tally::fixtures
