#include "net/resp_server.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <mutex>
#include <thread>
#include <unordered_set>
#include <vector>

#include "commands/dispatch.h"
#include "net/asio.h"
#include "protocol/command_table.h"
#include "protocol/errors.h"
#include "protocol/resp_writer.h"

namespace tally::net {
namespace {

using tcp = asio::ip::tcp;
using local = asio::local::stream_protocol;

constexpr size_t kInitialInputBytes = 16 * 1024;
constexpr size_t kReadChunk = 16 * 1024;
// Stop executing pipelined commands and flush once this much output is queued.
constexpr size_t kOutputHighWater = 256 * 1024;
// Output buffers larger than this are released after the write instead of kept.
constexpr size_t kOutputKeepCapacity = 1024 * 1024;

// A connection waiting for its log entries to become durable.
class DurabilityWaiter {
 public:
  virtual ~DurabilityWaiter() = default;
  virtual void OnDurable(const storage::Status& status) = 0;
};

// One per I/O thread: sessions of this thread that wait for the log. The
// flush runs as a posted handler, i.e. after every read completion already
// queued on this thread has executed, so one RocksDB write (and one fsync)
// covers all of them — the event-loop-turn group commit of Redis's AOF.
class FlushScheduler {
 public:
  FlushScheduler(asio::io_context& io, core::Engine& engine) : io_(io), engine_(engine) {}

  void Wait(std::shared_ptr<DurabilityWaiter> waiter, uint64_t ticket) {
    waiting_.push_back(std::move(waiter));
    if (ticket > max_ticket_) max_ticket_ = ticket;
    if (!scheduled_) {
      scheduled_ = true;
      asio::post(io_, [this] { Run(); });
    }
  }

  std::function<void(const storage::Status&)>* on_failure = nullptr;

 private:
  void Run() {
    scheduled_ = false;
    storage::Status status = engine_.WaitDurable(max_ticket_);
    max_ticket_ = 0;
    running_.swap(waiting_);
    if (!status.ok() && on_failure != nullptr && *on_failure) (*on_failure)(status);
    for (auto& waiter : running_) waiter->OnDurable(status);
    running_.clear();
  }

  asio::io_context& io_;
  core::Engine& engine_;
  std::vector<std::shared_ptr<DurabilityWaiter>> waiting_;
  std::vector<std::shared_ptr<DurabilityWaiter>> running_;
  uint64_t max_ticket_ = 0;
  bool scheduled_ = false;
};

struct IoThread {
  asio::io_context io{1};
  std::unique_ptr<FlushScheduler> flush;
  ThreadStats* stats = nullptr;
  std::thread thread;
};

class SessionBase {
 public:
  virtual ~SessionBase() = default;
  virtual void BeginShutdown() = 0;
};

// Live sessions, for draining at shutdown. Touched once per connection.
class SessionRegistry {
 public:
  void Add(const std::shared_ptr<SessionBase>& s) {
    std::lock_guard<std::mutex> lock(mu_);
    sessions_.insert(s.get());
    weak_.emplace(s.get(), s);
  }
  void Remove(SessionBase* s) {
    std::lock_guard<std::mutex> lock(mu_);
    sessions_.erase(s);
    weak_.erase(s);
  }
  std::vector<std::shared_ptr<SessionBase>> Snapshot() {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::shared_ptr<SessionBase>> out;
    for (auto& [raw, weak] : weak_) {
      if (auto s = weak.lock()) out.push_back(std::move(s));
    }
    return out;
  }

