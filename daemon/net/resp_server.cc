#include "net/resp_server.h"

#include <linux/sockios.h>
#include <spdlog/spdlog.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <type_traits>
#include <vector>

#include "commands/alert_json.h"
#include "commands/dispatch.h"
#include "core/glob.h"
#include "core/shard_set.h"
#include "net/alert_hub.h"
#include "net/asio.h"
#include "net/transport.h"
#include "net/unix_socket_path.h"
#include "protocol/command_table.h"
#include "protocol/errors.h"
#include "protocol/resp_writer.h"

namespace tally::net {
namespace {

using tcp = asio::ip::tcp;
using local = asio::local::stream_protocol;
using error_code = boost::system::error_code;
using SteadyClock = std::chrono::steady_clock;

constexpr size_t kInitialInputBytes = 16 * 1024;
// What the parser keeps between commands (RespParser::ReleaseMemory: 64
// arguments' spans and views, a 4 KiB inline scratch), like the input
// buffer's first 16 KiB not charged to the query buffer total.
constexpr size_t kParserSteadyBytes = 8 * 1024;
constexpr size_t kReadChunk = 16 * 1024;
// Stop executing pipelined commands and flush once this much output is queued.
constexpr size_t kOutputHighWater = 256 * 1024;
// Output buffers larger than this are released after the write instead of kept.
constexpr size_t kOutputKeepCapacity = 1024 * 1024;
// Bytes of a command name quoted in a log line.
constexpr size_t kLoggedNameBytes = 64;
// After a query buffer limit error, the connection reads and discards what
// the client still sends for up to this long before it closes: closing with
// unread input sends a reset, which can destroy the error reply before the
// client reads it.
constexpr auto kLingerAfterLimit = std::chrono::milliseconds(1000);
// How often the alert hub looks for new alerts to publish (an atomic load
// when there are none): small next to the compaction interval that makes
// alerts readable.
constexpr auto kAlertPollInterval = std::chrono::milliseconds(50);
// Most bytes one write_some hands the socket (asio's own default for
// async_write): each piece the socket takes is a sign of life, stamped as
// write progress for the pub/sub stall rule.
constexpr size_t kWritePiece = 64 * 1024;
// A subscriber holding more than this many times pubsub_output_limit, and
// more than kPubsubHardLimitFloor, is closed at once, stalled or not: the
// most memory one subscriber may take. The floor keeps a small limit from
// closing readers that keep up: a burst queues batches of up to
// AlertHub::kMaxPerTick alerts (~1 MB) every 50 ms, several of them behind
// the write in flight when the reader is a little slower than that.
constexpr size_t kPubsubHardLimitFactor = 2;
constexpr size_t kPubsubHardLimitFloor = 64 * 1024 * 1024;

// The engine's write-ahead log (the default DurableLog).
class EngineLog final : public DurableLog {
 public:
  explicit EngineLog(core::Engine& engine) : engine_(engine) {}
  bool IsDurable(uint64_t ticket) const override { return engine_.IsDurable(ticket); }
  storage::Status AwaitDurable(uint64_t ticket) override { return engine_.WaitDurable(ticket); }

 private:
  core::Engine& engine_;
};

// What every session of one server shares. Set before Start(), read-only
// after, but for the atomics.
struct Shared {
  core::Engine& engine;
  ServerState& server;
  const protocol::CommandTable& table;
  protocol::ParserLimits limits;
  std::chrono::milliseconds idle_timeout;  // 0 = never
  DurableLog* log;
  SessionRegistry registry;
  std::function<void(const storage::Status&)> on_storage_failure;
  std::atomic<bool> storage_failure_reported{false};
  std::atomic<uint64_t> idle_closed{0};
  std::atomic<uint64_t> handler_failures{0};
  // Query buffer limits (RespServerOptions); 0 = none.
  size_t client_query_buffer_limit = 0;
  size_t total_query_buffer_limit = 0;
  std::atomic<size_t> query_buffer_bytes{0};  // the sum of every session's charge
  std::atomic<uint64_t> query_buffer_closed{0};
  // Pub/sub: the `alerts` channel's publisher (set before Start), and when a
  // subscriber is closed for its output (RespServerOptions; limit 0 = never).
  AlertHub* alerts = nullptr;
  size_t pubsub_output_limit = 0;
  std::chrono::milliseconds pubsub_output_stall{0};
  std::atomic<uint64_t> pubsub_closed{0};

