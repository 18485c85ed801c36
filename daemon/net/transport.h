#pragma once
// The transport core both front ends (RespServer, HttpServer) are built on:
//
//   IoThreadPool     N I/O threads, one io_context each; connections are spread
//                    round-robin and a connection is only ever touched by its
//                    thread (no strands). An exception that escapes a handler
//                    is logged and the loop goes on.
//   DurabilityBatch  one per I/O thread: replies of writes are held, and the
//                    log is waited on once per event-loop turn for all of them
//                    (group commit). Fail closed: after a failed wait the held
//                    replies are never sent.
//   SessionRegistry  the live connections, for the drain at shutdown: Drain()
//                    asks each to finish what it owes and close, and wakes
//                    when the last one has left (a condition variable, no
//                    polling) or at the deadline.
//   Listener         an acceptor (TCP or unix socket) that hands each new
//                    connection to the next I/O thread and backs off 50 ms
//                    after a failed accept (out of file descriptors) instead
//                    of spinning.
//
// Shutdown, for a server that owns these: Listener::StopAccepting, then
// DrainAndStop (SessionRegistry::Drain with a deadline, IoThreadPool::Stop,
// SessionRegistry::CloseAll for what the deadline left open), then
// Listener::Close (the loops have stopped: nothing else touches it).
//
// Only net/*.cc include this (it includes Asio).

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "net/asio.h"
#include "net/durable_log.h"

namespace tally::net {

// The error text of a request whose handler threw (RESP "-ERR internal
// error", HTTP 500 {"code":"internal"}).
inline constexpr std::string_view kInternalError = "internal error";

// ---- durability batch ---------------------------------------------------------

// One per I/O thread; only touched on that thread. Hold() parks a waiter and
// posts one flush; Asio runs the posted flush after the completions already
// queued on the thread, so one log wait (one RocksDB write, one fsync) covers
// every connection of the thread that became readable in the same turn — the
// event-loop-turn group commit of Redis's AOF (beforeSleep).
class DurabilityBatch {
 public:
  explicit DurabilityBatch(asio::io_context& io) : io_(io) {}
  DurabilityBatch(const DurabilityBatch&) = delete;
  DurabilityBatch& operator=(const DurabilityBatch&) = delete;

  // `waiter` is told the outcome of the wait for `ticket` on `log` (which
  // must outlive the flush), in a posted handler on this thread.
  void Hold(std::shared_ptr<DurabilityWaiter> waiter, DurableLog& log, uint64_t ticket);

 private:
  void Flush();

  struct Held {
    std::shared_ptr<DurabilityWaiter> waiter;
    DurableLog* log;
  };
  // One wait per distinct log in a turn; a server has one log, so one entry.
  struct Wait {
    DurableLog* log;
    uint64_t max_ticket;
    storage::Status status;
  };

  asio::io_context& io_;
  std::vector<Held> held_;     // waiting for the next flush
  std::vector<Held> running_;  // being notified (kept for its capacity)
  std::vector<Wait> waits_;
  bool scheduled_ = false;
};

// ---- I/O threads -------------------------------------------------------------

struct IoThread {
  explicit IoThread(size_t thread_index) : index(thread_index) {}
  IoThread(const IoThread&) = delete;
  IoThread& operator=(const IoThread&) = delete;

  asio::io_context io{1};  // one thread runs it
  DurabilityBatch durability{io};
  const size_t index;  // 0 .. size-1 in the pool
  std::thread thread;
};

// Start/Stop from one control thread; Next() from any thread.
class IoThreadPool {
 public:
  // `name` prefixes the thread names ("resp-io" -> resp-io-0, ...) and log lines.
  IoThreadPool(std::string name, int threads);
  ~IoThreadPool();  // Stop()
  IoThreadPool(const IoThreadPool&) = delete;
  IoThreadPool& operator=(const IoThreadPool&) = delete;

  size_t size() const { return threads_.size(); }
  IoThread& thread(size_t index) { return *threads_[index]; }
  // The thread for the next connection (round robin).
  IoThread& Next() { return *threads_[next_.fetch_add(1, std::memory_order_relaxed) % threads_.size()]; }

  void Start();
  // Stops the loops and joins the threads; afterwards no handler runs (the
  // pending ones are destroyed with the io_contexts). Idempotent.
  void Stop();
  bool running() const { return running_; }

 private:
  void Run(IoThread& thread);

  const std::string name_;
  std::vector<std::unique_ptr<IoThread>> threads_;
  std::atomic<size_t> next_{0};
  bool running_ = false;  // only the control thread
};

// ---- sessions ----------------------------------------------------------------

class SessionRegistry;

// A connection as the registry sees it. A session joins its server's registry
// on its own thread when it starts and leaves when it closes (or, if it never
// closed, when it is destroyed).
class Session {
 public:
  virtual ~Session() { Leave(); }

