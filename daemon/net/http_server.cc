// The only file that includes Boost.Beast. Beast is header-only here (no
// BOOST_BEAST_SEPARATE_COMPILATION unit): one translation unit includes it,
// so a separate unit would compile the same code once more, not less. Asio's
// implementation comes from asio_impl.cc (BOOST_ASIO_SEPARATE_COMPILATION).
//
// A session is a loop of: read the header (idle keep-alive wait included),
// read the body, call the handler, write the response — one request at a
// time, so pipelined requests are answered in order; the flat_buffer keeps
// the bytes of the next request. Threads, the session registry, the
// durability batch and the listener are the transport core's
// (net/transport.h), shared with the RESP server; each session is only ever
// touched by its I/O thread (one io_context per thread; no strand needed).
//
// Timeouts use the session's own steady_timer, not beast::tcp_stream: a
// tcp_stream closes the socket when its timer fires, and a request that
// stalls half-way deserves a 408 before the close.

#include "net/http_server.h"

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <optional>
#include <vector>

#include "net/asio.h"
#include "net/transport.h"

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

namespace tally::net {
namespace {

namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

// A connection that will be closed stays readable this long after our last
// byte, so that a client still sending (a body we refused) reads our answer
// instead of a reset.
constexpr int64_t kLingerMs = 2000;
constexpr int64_t kStoppingLingerMs = 100;
// A connection past max_connections (a probe) must send its request within this.
constexpr int64_t kProbeReadTimeoutMs = 2000;
// Stream pieces larger than this are not kept between chunks.
constexpr size_t kChunkKeepCapacity = 1 << 20;

// Beast 1.74's string_view is boost::string_view.
std::string_view Std(beast::string_view s) { return {s.data(), s.size()}; }

bool IEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

struct Shared {
  HttpServerOptions options;
  HttpHandler handler;
  SessionRegistry registry;  // drained by Stop()
  std::atomic<uint64_t> connections_open{0};
  std::atomic<uint64_t> connections_total{0};
  std::atomic<uint64_t> rejected_connections{0};
  std::atomic<uint64_t> probe_requests{0};
  std::atomic<uint64_t> requests_total{0};
  std::atomic<uint64_t> request_errors{0};
  // Set by Stop(): responses say `Connection: close` from now on.
  std::atomic<bool> stopping{false};
};

class HttpSession final : public Session, public DurabilityWaiter, public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(tcp::socket socket, Shared& shared, IoThread& thread, std::string peer)
      : socket_(std::move(socket)),
        timer_(socket_.get_executor()),
        shared_(shared),
        thread_(thread),
        peer_(std::move(peer)) {}

  // Counted open from accept (the acceptor increments) until closed.
  ~HttpSession() override {
    if (!closed_) shared_.connections_open.fetch_sub(1, std::memory_order_relaxed);
  }

  // The first step on the session's own thread.
  void Start() {
    Join(shared_.registry, shared_from_this());
    DoRead();
  }

  // Past max_connections, within the probe reserve: one request is read;
  // only /health and /ready are answered, anything else gets 429.
  void StartProbe() {
    probe_only_ = true;
    Start();
  }

  // Past max_connections and the probe reserve: answer 429 at once (without
  // reading the request), then close.
  void StartRejected() {
    Join(shared_.registry, shared_from_this());
    version_ = 11;
    SendError(protocol::ErrorCode::kTooManyConnections, TooManyConnectionsMessage(), false);
  }

  // From any thread, after Shared::stopping was set: close at once if idle
  // between requests; otherwise the request in flight is answered with
  // `Connection: close` and the connection closes after it.
  void BeginShutdown() override {
    asio::post(socket_.get_executor(), [self = shared_from_this()] {
      if (self->phase_ == Phase::kReadHeader && !self->RequestStarted()) self->Close();
    });
  }

  // Only once the I/O threads have stopped: nothing else touches the session.
  void CloseNow() override { Close(); }

 private:
  enum class Phase { kIdle, kReadHeader, kReadBody, kWriting, kStreaming, kLingering, kClosed };

  bool Stopping() const { return shared_.stopping.load(std::memory_order_relaxed); }

