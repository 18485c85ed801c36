// Engine::Atomically (core/shard_set.h): ops on several shards as one step.
// The shards are held for the whole group and released after it, even when
// it throws; an op outside the group's shards is refused (ShardNotHeld)
// rather than locked out of order; and the group's log entries are durable
// together.
#include <gtest/gtest.h>

#include <atomic>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "keyspace_test_util.h"

namespace tally::core {
namespace {

using EngineAtomicTest = KeyspaceTest;

// Two keys on different shards.
std::pair<std::string, std::string> KeysOnTwoShards() {
  std::string a = "a", b;
  for (int i = 0; b.empty(); ++i) {
    std::string candidate = "b" + std::to_string(i);
    if (ShardSet::ShardOf(candidate) != ShardSet::ShardOf(a)) b = candidate;
  }
  return {a, b};
}

TEST_F(EngineAtomicTest, OpsInsideRunOnTheHeldShardsAndOutsideOnesAreRefused) {
  auto [a, b] = KeysOnTwoShards();
  EXPECT_EQ(engine_->HeldShards(), 0u);
  engine_->Atomically(ShardSet::MaskOf(a), [&] {
    EXPECT_EQ(engine_->HeldShards(), ShardSet::MaskOf(a));
    Set(a, "1");  // its shard is held: no second lock (a deadlock if it tried)
    EXPECT_EQ(Get(a), "1");
    EXPECT_THROW(engine_->keyspace().Set(b, "x", SetOptions{}), ShardNotHeld);
    // A nested group inside the held shards runs in this one; asking for more throws.
    engine_->Atomically(ShardSet::MaskOf(a), [&] { Set(a, "2"); });
    EXPECT_THROW(engine_->Atomically(ShardSet::MaskOf(b), [] {}), ShardNotHeld);
  });
  EXPECT_EQ(engine_->HeldShards(), 0u);
  EXPECT_EQ(Get(a), "2");
  EXPECT_EQ(Get(b), std::nullopt);  // the refused op changed nothing
}

TEST_F(EngineAtomicTest, AThrowingGroupReleasesItsShards) {
  auto [a, b] = KeysOnTwoShards();
  EXPECT_THROW(engine_->Atomically(kAllShards,
                                   [&] {
                                     Set(a, "1");
                                     throw std::runtime_error("boom");
                                   }),
               std::runtime_error);
  EXPECT_EQ(engine_->HeldShards(), 0u);
  // Another thread can take every shard again.
  std::thread other([&] { Set(b, "2"); });
  other.join();
  EXPECT_EQ(Get(b), "2");
}

TEST_F(EngineAtomicTest, OtherThreadsWaitForTheGroup) {
  auto [a, b] = KeysOnTwoShards();
  std::atomic<bool> inside{false};
  std::atomic<bool> other_done{false};
  std::thread other;
  engine_->Atomically(ShardSet::MaskOf(a) | ShardSet::MaskOf(b), [&] {
    Set(a, "1");
    other = std::thread([&] {
      while (!inside.load()) std::this_thread::yield();
      Set(b, "other");  // waits for b's shard
      other_done = true;
    });
    inside = true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_FALSE(other_done.load()) << "another thread wrote a held shard during the group";
    Set(b, "group");
  });
  other.join();
  EXPECT_EQ(Get(b), "other");  // it ran after the group
}

TEST_F(EngineAtomicTest, AGroupsWritesOnEveryShardSurviveACrashTogether) {
  std::vector<std::string> keys;
  for (int i = 0; i < 200; ++i) keys.push_back("k" + std::to_string(i));
  engine_->Atomically(kAllShards, [&] {
    for (const auto& key : keys) Set(key, "v");
  });
  Durable();
  CrashAndReopen();
  for (const auto& key : keys) EXPECT_EQ(Get(key), "v") << key;
}

}  // namespace
}  // namespace tally::core
