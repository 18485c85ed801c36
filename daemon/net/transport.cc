#include "net/transport.h"

#include <pthread.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <type_traits>

namespace tally::net {

using error_code = boost::system::error_code;

// ---- durability batch ---------------------------------------------------------

void DurabilityBatch::Hold(std::shared_ptr<DurabilityWaiter> waiter, DurableLog& log, uint64_t ticket) {
  held_.push_back(Held{std::move(waiter), &log});
  auto wait = std::find_if(waits_.begin(), waits_.end(), [&](const Wait& w) { return w.log == &log; });
  if (wait == waits_.end()) {
    waits_.push_back(Wait{&log, ticket, {}});
  } else if (ticket > wait->max_ticket) {
    wait->max_ticket = ticket;
  }
  if (!scheduled_) {
    scheduled_ = true;
    asio::post(io_, [this] { Flush(); });
  }
}

void DurabilityBatch::Flush() {
  scheduled_ = false;
  for (Wait& wait : waits_) wait.status = wait.log->AwaitDurable(wait.max_ticket);
  // Waiters may hold again while being notified (a pipelined write after the
  // reply was sent): those go to the next flush.
  running_.swap(held_);
  std::vector<Wait> waits;
  waits.swap(waits_);
  for (Held& held : running_) {
    const Wait& wait = *std::find_if(waits.begin(), waits.end(), [&](const Wait& w) { return w.log == held.log; });
    held.waiter->OnDurable(wait.status);
  }
  running_.clear();
  // Keep the one-entry vector's capacity for the next turn unless someone held meanwhile.
  if (waits_.empty()) {
    waits.clear();
    waits_.swap(waits);
  }
}

// ---- I/O threads -------------------------------------------------------------

IoThreadPool::IoThreadPool(std::string name, int threads) : name_(std::move(name)) {
  const int count = std::max(1, threads);
  for (int i = 0; i < count; ++i) {
    threads_.push_back(std::make_unique<IoThread>(static_cast<size_t>(i)));
    // Creates the loop's reactor (its epoll and eventfd descriptors) now.
    // Lazily, the first socket accepted for this loop would create it inside
    // the acceptor's handler, where running out of descriptors throws.
    asio::steady_timer reactor_now(threads_.back()->io);
  }
}

IoThreadPool::~IoThreadPool() { Stop(); }

void IoThreadPool::Start() {
  if (running_) return;
  running_ = true;
  for (auto& thread : threads_) {
    IoThread* t = thread.get();
    t->thread = std::thread([this, t] { Run(*t); });
  }
}

void IoThreadPool::Run(IoThread& thread) {
  // Linux thread names are at most 15 bytes.
  const std::string thread_name = (name_ + "-" + std::to_string(thread.index)).substr(0, 15);
  pthread_setname_np(pthread_self(), thread_name.c_str());
  auto guard = asio::make_work_guard(thread.io);
  for (;;) {
    // A handler that throws unwinds out of run(); the session it belonged to
    // is dropped with the handler, the other connections of this thread go on.
    try {
      thread.io.run();
      return;  // stopped
    } catch (const std::exception& e) {
      spdlog::error("{}: an I/O handler threw, its connection is dropped: {}", thread_name, e.what());
    } catch (...) {
      spdlog::error("{}: an I/O handler threw, its connection is dropped: unknown exception", thread_name);
    }
  }
}

void IoThreadPool::Stop() {
  for (auto& thread : threads_) thread->io.stop();
  for (auto& thread : threads_) {
    if (thread->thread.joinable()) thread->thread.join();
  }
  running_ = false;
}

// ---- sessions ----------------------------------------------------------------

void Session::Join(SessionRegistry& registry, const std::shared_ptr<Session>& self) {
  registry_ = &registry;
  registry.Add(this, self);
}

void Session::Leave() {
  if (registry_ == nullptr) return;
  registry_->Remove(this);
  registry_ = nullptr;
}

void SessionRegistry::Add(Session* session, const std::shared_ptr<Session>& self) {
  bool draining;
  {
    std::lock_guard<std::mutex> lock(mu_);
    sessions_.emplace(session, self);
    draining = draining_;
  }
  // Accepted while the server drains: it closes as soon as it is idle.
  if (draining) self->BeginShutdown();
}

void SessionRegistry::Remove(Session* session) {
  bool now_empty;
  {
    std::lock_guard<std::mutex> lock(mu_);
    now_empty = sessions_.erase(session) > 0 && sessions_.empty();
  }
  if (now_empty) empty_.notify_all();
}

size_t SessionRegistry::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return sessions_.size();
}

std::vector<std::shared_ptr<Session>> SessionRegistry::Live() const {
  std::vector<std::shared_ptr<Session>> live;
  live.reserve(sessions_.size());
  for (const auto& [raw, weak] : sessions_) {
    if (auto session = weak.lock()) live.push_back(std::move(session));
  }
  return live;
}

