// The transport core both servers share (net/transport.h), piece by piece:
// the durability batch's group commit and fail-closed outcome, the session
// registry's condition-driven drain, the I/O threads' exception guard, and
// the listener's backoff when accept() fails (out of file descriptors).

#include "net/transport.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <stdexcept>
#include <thread>

#include "eventually.h"
#include "fd_exhaustion.h"
#include "socket_io.h"

namespace tally::net {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using ::tally::fixtures::Eventually;

// ---- durability batch ---------------------------------------------------------

class CountingLog final : public DurableLog {
 public:
  bool IsDurable(uint64_t) const override { return false; }
  storage::Status AwaitDurable(uint64_t ticket) override {
    ++waits;
    max_ticket_seen = std::max(max_ticket_seen, ticket);
    return fail ? storage::Status::IoError("disk on fire") : storage::Status::Ok();
  }
  int waits = 0;
  uint64_t max_ticket_seen = 0;
  bool fail = false;
};

class RecordingWaiter final : public DurabilityWaiter {
 public:
  void OnDurable(const storage::Status& status) override {
    ++calls;
    last = status;
    if (then) std::exchange(then, nullptr)();
  }
  int calls = 0;
  storage::Status last;
  std::function<void()> then;  // runs once, inside OnDurable
};

TEST(DurabilityBatch, HoldsOfOneTurnShareOneWaitForTheHighestTicket) {
  asio::io_context io;
  DurabilityBatch batch(io);
  CountingLog log;
  auto a = std::make_shared<RecordingWaiter>();
  auto b = std::make_shared<RecordingWaiter>();
  auto c = std::make_shared<RecordingWaiter>();
  asio::post(io, [&] {
    batch.Hold(a, log, 7);
    batch.Hold(b, log, 9);
    batch.Hold(c, log, 3);
    EXPECT_EQ(log.waits, 0) << "the wait runs after this turn, not inside Hold";
  });
  io.run();
  EXPECT_EQ(log.waits, 1);
  EXPECT_EQ(log.max_ticket_seen, 9u);
  for (auto* waiter : {a.get(), b.get(), c.get()}) {
    EXPECT_EQ(waiter->calls, 1);
    EXPECT_TRUE(waiter->last.ok());
  }
}

TEST(DurabilityBatch, AFailedWaitIsHandedToEveryWaiter) {
  asio::io_context io;
  DurabilityBatch batch(io);
  CountingLog log;
  log.fail = true;
  auto a = std::make_shared<RecordingWaiter>();
  auto b = std::make_shared<RecordingWaiter>();
  asio::post(io, [&] {
    batch.Hold(a, log, 1);
    batch.Hold(b, log, 2);
  });
  io.run();
  EXPECT_EQ(log.waits, 1);
  EXPECT_FALSE(a->last.ok());
  EXPECT_FALSE(b->last.ok());
  EXPECT_EQ(b->last.message(), "disk on fire");
}

TEST(DurabilityBatch, AHoldWhileBeingNotifiedGoesToTheNextFlush) {
  asio::io_context io;
  DurabilityBatch batch(io);
  CountingLog log;
  auto first = std::make_shared<RecordingWaiter>();
  auto second = std::make_shared<RecordingWaiter>();
  first->then = [&] { batch.Hold(second, log, 5); };
  asio::post(io, [&] { batch.Hold(first, log, 4); });
  io.run();
  EXPECT_EQ(log.waits, 2);
  EXPECT_EQ(first->calls, 1);
  EXPECT_EQ(second->calls, 1);
  EXPECT_EQ(log.max_ticket_seen, 5u);
}

TEST(DurabilityBatch, EachLogIsWaitedOnOnceWithItsOwnOutcome) {
  asio::io_context io;
  DurabilityBatch batch(io);
  CountingLog good, bad;
  bad.fail = true;
  auto on_good = std::make_shared<RecordingWaiter>();
  auto on_bad = std::make_shared<RecordingWaiter>();
  auto on_good_too = std::make_shared<RecordingWaiter>();
  asio::post(io, [&] {
    batch.Hold(on_good, good, 1);
    batch.Hold(on_bad, bad, 2);
    batch.Hold(on_good_too, good, 3);
  });
  io.run();
  EXPECT_EQ(good.waits, 1);
  EXPECT_EQ(bad.waits, 1);
  EXPECT_TRUE(on_good->last.ok());
  EXPECT_TRUE(on_good_too->last.ok());
  EXPECT_FALSE(on_bad->last.ok());
}

// ---- session registry ---------------------------------------------------------

class FakeSession final : public Session, public std::enable_shared_from_this<FakeSession> {
 public:
  explicit FakeSession(SessionRegistry& registry, bool close_when_asked = false)
      : registry_(registry), close_when_asked_(close_when_asked) {}
  void Start() { Join(registry_, shared_from_this()); }
  void Finish() { Leave(); }
  void BeginShutdown() override {
    shutdown_requests.fetch_add(1);
    if (close_when_asked_) Leave();
  }
  void CloseNow() override {
    closed_now = true;
    Leave();
  }
  std::atomic<int> shutdown_requests{0};
  bool closed_now = false;