  std::string TooManyConnectionsMessage() const {
    return "more than " + std::to_string(shared_.options.max_connections) +
           " connections are open (only /health and /ready are answered past the limit)";
  }

  // What a probe connection may ask: GET or HEAD /health or /ready.
  static bool IsHealthProbe(const HttpRequest& request) {
    std::string_view path(request.target);
    path = path.substr(0, path.find('?'));
    return (request.method == "GET" || request.method == "HEAD") && (path == "/health" || path == "/ready");
  }

  // --- deadlines -----------------------------------------------------------

  // One deadline at a time; arming a new one supersedes the old (its wait
  // completes with operation_aborted, or finds a newer generation).
  void ArmDeadline(int64_t ms) {
    const uint64_t generation = ++deadline_generation_;
    timer_.expires_after(std::chrono::milliseconds(ms));
    timer_.async_wait([self = shared_from_this(), generation](const error_code& ec) {
      if (ec || generation != self->deadline_generation_ || self->closed_) return;
      self->OnDeadline();
    });
  }

  void OnDeadline() {
    if (phase_ == Phase::kReadHeader || phase_ == Phase::kReadBody) {
      // The read completes with operation_aborted; OnReadError decides
      // between a 408 and a silent close.
      timed_out_ = true;
      error_code ignored;
      socket_.cancel(ignored);
      return;
    }
    Close();  // a write that made no progress, or the linger after the last byte
  }

  // --- reading -------------------------------------------------------------

  void DoRead() {
    if (closed_) return;
    if (Stopping()) return Close();
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(std::min<int64_t>(shared_.options.max_header_bytes, UINT32_MAX)));
    parser_->body_limit(static_cast<std::uint64_t>(shared_.options.max_body_bytes));
    phase_ = Phase::kReadHeader;
    timed_out_ = false;
    ArmDeadline(ReadTimeoutMs());
    http::async_read_header(socket_, buffer_, *parser_,
                            [self = shared_from_this()](const error_code& ec, size_t) { self->OnReadHeader(ec); });
  }

  // True once any byte of the next request has arrived.
  bool RequestStarted() const { return buffer_.size() > 0 || (parser_ && parser_->got_some()); }

  void OnReadHeader(const error_code& ec) {
    if (closed_) return;
    if (ec) return OnReadError(ec);
    version_ = parser_->get().version();
    if (parser_->is_done()) return OnRequest();
    auto expect = parser_->get()[http::field::expect];
    if (!expect.empty() && IEquals(Std(expect), "100-continue")) {
      // The body is within the limit (checked with the header): ask for it.
      static constexpr char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
      phase_ = Phase::kWriting;
      ArmDeadline(shared_.options.write_timeout_ms);
      asio::async_write(socket_, asio::buffer(kContinue, sizeof kContinue - 1),
                        [self = shared_from_this()](const error_code& ec, size_t) {
                          if (self->closed_) return;
                          if (ec) return self->Close();
                          self->ReadBody();
                        });
      return;
    }
    ReadBody();
  }

  int64_t ReadTimeoutMs() const {
    return probe_only_ ? std::min(kProbeReadTimeoutMs, shared_.options.read_timeout_ms)
                       : shared_.options.read_timeout_ms;
  }

  void ReadBody() {
    phase_ = Phase::kReadBody;
    ArmDeadline(ReadTimeoutMs());
    http::async_read(socket_, buffer_, *parser_, [self = shared_from_this()](const error_code& ec, size_t) {
      if (self->closed_) return;
      if (ec) return self->OnReadError(ec);
      self->OnRequest();
    });
  }