  // Logged and reported once (the engine refuses writes from then on).
  void ReportStorageFailure(const storage::Status& status) {
    if (storage_failure_reported.exchange(true)) return;
    spdlog::error("resp: a log write failed, replies were withheld: {}", status.ToString());
    if (on_storage_failure) on_storage_failure(status);
  }
};

// A command name as sent, safe for a log line: printable ASCII, capped.
std::string LoggableName(std::string_view name) {
  std::string out(name.substr(0, kLoggedNameBytes));
  for (char& c : out) {
    if (c < 0x20 || c > 0x7e) c = '?';
  }
  return out;
}

// A session's state machine, on its own I/O thread only:
//   DoRead -> OnRead -> ProcessInput (execute every complete command)
//     -> [DurabilityBatch::Hold -> OnDurable] -> DoWrite -> OnWrite -> DoRead
// `busy_` is true from a read completion until the next read starts, i.e.
// whenever the connection is owed a reply: drain and idle timeout leave such
// a connection alone until it is back to reading.
//
// Pub/sub messages (alerts, PostAlerts -> OnAlerts) are queued in push_buf_.
// Only one write is ever in flight: a reply's (out_) or the messages'
// (push_out_). Messages that arrive while a command is being answered go
// after its replies, in the same write; an idle subscriber's go out at once,
// its read still pending. Every write stamps last_write_progress_ when it
// starts and each time the socket takes a piece of it (StartWrite): the
// pub/sub output rule (CheckOutput) closes a subscriber for its backlog
// only when that stamp is old, i.e. the client stopped reading.
template <typename Socket>
class RespSession final : public Session,
                          public DurabilityWaiter,
                          public AlertSubscriber,
                          public std::enable_shared_from_this<RespSession<Socket>> {
 public:
  RespSession(Socket socket, Shared& shared, IoThread& thread, ThreadStats& stats)
      : socket_(std::move(socket)),
        idle_timer_(socket_.get_executor()),
        stall_timer_(socket_.get_executor()),
        shared_(shared),
        thread_(thread),
        parser_(shared.limits),
        sink_(&out_),
        context_{shared.engine, shared.server, client_, stats} {
    input_.resize(kInitialInputBytes);
    client_.resp_sink = &sink_;
  }

  // Counted connected from admission (the acceptor increments) until closed.
  ~RespSession() override {
    if (!closed_) shared_.server.connected_clients.fetch_sub(1);
    SetCharge(0);
  }

  // The first step on the session's own thread.
  void Start(std::string address) {
    client_.id = shared_.server.next_client_id.fetch_add(1);
    client_.address = std::move(address);
    client_.connected_at_ms = shared_.engine.clock().NowMs();
    client_.identity = shared_.server.access.initial();
    Join(shared_.registry, this->shared_from_this());
    if (shared_.idle_timeout.count() > 0) {
      last_activity_ = SteadyClock::now();
      ArmIdleTimer(shared_.idle_timeout);
    }
    DoRead();
  }

  void BeginShutdown() override {
    asio::post(socket_.get_executor(), [self = this->shared_from_this()] {
      self->shutting_down_ = true;
      if (!self->busy_) self->Close();
    });
  }

  void CloseNow() override { Close(); }

  // On the hub's thread.
  void PostAlerts(std::shared_ptr<const AlertBatch> batch) override {
    asio::post(socket_.get_executor(),
               [self = this->shared_from_this(), batch = std::move(batch)] { self->OnAlerts(*batch); });
  }

  void OnDurable(const storage::Status& status) override {
    if (!status.ok()) {
      // Fail closed: the replies in out_ promise writes whose log state is
      // unknown. Never send them: one error says why, then the connection
      // closes (the client cannot tell which of its pipelined commands ran).
      shared_.ReportStorageFailure(status);
      out_.clear();
      if (status.code() == storage::Status::Code::kNoSpace) {
        sink_.SendError(protocol::ErrorCode::kDiskFull, protocol::errors::kDiskFullOutcomeUnknown);
      } else {
        sink_.SendError(protocol::ErrorCode::kStorageFailed, protocol::errors::kStorageFailed);
      }
      client_.close_after_reply = true;
      return DoWrite();
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
    if (input_.size() - input_end_ < kReadChunk / 4 && !GrowInput()) return;
    socket_.async_read_some(asio::buffer(input_.data() + input_end_, input_.size() - input_end_),
                            [self = this->shared_from_this()](const error_code& ec, size_t n) { self->OnRead(ec, n); });
    FlushPushes();
  }

  void OnRead(const error_code& ec, size_t bytes) {
    if (closed_) return;
    if (ec) return Close();
    busy_ = true;
    // One clock read per read, not per command, and none without a timeout.
    if (shared_.idle_timeout.count() > 0) last_activity_ = SteadyClock::now();
    input_end_ += bytes;
    ProcessInput();
  }

  void ProcessInput() {
    bool needs_log = false;
    bool incomplete = false;  // the buffer ends with part of a request
    while (input_begin_ < input_end_) {
      std::string_view pending(input_.data() + input_begin_, input_end_ - input_begin_);
      protocol::ParseStatus status = parser_.Parse(pending);
      if (status == protocol::ParseStatus::kNeedMore) {
        incomplete = true;
        break;
      }
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
      if ((client_.subscriptions() > 0) != subscribed_) UpdateSubscription();
      if (client_.close_after_reply || out_.size() >= kOutputHighWater) break;
    }
    if (input_begin_ == input_end_) {
      input_begin_ = input_end_ = 0;
      ReleaseInput();
    }
    // The parser grows with the arguments of an incomplete multibulk.
    if (incomplete && !client_.close_after_reply) CheckQueryBuffer(HeldBytes());
    if (out_.empty()) {
      if (client_.close_after_reply) return Close();
      return DoRead();
    }
    if (needs_log) {
      uint64_t ticket = shared_.engine.Ticket();
      if (!shared_.log->IsDurable(ticket)) {
        thread_.durability.Hold(this->shared_from_this(), *shared_.log, ticket);
        return;
      }
    }
    DoWrite();
  }

  void Execute(const std::vector<std::string_view>& argv, bool& needs_log) {
    protocol::CommandArgs args(argv.data(), argv.size());
    const size_t reply_start = out_.size();
    const uint64_t appends_before = core::ThreadLogAppends();
    try {
      // Every error reply counts as an error, as in Redis's total_error_replies.
      const protocol::CommandSpec* spec = commands::ResolveAndRun(
          shared_.table, context_, args, sink_, [&] { return out_.size() > reply_start && out_[reply_start] == '-'; });
      // An error reply to a write that appended nothing (refused: disk full,
      // the log failed) promises nothing and need not wait for the log.
      const bool refused =
          out_.size() > reply_start && out_[reply_start] == '-' && core::ThreadLogAppends() == appends_before;
      if (spec != nullptr && (spec->flags & protocol::flags::kWrite) && !refused) needs_log = true;
    } catch (const std::exception& e) {
      OnHandlerFailed(args, reply_start, e.what());
      needs_log = true;
    } catch (...) {
      OnHandlerFailed(args, reply_start, "unknown exception");
      needs_log = true;
    }
  }

  // A handler threw. Its partial reply is dropped and one error stands in its
  // place, so every command still gets exactly one reply and the connection
  // goes on. The error reply waits for the log like a write's (the caller
  // sets needs_log): the handler may have written before it threw.
  void OnHandlerFailed(protocol::CommandArgs args, size_t reply_start, std::string_view what) {
    out_.resize(reply_start);
    sink_.SendError(protocol::ErrorCode::kInternal, kInternalError);
    shared_.handler_failures.fetch_add(1, std::memory_order_relaxed);
    const std::string name = LoggableName(args[0]);
    spdlog::error("resp: command '{}' failed on client {}: {}", name, client_.id, what);
    if (const protocol::CommandSpec* spec = shared_.table.Find(args[0])) {
      context_.stats.RecordCommand(shared_.table.IndexOf(spec), 0, /*error=*/true);
    }
  }

  void DoWrite() {
    if (closed_) return;
    // One write at a time: the replies follow the messages being written.
    if (push_writing_) {
      reply_after_push_ = true;
      return;
    }
    // Messages that arrived while the commands ran go after their replies.
    if (!push_buf_.empty()) {
      out_.append(push_buf_);
      push_buf_.clear();
    }
    reply_writing_ = true;
    StartWrite(out_, [self = this->shared_from_this()](const error_code& ec, size_t) { self->OnWrite(ec); });
  }

  // Writes all of `buffer` (it must outlive the write), stamping
  // last_write_progress_ now and after every piece the socket takes. The
  // completion condition runs on this session's thread, like the handler.
  template <typename Handler>
  void StartWrite(const std::string& buffer, Handler&& handler) {
    last_write_progress_ = SteadyClock::now();
    asio::async_write(
        socket_, asio::buffer(buffer),
        [this](const error_code& ec, size_t transferred) -> size_t {
          if (transferred > 0) last_write_progress_ = SteadyClock::now();  // called once per piece written
          return ec ? 0 : kWritePiece;
        },
        std::forward<Handler>(handler));
  }

  void OnWrite(const error_code& ec) {
    reply_writing_ = false;
    if (closed_) return;
    if (ec) return Close();
    if (out_.capacity() > kOutputKeepCapacity) {
      std::string().swap(out_);
    } else {
      out_.clear();
    }
    if (shared_.idle_timeout.count() > 0) last_activity_ = SteadyClock::now();
    if (linger_after_reply_ && !shutting_down_) return Linger();
    if (client_.close_after_reply || shutting_down_) return Close();
    // Commands may already be buffered (we paused at the output high-water mark).
    if (input_begin_ < input_end_) return ProcessInput();
    DoRead();
  }

  // --- query buffer limits ---------------------------------------------------
  // What an incomplete request holds is charged to the server-wide total:
  // the input buffer above the kInitialInputBytes every connection has, and
  // the parser's buffers above kParserSteadyBytes. Checked when the input buffer would grow and after
  // each parse that ended half-way through a request.

  size_t HeldBytes() const { return input_.size() + parser_.held_bytes(); }

  void SetCharge(size_t held) {
    constexpr size_t kUncharged = kInitialInputBytes + kParserSteadyBytes;
    const size_t charge = held > kUncharged ? held - kUncharged : 0;
    if (charge == charged_) return;  // the common case: no shared cache line touched
    if (charge > charged_) {
      shared_.query_buffer_bytes.fetch_add(charge - charged_, std::memory_order_relaxed);
    } else {
      shared_.query_buffer_bytes.fetch_sub(charged_ - charge, std::memory_order_relaxed);
    }
    charged_ = charge;
  }

  // Charges `held` bytes; false (and the client is being closed with the
  // error) if a limit does not allow them.
  bool CheckQueryBuffer(size_t held) {
    if (shared_.client_query_buffer_limit > 0 && held > shared_.client_query_buffer_limit) {
      OverQueryBufferLimit("client_query_buffer_limit", shared_.client_query_buffer_limit);
      return false;
    }
    const size_t before = charged_;
    SetCharge(held);
    if (shared_.total_query_buffer_limit > 0 && charged_ > before &&
        shared_.query_buffer_bytes.load(std::memory_order_relaxed) > shared_.total_query_buffer_limit) {
      OverQueryBufferLimit("total_query_buffer_limit", shared_.total_query_buffer_limit);
      return false;
    }
    return true;
  }

  // Doubles the input buffer for a request larger than it; false if a limit
  // forbids it (the error is then being sent).
  bool GrowInput() {
    size_t size = input_.size() * 2;
    const size_t limit = shared_.client_query_buffer_limit;
    // Up to the limit rather than past it: a request just under the limit fits.
    if (limit > 0) size = std::min(size, limit > parser_.held_bytes() ? limit - parser_.held_bytes() : 0);
    if (size <= input_.size()) size = input_.size() + kReadChunk;  // over the limit: CheckQueryBuffer says so
    if (!CheckQueryBuffer(size + parser_.held_bytes())) {
      busy_ = true;  // owed the error reply
      DoWrite();
      return false;
    }
    input_.resize(size);
    return true;
  }

  // Between requests: a buffer grown for a large request goes back to its
  // initial size, and its memory to the system.
  void ReleaseInput() {
    if (input_.size() > kInitialInputBytes) std::vector<char>(kInitialInputBytes).swap(input_);
    parser_.ReleaseMemory();
    SetCharge(HeldBytes());
  }

  // The request cannot be buffered: answer the error, drop what was
  // buffered, and close once the reply is written (the framing is lost).
  void OverQueryBufferLimit(std::string_view setting, size_t limit) {
    shared_.query_buffer_closed.fetch_add(1, std::memory_order_relaxed);
    spdlog::warn("resp: closing client {} ({}): an incomplete request holds {} bytes, over {} ({} bytes)", client_.id,
                 client_.address, HeldBytes(), setting, limit);
    sink_.SendError(protocol::ErrorCode::kQueryBufferLimit,
                    protocol::errors::QueryBufferLimit(setting, static_cast<int64_t>(limit)));
    client_.close_after_reply = true;
    linger_after_reply_ = true;
    input_begin_ = input_end_ = 0;
    parser_ = protocol::RespParser(shared_.limits);  // drops the half-parsed request's state
    ReleaseInput();
  }

  // The error is written: send FIN, discard what still arrives (into the
  // 16 KiB buffer: no memory grows), close at EOF or after kLingerAfterLimit.
  void Linger() {
    busy_ = false;  // owed nothing more: a shutdown closes it at once
    error_code ignored;
    socket_.shutdown(Socket::shutdown_send, ignored);
    idle_timer_.expires_after(kLingerAfterLimit);  // the idle timer's own wait ends with operation_aborted
    idle_timer_.async_wait([self = this->shared_from_this()](const error_code& ec) {
      if (!ec) self->Close();
    });
    Discard();
  }

  void Discard() {
    socket_.async_read_some(asio::buffer(input_.data(), input_.size()),
                            [self = this->shared_from_this()](const error_code& ec, size_t) {
                              if (self->closed_) return;
                              if (ec) return self->Close();
                              self->Discard();
                            });
  }

  // --- idle timeout (Redis's `timeout`) --------------------------------------
  // One coarse timer per connection, re-armed when it fires, never per
  // command: it compares last_activity_ (stamped per read and per write) with
  // the timeout and sleeps for the rest.

  void ArmIdleTimer(SteadyClock::duration after) {
    idle_timer_.expires_after(after);
    idle_timer_.async_wait([self = this->shared_from_this()](const error_code& ec) {
      if (!ec) self->OnIdleTimer();
    });
  }

  void OnIdleTimer() {
    if (closed_) return;
    // Owed a reply (executing, waiting for the log, or a client that does
    // not read its replies): not idle, whatever the clock says.
    if (busy_) return ArmIdleTimer(shared_.idle_timeout);
    // As in Redis, a subscriber waits for messages without a deadline.
    if (subscribed_) return ArmIdleTimer(shared_.idle_timeout);
    const SteadyClock::duration idle = SteadyClock::now() - last_activity_;
    if (idle < shared_.idle_timeout) return ArmIdleTimer(shared_.idle_timeout - idle);
    shared_.idle_closed.fetch_add(1, std::memory_order_relaxed);
    spdlog::debug("resp: closing client {} ({}): idle for {} ms", client_.id, client_.address,
                  std::chrono::duration_cast<std::chrono::milliseconds>(idle).count());
    Close();
  }

  // --- pub/sub ---------------------------------------------------------------

  // A command changed whether the client has any subscription: join or
  // leave the alert hub. Every subscription matches `alerts` (the commands
  // refuse the others), so any subscription means listening to the hub.
  void UpdateSubscription() {
    subscribed_ = client_.subscriptions() > 0;
    if (shared_.alerts == nullptr) return;
    if (subscribed_) {
      alerts_after_ = shared_.alerts->Subscribe(this->shared_from_this());
    } else {
      shared_.alerts->Unsubscribe(this);
    }
  }

  void OnAlerts(const AlertBatch& batch) {
    // A batch posted before an UNSUBSCRIBE (or a resubscribe: alerts_after_
    // moved on) is not for this subscription.
    if (closed_ || !subscribed_ || client_.close_after_reply || linger_after_reply_) return;
    const bool resp3 = sink_.resp3();
    for (const PublishedAlert& alert : batch) {
      if (alert.seq <= alerts_after_) continue;
      alerts_after_ = alert.seq;
      for (const std::string& channel : client_.channels) {
        if (channel != commands::kAlertsChannel) continue;
        protocol::resp::AppendPushHeader(push_buf_, 3, resp3);
        protocol::resp::AppendBulk(push_buf_, "message");
        protocol::resp::AppendBulk(push_buf_, channel);
        protocol::resp::AppendBulk(push_buf_, alert.json);
      }
      for (const std::string& pattern : client_.patterns) {
        if (!core::GlobMatch(pattern, commands::kAlertsChannel)) continue;
        protocol::resp::AppendPushHeader(push_buf_, 4, resp3);
        protocol::resp::AppendBulk(push_buf_, "pmessage");
        protocol::resp::AppendBulk(push_buf_, pattern);
        protocol::resp::AppendBulk(push_buf_, commands::kAlertsChannel);
        protocol::resp::AppendBulk(push_buf_, alert.json);
      }
    }
    FlushPushes();
    CheckOutput();
  }

  // Output tallyd holds for the connection: the write in flight and what
  // waits behind it (replies being built, messages queued).
  size_t OutputBytes() const { return out_.size() + push_out_.size() + push_buf_.size(); }

  // The pub/sub output rule (Redis's client-output-buffer-limit pubsub,
  // with "stalled" in place of its soft limit's "over for N seconds"):
  //  - over the hard limit (kPubsubHardLimitFactor x pubsub_output_limit,
  //    at least kPubsubHardLimitFloor): closed at once (a reader slower
  //    than the alerts come must not take all memory);
  //  - over pubsub_output_limit while the client has taken nothing for
  //    pubsub_output_stall: closed (it stopped reading). Taking something
  //    is the socket accepting a piece of our write, or the kernel's send
  //    queue shrinking (with large socket buffers the kernel wakes a
  //    writer only once a good part of the queue is read, so a slow reader
  //    may go seconds between pieces). The stall timer closes it even if
  //    no further alert arrives.
  // A reader that keeps taking bytes is not closed below the hard limit,
  // however small pubsub_output_limit is next to a batch.
  void CheckOutput() {
    const size_t limit = shared_.pubsub_output_limit;
    if (closed_ || limit == 0) return;
    const size_t held = OutputBytes();
    const size_t hard_limit = std::max(limit * kPubsubHardLimitFactor, kPubsubHardLimitFloor);
    if (held > hard_limit) {
      spdlog::warn(
          "resp: closing subscriber {} ({}): {} bytes of output held, over the hard limit ({} bytes: {} x "
          "pubsub_output_limit, at least {})",
          client_.id, client_.address, held, hard_limit, kPubsubHardLimitFactor, kPubsubHardLimitFloor);
      return CloseForOutput();
    }
    if (held > limit && !stall_timer_armed_) ArmStallTimer(StallLeft());
  }

  // How long until the socket counts as stalled (<= 0: it is). Only a write
  // in flight can stall: queued output without one waits for tallyd itself
  // (a command running, the log), and its write stamps progress as it starts.
  SteadyClock::duration StallLeft() const {
    if (!push_writing_ && !reply_writing_) return shared_.pubsub_output_stall;
    return last_write_progress_ + shared_.pubsub_output_stall - SteadyClock::now();
  }

  // Bytes in the kernel's send queue for this socket (TCP: not acknowledged
  // yet; unix: not read yet), -1 if it cannot say.
  int64_t KernelQueuedBytes() {
    int queued = 0;
    if (::ioctl(socket_.native_handle(), SIOCOUTQ, &queued) != 0) return -1;
    return queued;
  }

  void ArmStallTimer(SteadyClock::duration after) {
    kernel_queued_ = KernelQueuedBytes();
    stall_timer_armed_ = true;
    stall_timer_.expires_after(after);
    stall_timer_.async_wait([self = this->shared_from_this()](const error_code& ec) {
      self->stall_timer_armed_ = false;
      if (!ec) self->OnStallTimer();
    });
  }

  // Sleeps until the next moment the subscriber could be stalled: at most
  // one wake-up per stall period while it is over the limit, none below it
  // (the next batch over it re-arms the timer).
  void OnStallTimer() {
    if (closed_ || OutputBytes() <= shared_.pubsub_output_limit) return;
    const int64_t queued = KernelQueuedBytes();
    if (queued >= 0 && queued < kernel_queued_) last_write_progress_ = SteadyClock::now();  // the client read some
    const SteadyClock::duration left = StallLeft();
    if (left > SteadyClock::duration::zero()) return ArmStallTimer(left);
    spdlog::warn(
        "resp: closing subscriber {} ({}): {} bytes of output held, over pubsub_output_limit ({} bytes), and nothing "
        "read for {} ms (pubsub_output_stall_ms)",
        client_.id, client_.address, OutputBytes(), shared_.pubsub_output_limit, shared_.pubsub_output_stall.count());
    CloseForOutput();
  }

  void CloseForOutput() {
    shared_.pubsub_closed.fetch_add(1, std::memory_order_relaxed);
    Close();
  }

  // Writes queued messages if the connection is waiting for a request (a
  // busy one sends them with its replies, DoWrite).
  void FlushPushes() {
    if (closed_ || busy_ || push_writing_ || push_buf_.empty() || shutting_down_) return;
    push_out_.swap(push_buf_);
    push_buf_.clear();
    push_writing_ = true;
    StartWrite(push_out_, [self = this->shared_from_this()](const error_code& ec, size_t) { self->OnPushWrite(ec); });
  }

  void OnPushWrite(const error_code& ec) {
    push_writing_ = false;
    if (closed_) return;
    if (ec) return Close();
    if (push_out_.capacity() > kOutputKeepCapacity) {
      std::string().swap(push_out_);
    } else {
      push_out_.clear();
    }
    if (reply_after_push_) {
      reply_after_push_ = false;
      return DoWrite();
    }
    if (shutting_down_ && !busy_) return Close();
    FlushPushes();
  }

  void Close() {
    if (closed_) return;
    closed_ = true;
    error_code ignored;
    socket_.shutdown(Socket::shutdown_both, ignored);
    socket_.close(ignored);
    idle_timer_.cancel();
    stall_timer_.cancel();
    if (subscribed_ && shared_.alerts != nullptr) shared_.alerts->Unsubscribe(this);
    subscribed_ = false;
    commands::EndTransaction(context_);  // its WATCHes hold registry entries
    std::string().swap(push_buf_);
    Leave();
    shared_.server.connected_clients.fetch_sub(1);
    std::vector<char>().swap(input_);
    SetCharge(0);
  }

  Socket socket_;
  asio::steady_timer idle_timer_;
  asio::steady_timer stall_timer_;  // the pub/sub output rule's (CheckOutput)
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
  SteadyClock::time_point last_activity_;  // last read or write; only with an idle timeout
  bool busy_ = false;                      // between a read completion and the next read
  bool closed_ = false;
  bool shutting_down_ = false;
  size_t charged_ = 0;               // this session's part of Shared::query_buffer_bytes
  bool linger_after_reply_ = false;  // closed by a query buffer limit: Linger() after the error
  // Pub/sub (see the class comment).
  bool subscribed_ = false;                      // joined the alert hub (client_ has a subscription)
  uint64_t alerts_after_ = 0;                    // the newest alert seq sent (or the hub's cursor at subscribe)
  std::string push_buf_;                         // messages not yet being written
  std::string push_out_;                         // messages being written
  bool push_writing_ = false;                    // push_out_'s write is in flight
  bool reply_after_push_ = false;                // out_ waits for that write to finish
  bool reply_writing_ = false;                   // out_'s write is in flight
  SteadyClock::time_point last_write_progress_;  // a write started or the socket took a piece of one
  bool stall_timer_armed_ = false;
  int64_t kernel_queued_ = -1;  // KernelQueuedBytes() when the stall timer was armed
};

}  // namespace

struct RespServer::Impl {
  Impl(core::Engine& engine, ServerState& server, RespServerOptions opts)
      : options(std::move(opts)),
        engine_log(engine),
        shared{engine,
               server,
               *server.commands,
               options.limits,
               std::chrono::milliseconds(std::max<int64_t>(0, options.idle_timeout_ms)),
               &engine_log,
               {},
               {}},
        pool("resp-io", options.io_threads) {
    shared.client_query_buffer_limit = static_cast<size_t>(std::max<int64_t>(0, options.client_query_buffer_limit));
    shared.total_query_buffer_limit = static_cast<size_t>(std::max<int64_t>(0, options.total_query_buffer_limit));
    shared.pubsub_output_limit = static_cast<size_t>(std::max<int64_t>(0, options.pubsub_output_limit));
    shared.pubsub_output_stall = std::chrono::milliseconds(std::max<int64_t>(0, options.pubsub_output_stall_ms));
    shared.alerts = &alert_hub;
    for (size_t i = 0; i < pool.size(); ++i) stats.push_back(&server.AddThreadStats());
  }

