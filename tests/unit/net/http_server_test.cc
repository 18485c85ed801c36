// The HTTP transport (net/http_server.h) in-process, over real sockets: the
// real HttpServer on an ephemeral port, test handlers, and the raw client of
// tests/integration/http_client.h — keep-alive, pipelining, limits and their
// JSON errors, timeouts, streaming, exceptions and shutdown.

#include "net/http_server.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "eventually.h"
#include "http_client.h"

namespace tally::net {
namespace {

using itest::HttpClient;
using itest::HttpReply;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using ::tally::fixtures::Eventually;

// "<method> <target> <body>" as text/plain; /throw throws.
HttpResponse Echo(const HttpRequest& request) {
  if (request.target == "/throw") throw std::runtime_error("handler exploded");
  if (request.target == "/throw-int") throw 42;
  HttpResponse response;
  response.content_type = "text/plain";
  response.body = request.method + " " + request.target + " " + request.body;
  response.headers.emplace_back("X-Test", "yes");
  return response;
}

int64_t ResidentBytes() {
  std::ifstream statm("/proc/self/statm");
  int64_t pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * sysconf(_SC_PAGESIZE);
}

class HttpServerTest : public ::testing::Test {
 protected:
  void Start(HttpHandler handler = Echo, HttpServerOptions options = {}) {
    options.bind = "127.0.0.1";
    options.port = 0;
    options.ephemeral_port = true;
    server_ = std::make_unique<HttpServer>(options, std::move(handler));
    storage::Status s = server_->Start();
    ASSERT_TRUE(s.ok()) << s.ToString();
    ASSERT_GT(server_->bound_port(), 0);
  }
  void TearDown() override { StopServer(); }
  // Tests whose handler captures their own locals stop the server before
  // those go out of scope (TearDown runs after them).
  void StopServer() {
    if (server_) server_->Stop(1000);
  }
  int port() const { return server_->bound_port(); }
  HttpClient Connect() {
    auto client = HttpClient::Connect(port());
    EXPECT_TRUE(client.has_value()) << "cannot connect to port " << port();
    return client ? std::move(*client) : HttpClient();
  }
  // The error code in `{"error":{"code":"...",...}}`.
  static std::string ErrorCode(const HttpReply& reply) {
    const std::string marker = "{\"error\":{\"code\":\"";
    if (reply.body.rfind(marker, 0) != 0) return "<not a JSON error: " + reply.body + ">";
    size_t end = reply.body.find('"', marker.size());
    return reply.body.substr(marker.size(), end - marker.size());
  }

