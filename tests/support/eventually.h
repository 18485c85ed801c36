#pragma once
// Waiting for a condition that another thread or process brings about.
// Header-only.

#include <chrono>
#include <thread>

namespace tally::fixtures {

// Polls `predicate` every 2 ms until it holds (true) or `timeout` passed
// (false). For tests watching a server from outside; servers never poll.
template <typename Predicate>
bool Eventually(Predicate predicate, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!predicate()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

}  // namespace tally::fixtures