  void OnReadError(const error_code& ec) {
    if (ec == http::error::end_of_stream) return Close();  // the client closed between requests
    if (ec == asio::error::operation_aborted) {
      if (timed_out_ && RequestStarted() && !Stopping()) {
        return SendError(protocol::ErrorCode::kRequestTimeout,
                         "the request did not arrive within " + std::to_string(ReadTimeoutMs()) + " ms");
      }
      return Close();  // an idle keep-alive connection timed out, or shutdown
    }
    if (ec == http::error::body_limit) {
      return SendError(protocol::ErrorCode::kPayloadTooLarge,
                       "the request body exceeds " + std::to_string(shared_.options.max_body_bytes) + " bytes");
    }
    if (ec == http::error::header_limit) {
      return SendError(protocol::ErrorCode::kHeadersTooLarge,
                       "the request header exceeds " + std::to_string(shared_.options.max_header_bytes) + " bytes");
    }
    if (ec.category() == make_error_code(http::error::bad_target).category() && ec != http::error::partial_message) {
      return SendError(protocol::ErrorCode::kBadRequest, "malformed HTTP request: " + ec.message());
    }
    Close();  // a reset, or EOF half-way through a request: nobody to answer
  }

  // --- handling ------------------------------------------------------------

  void OnRequest() {
    DisarmDeadline();
    auto& req = parser_->get();
    HttpRequest request;
    request.method = std::string(Std(req.method_string()));
    request.target = std::string(Std(req.target()));
    request.headers.reserve(16);
    for (const auto& field : req) {
      std::string name(Std(field.name_string()));
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      request.headers.emplace_back(std::move(name), std::string(Std(field.value())));
    }
    request.body = std::move(req.body());
    request.peer = peer_;
    request.version = req.version();
    version_ = req.version();
    keep_alive_ = req.keep_alive() && !Stopping();
    head_ = req.method() == http::verb::head;
    parser_.reset();
    if (probe_only_) {
      keep_alive_ = false;  // one request per probe connection
      if (!IsHealthProbe(request)) {
        shared_.rejected_connections.fetch_add(1, std::memory_order_relaxed);
        return SendError(protocol::ErrorCode::kTooManyConnections, TooManyConnectionsMessage(), false);
      }
      shared_.probe_requests.fetch_add(1, std::memory_order_relaxed);
    }
    shared_.requests_total.fetch_add(1, std::memory_order_relaxed);
    HttpResponse response;
    try {
      response = shared_.handler(request);
    } catch (const std::exception& e) {
      spdlog::error("http: handler failed on {} {}: {}", request.method, request.target, e.what());
      response = JsonErrorResponse(protocol::ErrorCode::kInternal, kInternalError);
    } catch (...) {
      spdlog::error("http: handler failed on {} {}: unknown exception", request.method, request.target);
      response = JsonErrorResponse(protocol::ErrorCode::kInternal, kInternalError);
    }
    if (response.durability != nullptr && !response.durability->IsDurable(response.durable_ticket)) {
      DurabilityGate& gate = *response.durability;
      const uint64_t ticket = response.durable_ticket;
      held_ = std::move(response);
      thread_.durability.Hold(shared_from_this(), gate, ticket);
      return;
    }
    Respond(response);
  }

 public:
  // The held response's log record is durable, or the log failed: then the
  // client gets the gate's 503 instead and the connection closes (the gate
  // reported the failure).
  void OnDurable(const storage::Status& status) override {
    if (closed_) return;
    HttpResponse response = status.ok() ? std::move(held_) : held_.durability->FailureResponse();
    held_ = HttpResponse();
    if (!status.ok()) keep_alive_ = false;
    Respond(response);
  }

 private:
  void Respond(HttpResponse& response) {
    if (response.next_chunk) return StartStream(response);
    WriteResponse(response);
  }

  void DisarmDeadline() {
    ++deadline_generation_;
    timer_.cancel();
  }

  // Status, Server, Content-Type, the handler's headers and Connection.
  template <typename Message>
  void SetHeaders(Message& message, HttpResponse& response) {
    int status = response.status;
    if (status < 100 || status > 999) status = 500;
    message.result(static_cast<unsigned>(status));
    message.set(http::field::server, "tallyd");
    if (!response.content_type.empty()) message.set(http::field::content_type, response.content_type);
    for (const auto& [name, value] : response.headers) {
      // Framing belongs to the transport.
      if (IEquals(name, "content-length") || IEquals(name, "transfer-encoding")) continue;
      if (IEquals(name, "connection")) {
        if (IEquals(value, "close")) keep_alive_ = false;
        continue;
      }
      message.insert(name, value);
    }
    if (Stopping()) keep_alive_ = false;
    message.keep_alive(keep_alive_);
  }