  std::unique_ptr<HttpServer> server_;
};

TEST_F(HttpServerTest, GetAndPostReachTheHandlerWithMethodTargetHeadersAndBody) {
  std::mutex mu;
  HttpRequest seen;
  Start([&](const HttpRequest& request) {
    std::lock_guard<std::mutex> lock(mu);
    seen = request;
    return Echo(request);
  });
  HttpReply get = HttpClient::Request(port(), "GET", "/hello?x=%20y", "", {{"X-Custom-Header", "Value"}});
  ASSERT_TRUE(get.ok()) << get;
  EXPECT_EQ(get.status, 200);
  EXPECT_EQ(get.body, "GET /hello?x=%20y ");
  EXPECT_EQ(get.Header("server"), "tallyd");
  EXPECT_EQ(get.Header("content-type"), "text/plain");
  EXPECT_EQ(get.Header("content-length"), std::to_string(get.body.size()));
  EXPECT_EQ(get.Header("x-test"), "yes");
  {
    std::lock_guard<std::mutex> lock(mu);
    EXPECT_EQ(seen.Header("x-custom-header"), "Value");  // names lower-cased, values as sent
    EXPECT_EQ(seen.Header("host"), "127.0.0.1");
    EXPECT_EQ(seen.peer.rfind("127.0.0.1:", 0), 0u) << seen.peer;
  }

  HttpReply post = HttpClient::Request(port(), "POST", "/v1/events", "{\"by\": 5}");
  ASSERT_TRUE(post.ok()) << post;
  EXPECT_EQ(post.status, 200);
  EXPECT_EQ(post.body, "POST /v1/events {\"by\": 5}");

  // A chunked request body is decoded for the handler.
  HttpClient client = Connect();
  ASSERT_TRUE(
      client.Send("PUT /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                  "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"));
  HttpReply put = client.ReadResponse();
  ASSERT_TRUE(put.ok()) << put;
  EXPECT_EQ(put.body, "PUT /c abcde");
  EXPECT_EQ(server_->stats().requests_total, 3u);
  StopServer();
}

TEST_F(HttpServerTest, StatusesAndContentTypeComeFromTheResponse) {
  Start([](const HttpRequest&) {
    HttpResponse response = JsonErrorResponse(protocol::ErrorCode::kNotFound, "no \"such\" thing\n");
    response.headers.emplace_back("Content-Length", "999");  // framing belongs to the transport
    return response;
  });
  HttpReply reply = HttpClient::Request(port(), "GET", "/missing");
  ASSERT_TRUE(reply.ok()) << reply;
  EXPECT_EQ(reply.status, 404);
  EXPECT_EQ(reply.Header("content-type"), "application/json");
  EXPECT_EQ(reply.body, R"({"error":{"code":"not_found","message":"no \"such\" thing\n"}})");
}

TEST_F(HttpServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  Start();
  HttpClient client = Connect();
  for (int i = 0; i < 20; ++i) {
    HttpReply reply = client.Call("GET", "/n/" + std::to_string(i));
    ASSERT_TRUE(reply.ok()) << i << ": " << reply;
    EXPECT_EQ(reply.body, "GET /n/" + std::to_string(i) + " ");
    EXPECT_NE(reply.Header("connection"), "close");
  }
  EXPECT_EQ(server_->stats().connections_total, 1u);
  EXPECT_EQ(server_->stats().connections_open, 1u);
  EXPECT_EQ(server_->stats().requests_total, 20u);
}

TEST_F(HttpServerTest, PipelinedRequestsAreAnsweredInOrder) {
  Start();
  HttpClient client = Connect();
  ASSERT_TRUE(client.Send(HttpClient::Encode("GET", "/1") + HttpClient::Encode("POST", "/2", "two") +
                          HttpClient::Encode("GET", "/3")));
  for (const char* expected : {"GET /1 ", "POST /2 two", "GET /3 "}) {
    HttpReply reply = client.ReadResponse();
    ASSERT_TRUE(reply.ok()) << reply;
    EXPECT_EQ(reply.body, expected);
  }
  // And the connection is still usable.
  EXPECT_EQ(client.Call("GET", "/4").body, "GET /4 ");
}

TEST_F(HttpServerTest, Http10GetsItsResponseAndTheConnectionCloses) {
  Start();
  HttpClient client = Connect();
  ASSERT_TRUE(client.Send("GET /old HTTP/1.0\r\n\r\n"));
  HttpReply reply = client.ReadResponse();
  ASSERT_TRUE(reply.ok()) << reply;
  EXPECT_EQ(reply.version, "HTTP/1.0");
  EXPECT_EQ(reply.body, "GET /old ");
  EXPECT_TRUE(client.WaitClosed(2s));
}

TEST_F(HttpServerTest, ConnectionCloseIsHonoured) {
  Start();
  HttpClient client = Connect();
  ASSERT_TRUE(client.Send(HttpClient::Encode("GET", "/bye", "", {{"Connection", "close"}})));
  HttpReply reply = client.ReadResponse();
  ASSERT_TRUE(reply.ok()) << reply;
  EXPECT_EQ(reply.Header("connection"), "close");
  EXPECT_TRUE(client.WaitClosed(2s));
  EXPECT_TRUE(Eventually([&] { return server_->stats().connections_open == 0; }));
}

TEST_F(HttpServerTest, HeadGetsTheHeadersWithoutTheBody) {
  Start();
  HttpClient client = Connect();
  ASSERT_TRUE(client.Send(HttpClient::Encode("HEAD", "/page")));
  HttpReply head = client.ReadResponse(10s, /*head=*/true);
  ASSERT_TRUE(head.ok()) << head;
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.Header("content-length"), std::to_string(std::string("HEAD /page ").size()));
  // No body bytes follow: the next response on the connection parses.
  HttpReply next = client.Call("GET", "/after");
  ASSERT_TRUE(next.ok()) << next;
  EXPECT_EQ(next.body, "GET /after ");
}

TEST_F(HttpServerTest, Expect100ContinueIsAnswered) {
  Start();
  HttpClient client = Connect();
  ASSERT_TRUE(client.Send("POST /big HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"));
  HttpReply interim = client.ReadResponse();
  ASSERT_TRUE(interim.ok()) << interim;
  EXPECT_EQ(interim.status, 100);
  ASSERT_TRUE(client.Send("hello"));
  HttpReply reply = client.ReadResponse();
  EXPECT_EQ(reply.status, 200) << reply;
  EXPECT_EQ(reply.body, "POST /big hello");
}

TEST_F(HttpServerTest, OversizedBodyGets413AndTheConnectionCloses) {
  HttpServerOptions options;
  options.max_body_bytes = 1000;
  Start(Echo, options);
  // Announced by Content-Length: refused before the body is read.
  HttpClient client = Connect();
  ASSERT_TRUE(client.Send(HttpClient::Encode("POST", "/up", std::string(5000, 'x'))));
  HttpReply reply = client.ReadResponse();
  ASSERT_TRUE(reply.ok()) << reply;
  EXPECT_EQ(reply.status, 413);
  EXPECT_EQ(ErrorCode(reply), "payload_too_large");
  EXPECT_EQ(reply.Header("connection"), "close");
  EXPECT_TRUE(client.WaitClosed(3s));

  // A chunked body that grows past the limit.
  HttpClient chunked = Connect();
  std::string request = "POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 20; ++i) request += "64\r\n" + std::string(100, 'y') + "\r\n";
  request += "0\r\n\r\n";
  ASSERT_TRUE(chunked.Send(request));
  HttpReply chunked_reply = chunked.ReadResponse();
  EXPECT_EQ(chunked_reply.status, 413) << chunked_reply;
  EXPECT_TRUE(chunked.WaitClosed(3s));

  // Exactly at the limit is fine.
  EXPECT_EQ(HttpClient::Request(port(), "POST", "/up", std::string(1000, 'z')).status, 200);
  EXPECT_EQ(server_->stats().request_errors, 2u);
}

TEST_F(HttpServerTest, HugeHeadersGet431) {
  Start();
  HttpClient client = Connect();
  ASSERT_TRUE(client.Send(HttpClient::Encode("GET", "/", "", {{"X-Huge", std::string(20000, 'h')}})));
  HttpReply reply = client.ReadResponse();
  ASSERT_TRUE(reply.ok()) << reply;
  EXPECT_EQ(reply.status, 431);
  EXPECT_EQ(ErrorCode(reply), "headers_too_large");
  EXPECT_TRUE(client.WaitClosed(3s));
}

TEST_F(HttpServerTest, MalformedRequestsGet400AndTheConnectionCloses) {
  Start();
  for (std::string garbage : {std::string("GARBAGE\r\n\r\n"), std::string("GET / HTTP/9.x\r\n\r\n"),
                              std::string("GET / HTTP/1.1\r\nNo colon here\r\n\r\n"),
                              std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", 15),
                              std::string("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n")}) {
    HttpClient client = Connect();
    ASSERT_TRUE(client.Send(garbage));
    HttpReply reply = client.ReadResponse();
    ASSERT_TRUE(reply.ok()) << ::testing::PrintToString(garbage) << ": " << reply;
    EXPECT_EQ(reply.status, 400) << ::testing::PrintToString(garbage);
    EXPECT_EQ(ErrorCode(reply), "bad_request");
    EXPECT_TRUE(client.WaitClosed(3s)) << ::testing::PrintToString(garbage);
  }
  // The server is fine.
  EXPECT_EQ(HttpClient::Request(port(), "GET", "/ok").status, 200);
}

TEST_F(HttpServerTest, ConnectionsPastTheLimitGet429) {
  HttpServerOptions options;
  options.max_connections = 2;
  Start(Echo, options);
  HttpClient a = Connect();
  HttpClient b = Connect();
  ASSERT_EQ(a.Call("GET", "/a").status, 200);
  ASSERT_EQ(b.Call("GET", "/b").status, 200);
  HttpClient c = Connect();
  ASSERT_TRUE(c.Send(HttpClient::Encode("GET", "/c")));
  HttpReply reply = c.ReadResponse();
  ASSERT_TRUE(reply.ok()) << reply;
  EXPECT_EQ(reply.status, 429);
  EXPECT_EQ(ErrorCode(reply), "too_many_connections");
  EXPECT_EQ(reply.Header("connection"), "close");
  EXPECT_TRUE(c.WaitClosed(3s));
  EXPECT_EQ(server_->stats().rejected_connections, 1u);
  // Once one closes, a new connection is served.
  a.Close();
  ASSERT_TRUE(Eventually([&] { return server_->stats().connections_open == 1; }));
  EXPECT_EQ(HttpClient::Request(port(), "GET", "/d").status, 200);
}

TEST_F(HttpServerTest, IdleKeepAliveConnectionIsClosedAfterTheReadTimeout) {
  HttpServerOptions options;
  options.read_timeout_ms = 200;
  Start(Echo, options);
  HttpClient client = Connect();
  ASSERT_EQ(client.Call("GET", "/").status, 200);
  auto started = Clock::now();
  std::string received;
  EXPECT_TRUE(client.WaitClosed(3s, &received));
  EXPECT_EQ(received, "") << "an idle connection is closed without a response";
  EXPECT_GE(Clock::now() - started, 150ms);
  EXPECT_TRUE(Eventually([&] { return server_->stats().connections_open == 0; }));
}

TEST_F(HttpServerTest, RequestStalledHalfWayGets408) {
  HttpServerOptions options;
  options.read_timeout_ms = 200;
  Start(Echo, options);
  HttpClient client = Connect();
  ASSERT_TRUE(client.Send("GET /slow HTTP/1.1\r\nHost: x\r\n"));
  HttpReply reply = client.ReadResponse(3s);
  ASSERT_TRUE(reply.ok()) << reply;
  EXPECT_EQ(reply.status, 408);
  EXPECT_EQ(ErrorCode(reply), "request_timeout");
  EXPECT_TRUE(client.WaitClosed(3s));

  // A body that stops arriving, too.
  HttpClient body = Connect();
  ASSERT_TRUE(body.Send("POST /slow HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc"));
  EXPECT_EQ(body.ReadResponse(3s).status, 408);
}

TEST_F(HttpServerTest, HandlerExceptionGets500AndTheServerKeepsServing) {
  Start();
  HttpClient client = Connect();
  HttpReply reply = client.Call("GET", "/throw");
  ASSERT_TRUE(reply.ok()) << reply;
  EXPECT_EQ(reply.status, 500);
  EXPECT_EQ(ErrorCode(reply), "internal");
  EXPECT_EQ(client.Call("GET", "/throw-int").status, 500);
  EXPECT_EQ(client.Call("GET", "/fine").body, "GET /fine ");
  EXPECT_EQ(HttpClient::Request(port(), "GET", "/fine").status, 200);
}

// Piece i of a test stream: 64 bytes.
std::string Piece(int64_t i) {
  std::string piece = "piece " + std::to_string(i) + " ";
  piece.resize(63, '.');
  return piece + "\n";
}

// A stream of `count` pieces Piece(i) (and an empty piece every 7th call).
struct CountingProducer {
  std::atomic<int64_t> produced{0};
  int64_t count = 0;
  HttpResponse Response() {
    HttpResponse response;
    response.content_type = "text/plain";
    auto calls = std::make_shared<int64_t>(0);
    response.next_chunk = [this, calls](std::string& out) {
      if ((*calls)++ % 7 == 6) return true;  // nothing this time: skipped, but asked again
      int64_t i = produced.load();
      if (i >= count) return false;
      out += Piece(i);
      produced.store(i + 1);
      return true;
    };
    return response;
  }
};

TEST_F(HttpServerTest, StreamedResponseIsChunkedAndDecodedPieceByPieceInConstantMemory) {
  CountingProducer producer;
  producer.count = 200000;
  Start([&](const HttpRequest&) { return producer.Response(); });
  HttpClient client = Connect();
  ASSERT_TRUE(client.Send(HttpClient::Encode("GET", "/v1/export")));
  const int64_t rss_before = ResidentBytes();
  int64_t next = 0;
  bool in_order = true;
  HttpReply reply = client.ReadResponse(60s, false, [&](std::string_view chunk) {
    if (in_order && chunk != Piece(next)) {
      ADD_FAILURE() << "chunk " << next << " is '" << chunk << "'";
      in_order = false;
    }
    ++next;
  });
  const int64_t rss_after = ResidentBytes();
  ASSERT_TRUE(reply.ok()) << reply;
  EXPECT_EQ(reply.status, 200);
  EXPECT_TRUE(reply.chunked);
  EXPECT_FALSE(reply.HasHeader("content-length"));
  EXPECT_EQ(reply.Header("content-type"), "text/plain");
  EXPECT_EQ(reply.chunks, 200000u);  // empty pieces are not sent as chunks (one would end the body)
  EXPECT_EQ(next, 200000);
  EXPECT_TRUE(in_order);
#if !defined(__SANITIZE_ADDRESS__)
  // 12.8 MB of pieces went through; neither end kept them.
  EXPECT_LT(rss_after - rss_before, 4 << 20) << "RSS grew from " << rss_before << " to " << rss_after;
#else
  (void)rss_before;
  (void)rss_after;
#endif
  // The connection is kept alive after the last chunk.
  producer.produced = 0;
  producer.count = 3;
  HttpReply again = client.Call("GET", "/v1/export");
  EXPECT_EQ(again.body, Piece(0) + Piece(1) + Piece(2));
  EXPECT_EQ(again.chunks, 3u);
  StopServer();
}

TEST_F(HttpServerTest, StreamProducerIsOnlyCalledAsTheClientReads) {
  CountingProducer producer;
  producer.count = int64_t{1} << 40;  // endless
  Start([&](const HttpRequest&) { return producer.Response(); });
  {
    HttpClient client = Connect();
    ASSERT_TRUE(client.Send(HttpClient::Encode("GET", "/v1/alerts/stream")));
    // The client reads nothing: once the socket buffers are full, writes stop
    // completing and the producer is not called again. Stalled = no progress
    // over three 100 ms looks in a row (one look can fall in a pause of a
    // server thread that a loaded machine did not schedule).
    int64_t before = -1;
    for (int i = 0, still = 0; i < 100 && still < 3; ++i) {
      const int64_t now = producer.produced.load();
      still = now == before ? still + 1 : 0;
      before = now;
      std::this_thread::sleep_for(100ms);
    }
    int64_t stalled = producer.produced.load();
    std::this_thread::sleep_for(300ms);
    EXPECT_EQ(producer.produced.load(), stalled) << "the producer ran ahead of the writes";
    // What was produced fits in the kernel's socket buffers, not more.
    EXPECT_LT(stalled * 64, int64_t{32} << 20);
    // Reading resumes the stream, in order.
    HttpReply reply = client.ReadResponse(200ms, false, [](std::string_view) {});
    EXPECT_FALSE(reply.ok());  // endless: times out
    EXPECT_GT(producer.produced.load(), stalled);
  }
  // The client went away mid-stream: the session ends, the server serves on.
  EXPECT_TRUE(Eventually([&] { return server_->stats().connections_open == 0; }));
  StopServer();
}

TEST_F(HttpServerTest, HeadOfAStreamGetsTheHeaderOnly) {
  CountingProducer producer;
  producer.count = 3;
  Start([&](const HttpRequest&) { return producer.Response(); });
  HttpClient client = Connect();
  ASSERT_TRUE(client.Send(HttpClient::Encode("HEAD", "/v1/export")));
  HttpReply head = client.ReadResponse(10s, /*head=*/true);
  ASSERT_TRUE(head.ok()) << head;
  EXPECT_EQ(head.status, 200);
  EXPECT_TRUE(head.chunked);
  EXPECT_EQ(producer.produced.load(), 0);
  HttpReply get = client.Call("GET", "/v1/export");
  ASSERT_TRUE(get.ok()) << get;
  EXPECT_EQ(get.body, Piece(0) + Piece(1) + Piece(2));
  StopServer();
}

TEST_F(HttpServerTest, Http10StreamIsSentUnchunkedAndEndsWithTheClose) {
  CountingProducer producer;
  producer.count = 3;
  Start([&](const HttpRequest&) { return producer.Response(); });
  HttpClient client = Connect();
  ASSERT_TRUE(client.Send("GET /v1/export HTTP/1.0\r\n\r\n"));
  HttpReply reply = client.ReadResponse();
  ASSERT_TRUE(reply.ok()) << reply;
  EXPECT_FALSE(reply.chunked);
  EXPECT_EQ(reply.body, Piece(0) + Piece(1) + Piece(2));
  StopServer();
}

TEST_F(HttpServerTest, LiveStreamWaitsOnATimerForNewsAndEndsWhenTheServerStops) {
  // A server-sent-event stream: nothing to say most of the time. With
  // stream_poll_ms the producer is asked every 50 ms, not in a busy loop.
  std::atomic<int64_t> calls{0};
  std::atomic<bool> news{false};
  Start([&](const HttpRequest&) {
    HttpResponse response;
    response.content_type = "text/event-stream";
    response.stream_poll_ms = 50;
    response.next_chunk = [&](std::string& out) {
      calls.fetch_add(1);
      if (news.exchange(false)) out += "data: news\n\n";
      return true;
    };
    return response;
  });
  HttpClient client = Connect();
  ASSERT_TRUE(client.Send(HttpClient::Encode("GET", "/v1/alerts/stream")));
  // News after 500 ms idle; the client reads for 800 ms (the stream never ends by itself).
  std::atomic<int64_t> calls_while_idle{0};
  std::thread newsroom([&] {
    std::this_thread::sleep_for(500ms);
    calls_while_idle = calls.load();
    news = true;
  });
  std::string received;
  HttpReply open = client.ReadResponse(800ms, false, [&](std::string_view chunk) { received.append(chunk); });
  newsroom.join();
  EXPECT_FALSE(open.ok()) << "the stream ended: " << open;
  EXPECT_EQ(received, "data: news\n\n");
  // 500 ms at one call per 50 ms: about 10 calls (a busy loop makes thousands).
  EXPECT_GE(calls_while_idle.load(), 3);
  EXPECT_LE(calls_while_idle.load(), 30);
  // Stopping the server ends the waiting stream with its last chunk, promptly.
  auto started = Clock::now();
  server_->Stop(5000);
  EXPECT_LT(Clock::now() - started, 1s);
  EXPECT_TRUE(client.WaitClosed(2s));
  EXPECT_EQ(server_->stats().connections_open, 0u);
}

TEST_F(HttpServerTest, StopClosesAnIdleKeepAliveConnectionPromptly) {
  Start();
  HttpClient client = Connect();
  ASSERT_EQ(client.Call("GET", "/").status, 200);
  auto started = Clock::now();
  server_->Stop(5000);
  EXPECT_LT(Clock::now() - started, 1s);
  EXPECT_TRUE(client.WaitClosed(2s));
  EXPECT_EQ(server_->stats().connections_open, 0u);
  EXPECT_FALSE(HttpClient::Connect(port(), 500ms).has_value()) << "still accepting after Stop";
}

TEST_F(HttpServerTest, StopLetsARequestInFlightFinishItsResponse) {
  std::atomic<bool> entered{false};
  Start([&](const HttpRequest& request) {
    if (request.target == "/slow") {
      entered = true;
      std::this_thread::sleep_for(300ms);
    }
    return Echo(request);
  });
  HttpClient idle = Connect();
  ASSERT_EQ(idle.Call("GET", "/").status, 200);
  HttpClient client = Connect();
  ASSERT_TRUE(client.Send(HttpClient::Encode("GET", "/slow")));
  ASSERT_TRUE(Eventually([&] { return entered.load(); }));
  const auto started = Clock::now();
  Clock::time_point stopped;
  std::thread stopper([&] {
    server_->Stop(5000);
    stopped = Clock::now();
  });
  HttpReply reply = client.ReadResponse();
  stopper.join();
  ASSERT_TRUE(reply.ok()) << reply;
  EXPECT_EQ(reply.body, "GET /slow ");
  EXPECT_EQ(reply.Header("connection"), "close");
  EXPECT_TRUE(client.WaitClosed(2s));
  EXPECT_TRUE(idle.WaitClosed(2s));
  // Woken by the last close (the slow response, then its short linger), far
  // from the 5 s deadline.
  EXPECT_LT(stopped - started, 1500ms);
  EXPECT_EQ(server_->stats().connections_open, 0u);
}

TEST_F(HttpServerTest, SwappableHandlerChangesWhileServing) {
  SwappableHttpHandler routes(
      [](const HttpRequest&) { return JsonErrorResponse(protocol::ErrorCode::kNotReady, "starting"); });
  Start(routes.AsHandler());
  HttpClient client = Connect();
  EXPECT_EQ(client.Call("GET", "/x").status, 503);
  routes.Set(Echo);
  EXPECT_EQ(client.Call("GET", "/x").body, "GET /x ");
  StopServer();
}

// The transport's side of DurabilityGate, scripted: tickets become durable only
// when WaitDurable runs (the engine's gate is exercised by the HTTP
// integration tests against the real tallyd).
class ScriptedLogGate final : public DurabilityGate {
 public:
  bool IsDurable(uint64_t ticket) const override { return durable_.load() >= ticket; }
  bool WaitDurable(uint64_t ticket) override {
    waits_.fetch_add(1);
    std::this_thread::sleep_for(2ms);  // a log write: other requests arrive meanwhile
    if (fail_.load()) return false;
    uint64_t seen = durable_.load();
    while (seen < ticket && !durable_.compare_exchange_weak(seen, ticket)) {
    }
    return true;
  }
  HttpResponse FailureResponse() const override {
    return JsonErrorResponse(protocol::ErrorCode::kStorageFailed, "log failed");
  }

