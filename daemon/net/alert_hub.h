#pragma once
// Delivery of the `alerts` pub/sub channel (SUBSCRIBE alerts): one reader
// for the whole server, not one per subscriber. A timer on one I/O thread
// wakes every `interval`; when the alert log has grown
// (FeedsModule::newest_alert, an atomic load) it reads the new records once
// (ReadAlerts from the last seq it read), renders each as the alert's JSON
// once, and posts the batch to every subscriber, which frames and writes it
// on its own thread.
//
// Exactly once: the hub reads each seq once, in order, and a subscriber is
// added under the same mutex as a read, at the newest readable seq; it is
// sent every alert with a seq above that, and nothing at or below (the
// subscriber filters: a batch may start earlier). Batches reach a
// subscriber in the order they were posted (one poster, one thread of the
// subscriber's io_context).
//
// Alerts become readable at compaction (compaction_interval_ms), so a
// listener hears of an alert within that interval plus `interval`.
//
// Thread-safety: Subscribe/Unsubscribe from any thread; Start/Stop from the
// control thread.

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "net/asio.h"

namespace tally::core {
class FeedsModule;
}  // namespace tally::core

namespace tally::net {

struct PublishedAlert {
  uint64_t seq = 0;
  std::string json;  // commands::AlertJson
};
using AlertBatch = std::vector<PublishedAlert>;

class AlertSubscriber {
 public:
  virtual ~AlertSubscriber() = default;
  // Called on the hub's thread with alerts in seq order: post to your own
  // thread and return (never block the hub).
  virtual void PostAlerts(std::shared_ptr<const AlertBatch> batch) = 0;
};

class AlertHub {
 public:
  // Records read per tick at most; the rest follow on the next ticks, so a
  // burst (a plan change that fires thousands) neither holds the mutex long
  // nor builds one huge batch.
  static constexpr size_t kMaxPerTick = 4096;

  // The timer runs on `io` (an I/O thread's loop).
  AlertHub(core::FeedsModule& feeds, asio::io_context& io, std::chrono::milliseconds interval);
  AlertHub(const AlertHub&) = delete;
  AlertHub& operator=(const AlertHub&) = delete;

  // Alerts readable now are history: only later ones are published.
  void Start();
  // No tick runs after the current one; subscribers are left to their sessions.
  void Stop();

  // Adds `subscriber` (keyed by its address; idempotent) and returns the
  // newest readable seq: it will be sent every alert after it (and must
  // drop the earlier ones a batch may hold).
  uint64_t Subscribe(const std::shared_ptr<AlertSubscriber>& subscriber);
  void Unsubscribe(const AlertSubscriber* subscriber);

  size_t subscribers() const;
  // Alerts published (read and posted) since start; for tests and stats.
  uint64_t published() const;

 private:
  void Arm();
  void Tick();

  core::FeedsModule& feeds_;
  asio::steady_timer timer_;
  const std::chrono::milliseconds interval_;

  mutable std::mutex mu_;
  bool running_ = false;  // GUARDED_BY(mu_)
  uint64_t cursor_ = 0;   // GUARDED_BY(mu_): the newest seq read (or skipped at Start)
  uint64_t published_ = 0;
  std::vector<std::pair<const AlertSubscriber*, std::weak_ptr<AlertSubscriber>>> subscribers_;  // GUARDED_BY(mu_)
  int64_t failures_logged_ = 0;  // only the timer's thread
};

}  // namespace tally::net