 private:
  std::mutex mu_;
  std::unordered_set<SessionBase*> sessions_;
  std::unordered_map<SessionBase*, std::weak_ptr<SessionBase>> weak_;
};

struct Shared {
  core::Engine& engine;
  ServerState& server;
  const protocol::CommandTable& table;
  protocol::ParserLimits limits;
  SessionRegistry registry;
};

template <typename Socket>
class RespSession final : public SessionBase,
                          public DurabilityWaiter,
                          public std::enable_shared_from_this<RespSession<Socket>> {
 public:
  RespSession(Socket socket, Shared& shared, IoThread& thread)
      : socket_(std::move(socket)),
        shared_(shared),
        thread_(thread),
        parser_(shared.limits),
        sink_(&out_),
        context_{shared.engine, shared.server, client_, *thread.stats} {
    input_.resize(kInitialInputBytes);
    client_.resp_sink = &sink_;
  }

  ~RespSession() override { shared_.server.connected_clients.fetch_sub(1); }

  void Start(std::string address) {
    client_.id = shared_.server.next_client_id.fetch_add(1);
    client_.address = std::move(address);
    client_.connected_at_ms = shared_.engine.clock().NowMs();
    shared_.registry.Add(this->shared_from_this());
    registered_ = true;
    DoRead();
  }

  void BeginShutdown() override {
    asio::post(socket_.get_executor(), [self = this->shared_from_this()] {
      self->shutting_down_ = true;
      if (!self->busy_) self->Close();
    });
  }

  void OnDurable(const storage::Status& status) override {
    if (!status.ok()) {
      // Fail closed: the replies in out_ promise writes whose log state is
      // unknown. Never send them.
      Close();
      return;
    }
    DoWrite();
  }

 private:
  void DoRead() {
    if (closed_) return;
    if (shutting_down_) return Close();
    busy_ = false;
    // Make room: move a partial command to the front, or grow for a large one.
    if (input_begin_ > 0 && input_.size() - input_end_ < kReadChunk) {
      std::memmove(input_.data(), input_.data() + input_begin_, input_end_ - input_begin_);
      input_end_ -= input_begin_;
      input_begin_ = 0;
    }
    if (input_.size() - input_end_ < kReadChunk / 4) input_.resize(input_.size() * 2);
    socket_.async_read_some(
        asio::buffer(input_.data() + input_end_, input_.size() - input_end_),
        [self = this->shared_from_this()](const boost::system::error_code& ec, size_t n) { self->OnRead(ec, n); });
  }

  void OnRead(const boost::system::error_code& ec, size_t bytes) {
    if (ec) return Close();
    busy_ = true;
    input_end_ += bytes;
    ProcessInput();
  }

  void ProcessInput() {
    bool needs_log = false;
    while (input_begin_ < input_end_) {
      std::string_view pending(input_.data() + input_begin_, input_end_ - input_begin_);
      protocol::ParseStatus status = parser_.Parse(pending);
      if (status == protocol::ParseStatus::kNeedMore) break;
      if (status == protocol::ParseStatus::kError) {
        // Framing is lost: answer with the protocol error and close.
        sink_.SendError(protocol::ErrorCode::kProtocol, parser_.error());
        context_.stats.RecordProtocolError();
        client_.close_after_reply = true;
        input_begin_ = input_end_ = 0;
        break;
      }
      input_begin_ += parser_.consumed();
      const auto& argv = parser_.command();
      if (argv.empty()) continue;
      Execute(argv, needs_log);
      if (client_.close_after_reply || out_.size() >= kOutputHighWater) break;
    }
    if (input_begin_ == input_end_) input_begin_ = input_end_ = 0;
    if (out_.empty()) {
      if (client_.close_after_reply) return Close();
      return DoRead();
    }
    if (needs_log) {
      uint64_t ticket = shared_.engine.Ticket();
      if (!shared_.engine.IsDurable(ticket)) {
        thread_.flush->Wait(this->shared_from_this(), ticket);
        return;
      }
    }
    DoWrite();
  }

  void Execute(const std::vector<std::string_view>& argv, bool& needs_log) {
    protocol::CommandArgs args(argv.data(), argv.size());
    const size_t reply_start = out_.size();
    // Every error reply counts as an error, as in Redis's total_error_replies.
    const protocol::CommandSpec* spec = commands::ResolveAndRun(
        shared_.table, context_, args, sink_, [&] { return out_.size() > reply_start && out_[reply_start] == '-'; });
    if (spec != nullptr && (spec->flags & protocol::flags::kWrite)) needs_log = true;
  }

  void DoWrite() {
    if (closed_) return;
    asio::async_write(
        socket_, asio::buffer(out_),
        [self = this->shared_from_this()](const boost::system::error_code& ec, size_t) { self->OnWrite(ec); });
  }

  void OnWrite(const boost::system::error_code& ec) {
    if (ec) return Close();
    if (out_.capacity() > kOutputKeepCapacity) {
      std::string().swap(out_);
    } else {
      out_.clear();
    }
    if (client_.close_after_reply || shutting_down_) return Close();
    // Commands may already be buffered (we paused at the output high-water mark).
    if (input_begin_ < input_end_) return ProcessInput();
    DoRead();
  }

  void Close() {
    if (closed_) return;
    closed_ = true;
    boost::system::error_code ignored;
    socket_.shutdown(Socket::shutdown_both, ignored);
    socket_.close(ignored);
    if (registered_) shared_.registry.Remove(this);
  }

  Socket socket_;
  Shared& shared_;
  IoThread& thread_;
  protocol::RespParser parser_;
  std::vector<char> input_;
  size_t input_begin_ = 0;  // first unconsumed byte (start of the current command)
  size_t input_end_ = 0;    // end of received bytes
  std::string out_;
  protocol::RespSink sink_;
  ClientState client_;
  protocol::CommandContext context_;
  bool busy_ = false;  // between a read completion and the next read
  bool closed_ = false;
  bool shutting_down_ = false;
  bool registered_ = false;
};

}  // namespace

struct RespServer::Impl {
  Impl(core::Engine& engine, ServerState& server, RespServerOptions opts)
      : options(std::move(opts)), shared{engine, server, *server.commands, options.limits, {}} {}