  void WriteResponse(HttpResponse& response) {
    response_.emplace();
    response_->version(version_);
    SetHeaders(*response_, response);
    if (head_) {
      response_->content_length(response.body.size());
    } else {
      response_->body() = std::move(response.body);
      response_->prepare_payload();
    }
    phase_ = Phase::kWriting;
    ArmDeadline(shared_.options.write_timeout_ms);
    http::async_write(socket_, *response_,
                      [self = shared_from_this()](const error_code& ec, size_t) { self->OnWrite(ec); });
  }

  void OnWrite(const error_code& ec) {
    if (closed_) return;
    response_.reset();
    if (ec) return Close();
    FinishResponse();
  }

  void FinishResponse() {
    if (!keep_alive_ || Stopping()) return LingerClose();
    DoRead();
  }

  // A transport-level error: answer it, then close (the framing of what
  // follows cannot be trusted).
  void SendError(protocol::ErrorCode code, const std::string& message, bool count_as_request_error = true) {
    if (count_as_request_error) shared_.request_errors.fetch_add(1, std::memory_order_relaxed);
    if (version_ != 10) version_ = 11;
    keep_alive_ = false;
    head_ = false;
    parser_.reset();
    HttpResponse response = JsonErrorResponse(code, message);
    WriteResponse(response);
  }

  // --- streaming (chunked transfer encoding) -------------------------------

  // Writes the header, then one piece at a time: next_chunk is called again
  // only after the previous piece was written, so memory stays one piece.
  // HEAD gets the header only; the producer is never called.
  void StartStream(HttpResponse& response) {
    producer_ = std::move(response.next_chunk);
    stream_poll_ms_ = response.stream_poll_ms;
    chunked_ = version_ >= 11;
    if (!chunked_) keep_alive_ = false;  // HTTP/1.0: the body ends at the close
    stream_header_.emplace();
    stream_header_->version(version_);
    SetHeaders(*stream_header_, response);
    if (chunked_) stream_header_->chunked(true);
    serializer_.emplace(*stream_header_);
    phase_ = Phase::kStreaming;
    ArmDeadline(shared_.options.write_timeout_ms);
    http::async_write_header(socket_, *serializer_, [self = shared_from_this()](const error_code& ec, size_t) {
      if (self->closed_) return;
      if (ec) return self->Close();
      if (self->head_) return self->EndStream();
      self->NextPiece();
    });
  }

  void OnPieceWritten(const error_code& ec) {
    if (closed_) return;
    if (ec) return Close();
    if (!stream_more_) return WriteLastChunk();
    NextPiece();
  }

  void NextPiece() {
    if (closed_) return;
    if (chunk_.capacity() > kChunkKeepCapacity) {
      std::string().swap(chunk_);
    } else {
      chunk_.clear();
    }
    try {
      stream_more_ = producer_(chunk_);
    } catch (const std::exception& e) {
      // The status is sent; ending without the last chunk tells the client
      // the body is incomplete.
      spdlog::error("http: stream producer failed: {}", e.what());
      return Close();
    } catch (...) {
      spdlog::error("http: stream producer failed: unknown exception");
      return Close();
    }
    if (chunk_.empty()) {
      if (!stream_more_) return WriteLastChunk();
      if (stream_poll_ms_ > 0) return WaitForNews();
      // Nothing yet: ask again, after the other connections of this thread had a turn.
      asio::post(socket_.get_executor(), [self = shared_from_this()] { self->NextPiece(); });
      return;
    }
    ArmDeadline(shared_.options.write_timeout_ms);
    auto on_written = [self = shared_from_this()](const error_code& ec, size_t) { self->OnPieceWritten(ec); };
    if (chunked_) {
      asio::async_write(socket_, http::make_chunk(asio::buffer(chunk_)), std::move(on_written));
    } else {
      asio::async_write(socket_, asio::buffer(chunk_), std::move(on_written));
    }
  }