  // From any thread: finish what is owed (a reply in flight) and close; close
  // at once if idle. Posts to the session's thread.
  virtual void BeginShutdown() = 0;
  // Close now. Only once the I/O threads have stopped (nothing else touches
  // the session then).
  virtual void CloseNow() = 0;

 protected:
  // On the session's thread, once. A session that joins while the registry
  // drains is asked to shut down at once.
  void Join(SessionRegistry& registry, const std::shared_ptr<Session>& self);
  // Idempotent.
  void Leave();

 private:
  SessionRegistry* registry_ = nullptr;
};

// Thread-safe. Touched twice per connection (join, leave), never per request.
class SessionRegistry {
 public:
  size_t size() const;
  // Asks every live session, and every session that joins from now on, to
  // shut down (Session::BeginShutdown), then waits until the last one has
  // left or `deadline` passed. True if none is left.
  bool Drain(std::chrono::steady_clock::time_point deadline);
  // Session::CloseNow for every session still registered: after the I/O
  // threads have stopped, for what the drain deadline left open.
  void CloseAll();

 private:
  friend class Session;
  void Add(Session* session, const std::shared_ptr<Session>& self);
  void Remove(Session* session);
  std::vector<std::shared_ptr<Session>> Live() const;  // REQUIRES: mu_ held

  mutable std::mutex mu_;
  std::condition_variable empty_;                                  // signalled when sessions_ becomes empty
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions_;  // GUARDED_BY(mu_)
  bool draining_ = false;                                          // GUARDED_BY(mu_)
};

// The second half of a server's shutdown, once its listeners are closed:
// idle sessions close at once, the others once they have sent what they owe;
// returns when the last one has closed, or after `drain_ms` stops the loops
// and closes the rest. `name` prefixes the log line about those.
void DrainAndStop(std::string_view name, SessionRegistry& registry, IoThreadPool& pool, int64_t drain_ms);

// ---- listeners ---------------------------------------------------------------

// An acceptor on thread 0's io_context of `pool`. Listen, Start,
// StopAccepting and Close from the control thread.
template <typename Protocol>
class Listener {
 public:
  using Socket = typename Protocol::socket;
  using Endpoint = typename Protocol::endpoint;
  // Called on the acceptor's thread for each new connection; `socket`
  // belongs to `thread`'s io_context (post the session's start there).
  using AcceptHandler = std::function<void(Socket socket, IoThread& thread)>;

  // How long accepting pauses after a failed accept (EMFILE, ENFILE, ENOBUFS).
  static constexpr std::chrono::milliseconds kAcceptBackoff{50};
  // While accepts keep failing, the warning is repeated at most this often.
  static constexpr std::chrono::seconds kAcceptLogInterval{10};

  // `name` names the listener in log lines ("resp tcp", "http").
  Listener(IoThreadPool& pool, std::string name, AcceptHandler on_accept);

  // Opens, binds and listens; on failure "cannot listen on <where>: <reason>".
  storage::Status Listen(const Endpoint& endpoint, const std::string& where);
  Endpoint local_endpoint() const;
  // Starts the accept loop (before or after the pool starts).
  void Start();
  // Stops accepting soon: the acceptor is closed on its thread (at once
  // when the pool is not running). Does not wait.
  void StopAccepting();
  // Closes the acceptor now: only when the pool is not running (after
  // IoThreadPool::Stop), or on thread 0. Idempotent.
  void Close();
  // Failed accepts since start (each one paused accepting for kAcceptBackoff).
  uint64_t accept_failures() const { return accept_failures_.load(std::memory_order_relaxed); }

 private:
  void Accept();
  void OnAcceptFailed(const boost::system::error_code& ec, std::string_view what = {});

  IoThreadPool& pool_;
  const std::string name_;
  const AcceptHandler on_accept_;
  // Both on thread 0's io_context; only touched there (or with the pool stopped).
  typename Protocol::acceptor acceptor_;
  asio::steady_timer backoff_;
  uint64_t failure_streak_ = 0;                               // failed accepts since the last success (thread 0)
  std::chrono::steady_clock::time_point last_failure_log_{};  // thread 0
  std::atomic<uint64_t> accept_failures_{0};
};

extern template class Listener<asio::ip::tcp>;
extern template class Listener<asio::local::stream_protocol>;

// "127.0.0.1:5678" for a connected TCP socket ("" if unknown).
std::string PeerAddress(const asio::ip::tcp::socket& socket);

}  // namespace tally::net