  RespServerOptions options;
  Shared shared;
  std::vector<std::unique_ptr<IoThread>> threads;
  std::unique_ptr<tcp::acceptor> tcp_acceptor;
  std::unique_ptr<local::acceptor> unix_acceptor;
  std::atomic<size_t> next_thread{0};
  std::function<void(const storage::Status&)> on_failure;
  std::atomic<bool> failure_reported{false};
  std::function<void(const storage::Status&)> failure_once;
  std::unique_ptr<asio::executor_work_guard<asio::io_context::executor_type>[]> guards;
  int bound_port = 0;

  IoThread& NextThread() { return *threads[next_thread.fetch_add(1) % threads.size()]; }

  bool AdmitConnection() {
    uint64_t connected = shared.server.connected_clients.fetch_add(1) + 1;
    shared.server.total_connections.fetch_add(1);
    if (static_cast<int64_t>(connected) > options.max_clients) {
      shared.server.rejected_connections.fetch_add(1);
      return false;
    }
    return true;
  }

  template <typename Socket>
  void Reject(Socket& socket) {
    static const char kMessage[] = "-ERR max number of clients reached\r\n";
    boost::system::error_code ignored;
    asio::write(socket, asio::buffer(kMessage, sizeof(kMessage) - 1), ignored);
    socket.close(ignored);
    shared.server.connected_clients.fetch_sub(1);
  }

  void AcceptTcp() {
    IoThread& target = NextThread();
    tcp_acceptor->async_accept(target.io, [this, &target](const boost::system::error_code& ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted) return;
      if (!ec) {
        if (!AdmitConnection()) {
          Reject(socket);
        } else {
          boost::system::error_code ignored;
          socket.set_option(tcp::no_delay(true), ignored);
          std::string address;
          auto endpoint = socket.remote_endpoint(ignored);
          if (!ignored) address = endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
          auto session = std::make_shared<RespSession<tcp::socket>>(std::move(socket), shared, target);
          asio::post(target.io, [session, address]() mutable { session->Start(std::move(address)); });
        }
      } else {
        spdlog::warn("accept failed on tcp: {}", ec.message());
      }
      AcceptTcp();
    });
  }

  void AcceptUnix() {
    IoThread& target = NextThread();
    unix_acceptor->async_accept(target.io, [this, &target](const boost::system::error_code& ec, local::socket socket) {
      if (ec == asio::error::operation_aborted) return;
      if (!ec) {
        if (!AdmitConnection()) {
          Reject(socket);
        } else {
          auto session = std::make_shared<RespSession<local::socket>>(std::move(socket), shared, target);
          asio::post(target.io, [session]() { session->Start("unix"); });
        }
      } else {
        spdlog::warn("accept failed on unix socket: {}", ec.message());
      }
      AcceptUnix();
    });
  }
};