  uint64_t NextTicket() { return next_.fetch_add(1) + 1; }
  std::atomic<uint64_t> durable_{0};
  std::atomic<uint64_t> next_{0};
  std::atomic<int> waits_{0};
  std::atomic<bool> fail_{false};
};

TEST_F(HttpServerTest, ResponsesWaitForTheLogAndShareOneWait) {
  ScriptedLogGate gate;
  std::atomic<int> handled{0};
  Start([&](const HttpRequest& request) {
    HttpResponse response = Echo(request);
    response.durability = &gate;
    response.durable_ticket = gate.NextTicket();
    handled.fetch_add(1);
    return response;
  });
  // 8 connections, 25 pipelined requests each, all sent before reading.
  constexpr int kConnections = 8, kRequests = 25;
  std::vector<HttpClient> clients;
  for (int c = 0; c < kConnections; ++c) {
    clients.push_back(Connect());
    std::string batch;
    for (int i = 0; i < kRequests; ++i) batch += HttpClient::Encode("POST", "/w/" + std::to_string(i), "x");
    ASSERT_TRUE(clients.back().Send(batch));
  }
  for (int c = 0; c < kConnections; ++c) {
    for (int i = 0; i < kRequests; ++i) {
      HttpReply reply = clients[c].ReadResponse();
      ASSERT_EQ(reply.status, 200) << reply;
      EXPECT_EQ(reply.body, "POST /w/" + std::to_string(i) + " x");
    }
  }
  EXPECT_EQ(handled.load(), kConnections * kRequests);
  // Every response was sent only after its ticket was durable ...
  EXPECT_GE(gate.durable_.load(), static_cast<uint64_t>(kConnections * kRequests));
  // ... and waits were shared across connections (group commit), not one per request.
  EXPECT_LT(gate.waits_.load(), kConnections * kRequests / 2) << gate.waits_.load() << " waits";
  StopServer();
}

TEST_F(HttpServerTest, AFailedLogWaitAnswers503AndClosesTheConnection) {
  ScriptedLogGate gate;
  gate.fail_ = true;
  Start([&](const HttpRequest& request) {
    HttpResponse response = Echo(request);
    response.durability = &gate;
    response.durable_ticket = gate.NextTicket();
    return response;
  });
  HttpClient client = Connect();
  HttpReply reply = client.Call("POST", "/w", "x");
  EXPECT_EQ(reply.status, 503) << reply;
  EXPECT_EQ(ErrorCode(reply), "storage_failed");
  EXPECT_EQ(reply.Header("connection"), "close");
  EXPECT_TRUE(client.WaitClosed());

  // Pipelined writes: the first held response becomes the 503, the
  // connection closes, the second write is never answered.
  HttpClient pipelined = Connect();
  ASSERT_TRUE(pipelined.Send(HttpClient::Encode("POST", "/w/1", "x") + HttpClient::Encode("POST", "/w/2", "y")));
  HttpReply first = pipelined.ReadResponse();
  EXPECT_EQ(first.status, 503) << first;
  std::string rest;
  EXPECT_TRUE(pipelined.WaitClosed(3s, &rest));
  EXPECT_EQ(rest, "");
  StopServer();
}

TEST(HttpServer, PortZeroDisablesTheListener) {
  HttpServerOptions options;
  options.port = 0;
  HttpServer server(options, Echo);
  EXPECT_FALSE(server.enabled());
  EXPECT_TRUE(server.Start().ok());
  EXPECT_EQ(server.bound_port(), 0);
  server.Stop(100);
}

TEST(HttpServer, PortInUseIsAnErrorNamingTheAddress) {
  HttpServerOptions options;
  options.port = 0;
  options.ephemeral_port = true;
  HttpServer first(options, Echo);
  ASSERT_TRUE(first.Start().ok());
  options.port = first.bound_port();
  options.ephemeral_port = false;
  HttpServer second(options, Echo);
  storage::Status s = second.Start();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.ToString().find("cannot listen on 127.0.0.1:" + std::to_string(options.port)), std::string::npos)
      << s.ToString();
  options.bind = "not-an-address";
  HttpServer third(options, Echo);
  EXPECT_FALSE(third.Start().ok());
  first.Stop(100);
}

}  // namespace
}  // namespace tally::net