  // A live stream with nothing to send: ask again after stream_poll_ms_ (no
  // write is in flight, so the deadline timer is free; a newer deadline or
  // Close supersedes the wait). A stopping server ends the stream instead.
  void WaitForNews() {
    if (Stopping()) return WriteLastChunk();
    const uint64_t generation = ++deadline_generation_;
    timer_.expires_after(std::chrono::milliseconds(stream_poll_ms_));
    timer_.async_wait([self = shared_from_this(), generation](const error_code& ec) {
      if (ec || generation != self->deadline_generation_ || self->closed_) return;
      self->NextPiece();
    });
  }

  void WriteLastChunk() {
    if (!chunked_) return EndStream();
    stream_more_ = true;  // for the next stream on this connection
    ArmDeadline(shared_.options.write_timeout_ms);
    asio::async_write(socket_, http::make_chunk_last(), [self = shared_from_this()](const error_code& ec, size_t) {
      if (self->closed_) return;
      if (ec) return self->Close();
      self->EndStream();
    });
  }

  void EndStream() {
    producer_ = nullptr;
    serializer_.reset();
    stream_header_.reset();
    std::string().swap(chunk_);
    stream_more_ = true;
    FinishResponse();
  }

  // --- closing -------------------------------------------------------------

  // After the last response: send FIN, then read and discard what the client
  // still sends until it closes (or kLingerMs), so it reads our response
  // rather than a reset caused by unread bytes.
  void LingerClose() {
    if (closed_) return;
    phase_ = Phase::kLingering;
    error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_send, ignored);
    // Shutdown does not wait long for clients that keep the connection open.
    const int64_t linger_ms = Stopping() ? kStoppingLingerMs : kLingerMs;
    ArmDeadline(std::min<int64_t>(linger_ms, std::max<int64_t>(shared_.options.read_timeout_ms, 1)));
    buffer_.consume(buffer_.size());
    Discard();
  }

  void Discard() {
    socket_.async_read_some(buffer_.prepare(4096), [self = shared_from_this()](const error_code& ec, size_t) {
      if (self->closed_) return;
      if (ec) return self->Close();
      self->Discard();
    });
  }

  void Close() {
    if (closed_) return;
    closed_ = true;
    phase_ = Phase::kClosed;
    DisarmDeadline();
    error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
    producer_ = nullptr;
    Leave();
    shared_.connections_open.fetch_sub(1, std::memory_order_relaxed);
  }

  tcp::socket socket_;
  asio::steady_timer timer_;
  Shared& shared_;
  IoThread& thread_;
  const std::string peer_;
  beast::flat_buffer buffer_;  // received bytes not parsed yet: the next pipelined request
  std::optional<http::request_parser<http::string_body>> parser_;
  HttpResponse held_;  // a response waiting for its log record (see DurabilityBatch)
  std::optional<http::response<http::string_body>> response_;
  // A streamed response: its header, serializer, producer and current piece.
  std::optional<http::response<http::empty_body>> stream_header_;
  std::optional<http::response_serializer<http::empty_body>> serializer_;
  std::function<bool(std::string&)> producer_;
  std::string chunk_;
  bool stream_more_ = true;
  bool chunked_ = true;
  uint32_t stream_poll_ms_ = 0;  // HttpResponse::stream_poll_ms of the current stream

  Phase phase_ = Phase::kIdle;
  uint64_t deadline_generation_ = 0;
  unsigned version_ = 11;
  bool keep_alive_ = true;
  bool head_ = false;
  bool timed_out_ = false;
  bool closed_ = false;
  bool probe_only_ = false;  // past max_connections: /health and /ready only, one request
};

}  // namespace

HttpResponse JsonErrorResponse(protocol::ErrorCode code, std::string_view message) {
  HttpResponse response;
  response.status = protocol::HttpStatus(code);
  response.content_type = "application/json";
  // Messages can echo user bytes that are not UTF-8: replaced, never thrown.
  response.body =
      nlohmann::json{{"error", {{"code", std::string(protocol::ErrorName(code))}, {"message", std::string(message)}}}}
          .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return response;
}