RespServer::RespServer(core::Engine& engine, ServerState& server, RespServerOptions options)
    : impl_(std::make_unique<Impl>(engine, server, std::move(options))) {
  const int count = std::max(1, impl_->options.io_threads);
  for (int i = 0; i < count; ++i) {
    auto thread = std::make_unique<IoThread>();
    thread->flush = std::make_unique<FlushScheduler>(thread->io, engine);
    thread->flush->on_failure = &impl_->failure_once;
    thread->stats = &server.AddThreadStats();
    impl_->threads.push_back(std::move(thread));
  }
  impl_->failure_once = [impl = impl_.get()](const storage::Status& status) {
    if (impl->failure_reported.exchange(true)) return;
    spdlog::critical("write-ahead log write failed, refusing all writes: {}", status.ToString());
    if (impl->on_failure) impl->on_failure(status);
  };
}

RespServer::~RespServer() {
  for (auto& thread : impl_->threads) {
    if (thread->thread.joinable()) {
      thread->io.stop();
      thread->thread.join();
    }
  }
}

void RespServer::set_on_storage_failure(std::function<void(const storage::Status&)> callback) {
  impl_->on_failure = std::move(callback);
}

int RespServer::bound_port() const { return impl_->bound_port; }

storage::Status RespServer::Start() {
  Impl& impl = *impl_;
  asio::io_context& first = impl.threads[0]->io;
  boost::system::error_code ec;
  if (impl.options.port > 0) {
    auto address = asio::ip::make_address(impl.options.bind, ec);
    if (ec) return storage::Status::InvalidArgument("--bind '" + impl.options.bind + "': " + ec.message());
    tcp::endpoint endpoint(address, static_cast<unsigned short>(impl.options.port));
    impl.tcp_acceptor = std::make_unique<tcp::acceptor>(first);
    impl.tcp_acceptor->open(endpoint.protocol(), ec);
    if (!ec) impl.tcp_acceptor->set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) impl.tcp_acceptor->bind(endpoint, ec);
    if (!ec) impl.tcp_acceptor->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return storage::Status::IoError("cannot listen on " + impl.options.bind + ":" +
                                      std::to_string(impl.options.port) + ": " + ec.message());
    }
    impl.bound_port = impl.tcp_acceptor->local_endpoint().port();
    impl.AcceptTcp();
  }
  if (!impl.options.unix_socket.empty()) {
    ::unlink(impl.options.unix_socket.c_str());  // a stale socket from a crash
    impl.unix_acceptor = std::make_unique<local::acceptor>(first);
    local::endpoint endpoint(impl.options.unix_socket);
    impl.unix_acceptor->open(endpoint.protocol(), ec);
    if (!ec) impl.unix_acceptor->bind(endpoint, ec);
    if (!ec) impl.unix_acceptor->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return storage::Status::IoError("cannot listen on unix socket " + impl.options.unix_socket + ": " + ec.message());
    }
    ::chmod(impl.options.unix_socket.c_str(), 0770);
    impl.AcceptUnix();
  }
  for (auto& thread : impl.threads) {
    IoThread* t = thread.get();
    t->thread = std::thread([t] {
      auto guard = asio::make_work_guard(t->io);
      t->io.run();
    });
  }
  return storage::Status::Ok();
}

void RespServer::Stop(int64_t drain_ms) {
  Impl& impl = *impl_;
  // 1. Stop accepting.
  if (impl.tcp_acceptor) {
    asio::post(impl.threads[0]->io, [&impl] {
      boost::system::error_code ignored;
      impl.tcp_acceptor->close(ignored);
    });
  }
  if (impl.unix_acceptor) {
    asio::post(impl.threads[0]->io, [&impl] {
      boost::system::error_code ignored;
      impl.unix_acceptor->close(ignored);
      ::unlink(impl.options.unix_socket.c_str());
    });
  }
  // 2. Ask every session to finish what it owes and close.
  for (auto& session : impl.shared.registry.Snapshot()) session->BeginShutdown();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(drain_ms);
  while (impl.shared.server.connected_clients.load() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    for (auto& session : impl.shared.registry.Snapshot()) session->BeginShutdown();
  }
  // 3. Stop the loops.
  for (auto& thread : impl.threads) thread->io.stop();
  for (auto& thread : impl.threads) {
    if (thread->thread.joinable()) thread->thread.join();
  }
  // The posted close above may not have run if the loops stopped first.
  if (!impl.options.unix_socket.empty()) ::unlink(impl.options.unix_socket.c_str());
}

}  // namespace tally::net