 private:
  SessionRegistry& registry_;
  const bool close_when_asked_;
};

TEST(SessionRegistry, DrainOfAnEmptyRegistryReturnsAtOnce) {
  SessionRegistry registry;
  auto started = Clock::now();
  EXPECT_TRUE(registry.Drain(Clock::now() + 10s));
  EXPECT_LT(Clock::now() - started, 100ms);
}

TEST(SessionRegistry, DrainAsksEverySessionAndWakesWhenTheLastOneLeaves) {
  SessionRegistry registry;
  auto idle = std::make_shared<FakeSession>(registry, /*close_when_asked=*/true);
  auto busy1 = std::make_shared<FakeSession>(registry);
  auto busy2 = std::make_shared<FakeSession>(registry);
  for (auto* s : {idle.get(), busy1.get(), busy2.get()}) s->Start();
  EXPECT_EQ(registry.size(), 3u);
  // The busy ones finish what they owe 100 and 200 ms later.
  const auto started = Clock::now();
  std::thread finisher([&] {
    std::this_thread::sleep_for(100ms);
    busy1->Finish();
    std::this_thread::sleep_for(100ms);
    busy2->Finish();
  });
  EXPECT_TRUE(registry.Drain(Clock::now() + 10s));
  const auto took = Clock::now() - started;
  finisher.join();
  EXPECT_GE(took, 190ms);
  EXPECT_LT(took, 1s) << "woken by the last leave, not by the deadline";
  EXPECT_EQ(idle->shutdown_requests.load(), 1);
  EXPECT_EQ(busy1->shutdown_requests.load(), 1);
  EXPECT_EQ(registry.size(), 0u);
}

TEST(SessionRegistry, DrainGivesUpAtTheDeadlineAndCloseAllClosesTheRest) {
  SessionRegistry registry;
  auto stuck = std::make_shared<FakeSession>(registry);
  stuck->Start();
  auto started = Clock::now();
  EXPECT_FALSE(registry.Drain(Clock::now() + 150ms));
  EXPECT_GE(Clock::now() - started, 140ms);
  EXPECT_EQ(registry.size(), 1u);
  registry.CloseAll();
  EXPECT_TRUE(stuck->closed_now);
  EXPECT_EQ(registry.size(), 0u);
}

TEST(SessionRegistry, ASessionJoiningDuringTheDrainIsAskedToShutDownAtOnce) {
  SessionRegistry registry;
  auto stuck = std::make_shared<FakeSession>(registry);
  stuck->Start();
  std::thread drainer([&] { registry.Drain(Clock::now() + 10s); });
  ASSERT_TRUE(Eventually([&] { return stuck->shutdown_requests.load() == 1; }));
  auto late = std::make_shared<FakeSession>(registry, /*close_when_asked=*/true);
  late->Start();
  EXPECT_EQ(late->shutdown_requests.load(), 1);
  stuck->Finish();
  drainer.join();
  EXPECT_EQ(registry.size(), 0u);
}

TEST(SessionRegistry, ADestroyedSessionLeaves) {
  SessionRegistry registry;
  {
    auto session = std::make_shared<FakeSession>(registry);
    session->Start();
    EXPECT_EQ(registry.size(), 1u);
  }
  EXPECT_EQ(registry.size(), 0u);
  EXPECT_TRUE(registry.Drain(Clock::now()));
}

// ---- I/O threads ----------------------------------------------------------------

TEST(IoThreadPool, AThrowingHandlerDoesNotStopItsThread) {
  IoThreadPool pool("test-io", 1);
  pool.Start();
  asio::post(pool.thread(0).io, [] { throw std::runtime_error("handler exploded"); });
  asio::post(pool.thread(0).io, [] { throw 42; });
  std::promise<std::thread::id> ran;
  asio::post(pool.thread(0).io, [&] { ran.set_value(std::this_thread::get_id()); });
  auto future = ran.get_future();
  ASSERT_EQ(future.wait_for(5s), std::future_status::ready);
  EXPECT_NE(future.get(), std::this_thread::get_id());
  pool.Stop();
  EXPECT_FALSE(pool.running());
}

TEST(IoThreadPool, NextGoesRoundRobin) {
  IoThreadPool pool("test-io", 3);
  EXPECT_EQ(pool.size(), 3u);
  EXPECT_EQ(pool.Next().index, 0u);
  EXPECT_EQ(pool.Next().index, 1u);
  EXPECT_EQ(pool.Next().index, 2u);
  EXPECT_EQ(pool.Next().index, 0u);
}

// ---- listener -------------------------------------------------------------------

TEST(Listener, AcceptFailuresBackOffInsteadOfSpinning) {
  IoThreadPool pool("test-io", 2);
  std::atomic<int> accepted{0};
  Listener<asio::ip::tcp> listener(pool, "test", [&](asio::ip::tcp::socket socket, IoThread&) {
    accepted.fetch_add(1);
    boost::system::error_code ignored;
    socket.close(ignored);
  });
  ASSERT_TRUE(listener.Listen({asio::ip::make_address("127.0.0.1"), 0}, "127.0.0.1:0").ok());
  const int port = listener.local_endpoint().port();
  listener.Start();
  pool.Start();

  int client = -1;
  {
    fixtures::FdExhaustion exhaustion(/*spare=*/1);
    ASSERT_TRUE(exhaustion.exhausted());
    // The handshake completes in the kernel; accept() then fails with EMFILE.
    client = itest::ConnectLoopbackTcp(port, 2s);
    ASSERT_GE(client, 0) << "cannot connect";
    std::this_thread::sleep_for(500ms);
    const uint64_t failures = listener.accept_failures();
    EXPECT_GE(failures, 2u);
    // One try per 50 ms backoff; a spinning acceptor fails thousands of times.
    EXPECT_LE(failures, 20u);
    EXPECT_EQ(accepted.load(), 0);
  }
  // Descriptors are back: the waiting connection is accepted.
  EXPECT_TRUE(Eventually([&] { return accepted.load() == 1; }));
  ::close(client);
  listener.StopAccepting();
  pool.Stop();
  listener.Close();
}

TEST(Listener, StopAcceptingClosesTheAcceptorOnItsThread) {
  IoThreadPool pool("test-io", 1);
  std::atomic<int> accepted{0};
  Listener<asio::ip::tcp> listener(pool, "test", [&](asio::ip::tcp::socket, IoThread&) { accepted.fetch_add(1); });
  ASSERT_TRUE(listener.Listen({asio::ip::make_address("127.0.0.1"), 0}, "127.0.0.1:0").ok());
  const int port = listener.local_endpoint().port();
  listener.Start();
  pool.Start();
  int first = itest::ConnectLoopbackTcp(port, 500ms);
  ASSERT_GE(first, 0);
  ASSERT_TRUE(Eventually([&] { return accepted.load() == 1; }));
  listener.StopAccepting();
  EXPECT_TRUE(Eventually([&] {
    int fd = itest::ConnectLoopbackTcp(port, 500ms);
    if (fd >= 0) ::close(fd);
    return fd < 0;
  })) << "still accepting after StopAccepting";
  ::close(first);
  pool.Stop();
  listener.Close();  // idempotent
}

TEST(Listener, ListenFailureNamesThePlace) {
  IoThreadPool pool("test-io", 1);
  Listener<asio::ip::tcp> first(pool, "first", [](asio::ip::tcp::socket, IoThread&) {});
  ASSERT_TRUE(first.Listen({asio::ip::make_address("127.0.0.1"), 0}, "127.0.0.1:0").ok());
  const auto taken = first.local_endpoint();
  Listener<asio::ip::tcp> second(pool, "second", [](asio::ip::tcp::socket, IoThread&) {});
  storage::Status s = second.Listen(taken, "the test's port");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.ToString().find("cannot listen on the test's port: "), std::string::npos) << s.ToString();
}

}  // namespace
}  // namespace tally::net
