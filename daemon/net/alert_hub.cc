#include "net/alert_hub.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "commands/alert_json.h"
#include "core/feeds.h"

namespace tally::net {

AlertHub::AlertHub(core::FeedsModule& feeds, asio::io_context& io, std::chrono::milliseconds interval)
    : feeds_(feeds), timer_(io), interval_(interval) {}

void AlertHub::Start() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (running_) return;
    running_ = true;
    cursor_ = feeds_.newest_alert();
  }
  Arm();
}

void AlertHub::Stop() {
  std::lock_guard<std::mutex> lock(mu_);
  running_ = false;  // the next tick returns without re-arming
}

uint64_t AlertHub::Subscribe(const std::shared_ptr<AlertSubscriber>& subscriber) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = std::find_if(subscribers_.begin(), subscribers_.end(),
                         [&](const auto& entry) { return entry.first == subscriber.get(); });
  if (it == subscribers_.end()) subscribers_.emplace_back(subscriber.get(), subscriber);
  // Not just the cursor: alerts readable now but not read yet (the next
  // tick's) are history too. Under mu_, so every later alert is read by a
  // tick that has this subscriber in its snapshot.
  return std::max(cursor_, feeds_.newest_alert());
}

void AlertHub::Unsubscribe(const AlertSubscriber* subscriber) {
  std::lock_guard<std::mutex> lock(mu_);
  std::erase_if(subscribers_, [&](const auto& entry) { return entry.first == subscriber; });
}

size_t AlertHub::subscribers() const {
  std::lock_guard<std::mutex> lock(mu_);
  return subscribers_.size();
}

uint64_t AlertHub::published() const {
  std::lock_guard<std::mutex> lock(mu_);
  return published_;
}

void AlertHub::Arm() {
  timer_.expires_after(interval_);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) Tick();
  });
}

void AlertHub::Tick() {
  std::vector<std::shared_ptr<AlertSubscriber>> targets;
  auto batch = std::make_shared<AlertBatch>();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!running_) return;
    const uint64_t newest = feeds_.newest_alert();
    if (newest > cursor_ && subscribers_.empty()) {
      cursor_ = newest;  // nobody listens: nothing to read
    } else if (newest > cursor_) {
      // Held across the read: a subscriber added meanwhile must see either
      // this read (it is in `targets`) or the cursor after it.
      while (cursor_ < newest && batch->size() < kMaxPerTick) {
        auto page = feeds_.ReadAlerts(cursor_, kMaxPerTick - batch->size());
        if (!page.ok()) {
          // Retried on the next tick from the same cursor: nothing is lost.
          if (failures_logged_++ % 600 == 0) spdlog::warn("pubsub: reading the alert log failed; retrying");
          break;
        }
        if (page.value.cursor != core::FeedCursor::kOk) {
          spdlog::warn("pubsub: alerts after seq {} are no longer readable; publishing from seq {}", cursor_,
                       page.value.newest);
          cursor_ = page.value.newest;
          break;
        }
        if (page.value.records.empty()) break;
        for (const core::AuditEntry& record : page.value.records) {
          batch->push_back(PublishedAlert{record.seq, commands::AlertJson(record)});
        }
        cursor_ = page.value.records.back().seq;
      }
      published_ += batch->size();
      if (!batch->empty()) {
        for (auto it = subscribers_.begin(); it != subscribers_.end();) {
          if (auto subscriber = it->second.lock()) {
            targets.push_back(std::move(subscriber));
            ++it;
          } else {
            it = subscribers_.erase(it);
          }
        }
      }
    }
  }
  std::shared_ptr<const AlertBatch> shared = std::move(batch);
  for (const auto& subscriber : targets) subscriber->PostAlerts(shared);
  Arm();
}

}  // namespace tally::net