bool SessionRegistry::Drain(std::chrono::steady_clock::time_point deadline) {
  std::vector<std::shared_ptr<Session>> live;
  {
    std::lock_guard<std::mutex> lock(mu_);
    draining_ = true;  // from here on, Add() shuts new sessions down itself
    live = Live();
  }
  for (auto& session : live) session->BeginShutdown();
  live.clear();  // our references must not keep a closed session alive
  std::unique_lock<std::mutex> lock(mu_);
  return empty_.wait_until(lock, deadline, [this] { return sessions_.empty(); });
}

void SessionRegistry::CloseAll() {
  std::vector<std::shared_ptr<Session>> live;
  {
    std::lock_guard<std::mutex> lock(mu_);
    live = Live();
  }
  for (auto& session : live) session->CloseNow();
}

void DrainAndStop(std::string_view name, SessionRegistry& registry, IoThreadPool& pool, int64_t drain_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(std::max<int64_t>(0, drain_ms));
  if (!registry.Drain(deadline)) {
    spdlog::warn("{}: {} connections still busy after the {} ms drain; closing them", name, registry.size(), drain_ms);
  }
  pool.Stop();
  registry.CloseAll();
}

// ---- listeners ---------------------------------------------------------------

template <typename Protocol>
Listener<Protocol>::Listener(IoThreadPool& pool, std::string name, AcceptHandler on_accept)
    : pool_(pool),
      name_(std::move(name)),
      on_accept_(std::move(on_accept)),
      acceptor_(pool.thread(0).io),
      backoff_(pool.thread(0).io) {}

template <typename Protocol>
storage::Status Listener<Protocol>::Listen(const Endpoint& endpoint, const std::string& where) {
  error_code ec;
  acceptor_.open(endpoint.protocol(), ec);
  if constexpr (std::is_same_v<Protocol, asio::ip::tcp>) {
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  }
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    error_code ignored;
    acceptor_.close(ignored);
    return storage::Status::IoError("cannot listen on " + where + ": " + ec.message());
  }
  return storage::Status::Ok();
}

template <typename Protocol>
typename Listener<Protocol>::Endpoint Listener<Protocol>::local_endpoint() const {
  error_code ignored;
  return acceptor_.local_endpoint(ignored);
}

template <typename Protocol>
void Listener<Protocol>::Start() {
  if (acceptor_.is_open()) Accept();
}

template <typename Protocol>
void Listener<Protocol>::Accept() {
  IoThread& target = pool_.Next();
  acceptor_.async_accept(target.io, [this, &target](const error_code& ec, Socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
    if (ec) return OnAcceptFailed(ec);
    if (failure_streak_ > 0) {
      spdlog::info("{}: accepting again after {} failed accepts", name_, failure_streak_);
      failure_streak_ = 0;
    }
    // The accept loop must survive whatever setting up one connection throws
    // (bad_alloc, a descriptor for its loop): that connection is dropped.
    try {
      on_accept_(std::move(socket), target);
    } catch (const std::exception& e) {
      return OnAcceptFailed(error_code(), e.what());
    }
    Accept();
  });
}

template <typename Protocol>
void Listener<Protocol>::OnAcceptFailed(const error_code& ec, std::string_view what) {
  // E.g. out of file descriptors: the pending connection stays in the
  // backlog and every retry would fail at once, so wait instead of spinning.
  accept_failures_.fetch_add(1, std::memory_order_relaxed);
  // One line when a streak starts, then at most one per kAcceptLogInterval
  // however long it lasts: the log cannot fill the disk it may be short of.
  const auto now = std::chrono::steady_clock::now();
  if (failure_streak_++ == 0 || now - last_failure_log_ >= kAcceptLogInterval) {
    last_failure_log_ = now;
    spdlog::warn("{}: accept failed: {} (retrying every {} ms; {} failed in a row)", name_,
                 ec ? ec.message() : std::string(what), kAcceptBackoff.count(), failure_streak_);
  }
  backoff_.expires_after(kAcceptBackoff);
  backoff_.async_wait([this](const error_code& wait_ec) {
    if (!wait_ec && acceptor_.is_open()) Accept();
  });
}

template <typename Protocol>
void Listener<Protocol>::StopAccepting() {
  if (!pool_.running()) return Close();
  // Posted, not waited for: thread 0 may be busy with a long handler, and
  // the drain need not wait for it. A connection accepted meanwhile joins a
  // draining registry and is shut down at once.
  asio::post(acceptor_.get_executor(), [this] { Close(); });
}

template <typename Protocol>
void Listener<Protocol>::Close() {
  error_code ignored;
  acceptor_.close(ignored);
  backoff_.cancel();
}

template class Listener<asio::ip::tcp>;
template class Listener<asio::local::stream_protocol>;

std::string PeerAddress(const asio::ip::tcp::socket& socket) {
  error_code ec;
  auto endpoint = socket.remote_endpoint(ec);
  if (ec) return {};
  return endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
}

}  // namespace tally::net