  // Declaration order is destruction order in reverse: the listeners go
  // before the pool, the pool (whose pending handlers hold sessions) before
  // `shared` and `stats`, which the sessions use.
  RespServerOptions options;
  EngineLog engine_log;
  Shared shared;
  std::vector<ThreadStats*> stats;  // by IoThread::index; each written by its thread only
  IoThreadPool pool;
  // Its timer is on thread 0's loop: destroyed before the pool.
  AlertHub alert_hub{shared.engine.feeds(), pool.thread(0).io, kAlertPollInterval};
  std::unique_ptr<Listener<tcp>> tcp_listener;
  std::unique_ptr<Listener<local>> unix_listener;
  int bound_port = 0;
  BoundSocketFile unix_bound;  // the socket file we bound (removed at Stop if still ours)
  bool stopped = false;

  bool Admit() {
    uint64_t connected = shared.server.connected_clients.fetch_add(1) + 1;
    shared.server.total_connections.fetch_add(1);
    if (static_cast<int64_t>(connected) > options.max_clients) {
      shared.server.rejected_connections.fetch_add(1);
      return false;
    }
    return true;
  }

  // On the acceptor's thread. The session starts on its own thread.
  template <typename Socket>
  void OnAccept(Socket socket, IoThread& thread) {
    if (!Admit()) {
      static constexpr char kMessage[] = "-ERR max number of clients reached\r\n";
      error_code ignored;
      asio::write(socket, asio::buffer(kMessage, sizeof kMessage - 1), ignored);
      socket.close(ignored);
      shared.server.connected_clients.fetch_sub(1);
      return;
    }
    std::string address = "unix";
    if constexpr (std::is_same_v<Socket, tcp::socket>) {
      error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      address = PeerAddress(socket);
    }
    auto session = std::make_shared<RespSession<Socket>>(std::move(socket), shared, thread, *stats[thread.index]);
    asio::post(thread.io, [session, address = std::move(address)]() mutable { session->Start(std::move(address)); });
  }
};

RespServer::RespServer(core::Engine& engine, ServerState& server, RespServerOptions options)
    : impl_(std::make_unique<Impl>(engine, server, std::move(options))) {}

RespServer::~RespServer() { Stop(0); }

void RespServer::set_on_storage_failure(std::function<void(const storage::Status&)> callback) {
  impl_->shared.on_storage_failure = std::move(callback);
}

void RespServer::TEST_SetDurableLog(DurableLog* log) { impl_->shared.log = log; }

int RespServer::bound_port() const { return impl_->bound_port; }

RespServerStats RespServer::stats() const {
  const Impl& impl = *impl_;
  RespServerStats out;
  if (impl.tcp_listener) out.accept_failures += impl.tcp_listener->accept_failures();
  if (impl.unix_listener) out.accept_failures += impl.unix_listener->accept_failures();
  out.idle_closed = impl.shared.idle_closed.load(std::memory_order_relaxed);
  out.handler_failures = impl.shared.handler_failures.load(std::memory_order_relaxed);
  out.query_buffer_closed = impl.shared.query_buffer_closed.load(std::memory_order_relaxed);
  out.query_buffer_bytes = impl.shared.query_buffer_bytes.load(std::memory_order_relaxed);
  out.pubsub_closed = impl.shared.pubsub_closed.load(std::memory_order_relaxed);
  out.alert_subscribers = impl.alert_hub.subscribers();
  return out;
}

storage::Status RespServer::Start() {
  Impl& impl = *impl_;
  const RespServerOptions& options = impl.options;
  if (options.port > 0 || options.ephemeral_port) {
    error_code ec;
    auto address = asio::ip::make_address(options.bind, ec);
    if (ec) return storage::Status::InvalidArgument("--bind '" + options.bind + "': " + ec.message());
    impl.tcp_listener = std::make_unique<Listener<tcp>>(
        impl.pool, "resp tcp",
        [&impl](tcp::socket socket, IoThread& thread) { impl.OnAccept(std::move(socket), thread); });
    storage::Status listening =
        impl.tcp_listener->Listen(tcp::endpoint(address, static_cast<unsigned short>(std::max(0, options.port))),
                                  options.bind + ":" + std::to_string(options.port));
    if (!listening.ok()) return listening;
    impl.bound_port = impl.tcp_listener->local_endpoint().port();
  }
  if (!options.unix_socket.empty()) {
    // A stale socket from a crash is taken over; a live server's is not.
    storage::Status claimed = ClaimUnixSocketPath(options.unix_socket);
    if (!claimed.ok()) return claimed;
    impl.unix_listener = std::make_unique<Listener<local>>(
        impl.pool, "resp unix",
        [&impl](local::socket socket, IoThread& thread) { impl.OnAccept(std::move(socket), thread); });
    storage::Status listening =
        impl.unix_listener->Listen(local::endpoint(options.unix_socket), "unix socket " + options.unix_socket);
    if (!listening.ok()) return listening;
    // Who may connect: the file's mode and group (unix_socket_mode, _group).
    if (options.unix_socket_gid >= 0 && ::chown(options.unix_socket.c_str(), static_cast<uid_t>(-1),
                                                static_cast<gid_t>(options.unix_socket_gid)) != 0) {
      return storage::Status::IoError("cannot give the unix socket " + options.unix_socket + " to group " +
                                      std::to_string(options.unix_socket_gid) + ": " + std::strerror(errno) +
                                      " (tallyd's user must be in unix_socket_group)");
    }
    if (::chmod(options.unix_socket.c_str(), options.unix_socket_mode) != 0) {
      return storage::Status::IoError("cannot set the mode of the unix socket " + options.unix_socket + ": " +
                                      std::strerror(errno));
    }
    impl.unix_bound = IdentifySocketFile(options.unix_socket);
  }
  if (impl.tcp_listener) impl.tcp_listener->Start();
  if (impl.unix_listener) impl.unix_listener->Start();
  impl.alert_hub.Start();
  impl.pool.Start();
  return storage::Status::Ok();
}

void RespServer::Stop(int64_t drain_ms) {
  Impl& impl = *impl_;
  if (impl.stopped) return;
  impl.stopped = true;
  // 1. Stop accepting and publishing (subscribers are idle connections:
  // the drain closes them at once).
  impl.alert_hub.Stop();
  if (impl.tcp_listener) impl.tcp_listener->StopAccepting();
  if (impl.unix_listener) impl.unix_listener->StopAccepting();
  // Only our own: another instance may have bound the path since.
  RemoveOwnSocketFile(impl.options.unix_socket, impl.unix_bound);
  // 2. Idle connections close now, the others once they have written the
  // replies they owe. Whatever is still open past the deadline is closed
  // with the loops stopped.
  DrainAndStop("resp", impl.shared.registry, impl.pool, drain_ms);
  // 3. Certainly closed now, whether or not thread 0 got to it.
  if (impl.tcp_listener) impl.tcp_listener->Close();
  if (impl.unix_listener) impl.unix_listener->Close();
}

}  // namespace tally::net