struct HttpServer::Impl {
  Impl(HttpServerOptions opts, HttpHandler handler) : pool("http-io", opts.threads) {
    shared.options = std::move(opts);
    shared.handler = std::move(handler);
  }

  // Declaration order is destruction order in reverse: the listener goes
  // before the pool, the pool (whose pending handlers hold sessions) before
  // `shared`, which the sessions use.
  Shared shared;
  IoThreadPool pool;
  std::unique_ptr<Listener<tcp>> listener;
  int bound_port = 0;
  bool running = false;

  // On the acceptor's thread; the session starts on its own thread.
  void OnAccept(tcp::socket socket, IoThread& thread) {
    shared.connections_total.fetch_add(1, std::memory_order_relaxed);
    const int64_t open = static_cast<int64_t>(shared.connections_open.fetch_add(1, std::memory_order_relaxed) + 1);
    const bool probe = open > shared.options.max_connections;
    const bool reject = open > shared.options.max_connections + std::max<int64_t>(0, shared.options.probe_connections);
    if (reject) shared.rejected_connections.fetch_add(1, std::memory_order_relaxed);
    error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    std::string peer = PeerAddress(socket);
    auto session = std::make_shared<HttpSession>(std::move(socket), shared, thread, std::move(peer));
    asio::post(thread.io, [session, reject, probe] {
      if (reject) {
        session->StartRejected();
      } else if (probe) {
        session->StartProbe();
      } else {
        session->Start();
      }
    });
  }
};

HttpServer::HttpServer(HttpServerOptions options, HttpHandler handler)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler))) {}

HttpServer::~HttpServer() { Stop(0); }

int HttpServer::bound_port() const { return impl_->bound_port; }

bool HttpServer::enabled() const { return impl_->shared.options.port > 0 || impl_->shared.options.ephemeral_port; }

HttpServerStats HttpServer::stats() const {
  const Shared& s = impl_->shared;
  HttpServerStats out;
  out.connections_open = s.connections_open.load(std::memory_order_relaxed);
  out.connections_total = s.connections_total.load(std::memory_order_relaxed);
  out.rejected_connections = s.rejected_connections.load(std::memory_order_relaxed);
  out.probe_requests = s.probe_requests.load(std::memory_order_relaxed);
  out.requests_total = s.requests_total.load(std::memory_order_relaxed);
  out.request_errors = s.request_errors.load(std::memory_order_relaxed);
  if (impl_->listener) out.accept_failures = impl_->listener->accept_failures();
  return out;
}

storage::Status HttpServer::Start() {
  Impl& impl = *impl_;
  const HttpServerOptions& options = impl.shared.options;
  if (!enabled() || impl.running) return storage::Status::Ok();
  if (!impl.shared.handler) return storage::Status::InvalidArgument("http: no request handler");
  error_code ec;
  auto address = asio::ip::make_address(options.bind, ec);
  if (ec) return storage::Status::InvalidArgument("--http-bind '" + options.bind + "': " + ec.message());
  impl.listener = std::make_unique<Listener<tcp>>(
      impl.pool, "http", [&impl](tcp::socket socket, IoThread& thread) { impl.OnAccept(std::move(socket), thread); });
  storage::Status listening = impl.listener->Listen(tcp::endpoint(address, static_cast<unsigned short>(options.port)),
                                                    options.bind + ":" + std::to_string(options.port) + " (HTTP)");
  if (!listening.ok()) return listening;
  impl.bound_port = impl.listener->local_endpoint().port();
  impl.listener->Start();
  impl.pool.Start();
  impl.running = true;
  return storage::Status::Ok();
}

void HttpServer::Stop(int64_t drain_ms) {
  Impl& impl = *impl_;
  if (!impl.running) return;
  impl.running = false;
  impl.shared.stopping = true;
  // 1. Stop accepting.
  impl.listener->StopAccepting();
  // 2. Idle connections close now; the others after the response they owe.
  // Whatever is still open past the deadline is closed with the loops stopped.
  DrainAndStop("http", impl.shared.registry, impl.pool, drain_ms);
  // 3. Certainly closed now, whether or not thread 0 got to it.
  impl.listener->Close();
}

}  // namespace tally::net
