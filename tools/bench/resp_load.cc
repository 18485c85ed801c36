// tally-resp-load: sends a SEQUENCE of commands as one unit (MULTI, INCR,
// EXPIRE, EXEC), which redis-benchmark cannot: it repeats one command. Same
// idea as redis-benchmark otherwise: -c connections, -n units in all, -P
// units pipelined per round trip, __rand_int__ in an argument replaced by a
// random number below -r. Prints units/s and latency percentiles per round
// trip; run it against redis-server and tallyd alike (tools/bench-vs-redis.sh
// does, for its sequence tests).
//
//   tally-resp-load -p 6380 -c 50 -n 100000 -P 16 -r 100000 \
//       -s 'MULTI' -s 'INCR c:__rand_int__' -s 'EXPIRE c:__rand_int__ 3600' -s 'EXEC'
//
// Every reply is read and checked for being complete RESP; error replies
// are counted and reported (a benchmark of failing commands proves nothing).

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

struct Options {
  std::string host = "127.0.0.1";
  int port = 6379;
  int connections = 50;
  int64_t units = 100000;
  int pipeline = 1;
  int64_t keyspace = 100000;
  std::vector<std::string> sequence;
  bool csv = false;
};

std::vector<std::string> SplitWords(const std::string& line) {
  std::vector<std::string> words;
  std::string word;
  for (char c : line) {
    if (c == ' ') {
      if (!word.empty()) words.push_back(std::move(word));
      word.clear();
    } else {
      word += c;
    }
  }
  if (!word.empty()) words.push_back(std::move(word));
  return words;
}

// One unit of the sequence, encoded as multibulk, with one random number
// shared by every __rand_int__ of the unit (INCR and EXPIRE name the same key).
void AppendUnit(std::string& out, const std::vector<std::vector<std::string>>& sequence, int64_t random) {
  const std::string number = std::to_string(random);
  for (const auto& words : sequence) {
    out += "*" + std::to_string(words.size()) + "\r\n";
    for (std::string word : words) {
      for (size_t at; (at = word.find("__rand_int__")) != std::string::npos;) word.replace(at, 12, number);
      out += "$" + std::to_string(word.size()) + "\r\n" + word + "\r\n";
    }
  }
}

// Length of the complete RESP value at the front of `in`, 0 if incomplete.
// `errors` counts error replies at any depth (EXEC's array holds them).
size_t ValueLength(std::string_view in, int64_t& errors) {
  if (in.empty()) return 0;
  const size_t eol = in.find("\r\n");
  if (eol == std::string_view::npos) return 0;
  const char type = in[0];
  const long long n = type == '+' || type == '-' ? 0 : std::atoll(std::string(in.substr(1, eol - 1)).c_str());
  size_t at = eol + 2;
  switch (type) {
    case '-':
      ++errors;
      return at;
    case '+':
    case ':':
    case ',':
    case '_':
    case '#':
      return at;
    case '$':
      if (n < 0) return at;
      return in.size() >= at + n + 2 ? at + n + 2 : 0;
    case '*':
    case '%':
    case '~': {
      const long long items = type == '%' ? 2 * n : n;
      for (long long i = 0; i < items; ++i) {
        const size_t len = ValueLength(in.substr(at), errors);
        if (len == 0) return 0;
        at += len;
      }
      return at;
    }
    default:
      return 0;
  }
}

int Connect(const Options& options) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(options.port));
  ::inet_pton(AF_INET, options.host.c_str(), &addr.sin_addr);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  CLI::App app{
      "Sends a sequence of commands as one unit (e.g. MULTI INCR EXPIRE EXEC) from many connections "
      "and reports units per second, like redis-benchmark does for one command."};
  app.add_option("-H,--host", options.host, "server address")->capture_default_str();
  app.add_option("-p,--port", options.port, "server port")->capture_default_str();
  app.add_option("-c,--connections", options.connections, "parallel connections")->capture_default_str();
  app.add_option("-n,--units", options.units, "units (sequences) in all")->capture_default_str();
  app.add_option("-P,--pipeline", options.pipeline, "units per round trip")->capture_default_str();
  app.add_option("-r,--keyspace", options.keyspace, "__rand_int__ is below this")->capture_default_str();
  app.add_option("-s,--command", options.sequence, "one command of the unit, words separated by spaces (repeat)")
      ->required();
  app.add_flag("--csv", options.csv, "one CSV line: units_per_sec,p50_ms,p99_ms,errors");
  CLI11_PARSE(app, argc, argv);

  std::vector<std::vector<std::string>> sequence;
  size_t replies_per_unit = 0;
  for (const std::string& line : options.sequence) {
    sequence.push_back(SplitWords(line));
    ++replies_per_unit;
  }
  std::atomic<int64_t> remaining{options.units};
  std::atomic<int64_t> errors{0};
  std::atomic<bool> failed{false};
  std::vector<std::vector<double>> latencies(options.connections);
  std::vector<std::thread> threads;
  const auto started = std::chrono::steady_clock::now();
  for (int c = 0; c < options.connections; ++c) {
    threads.emplace_back([&, c] {
      const int fd = Connect(options);
      if (fd < 0) {
        failed = true;
        return;
      }
      std::mt19937_64 random(c + 1);
      std::string out, in;
      char buffer[64 * 1024];
      int64_t my_errors = 0;
      for (;;) {
        const int64_t take = std::min<int64_t>(options.pipeline, remaining.fetch_sub(options.pipeline));
        if (take <= 0) break;
        out.clear();
        for (int64_t u = 0; u < take; ++u) {
          AppendUnit(out, sequence, static_cast<int64_t>(random() % static_cast<uint64_t>(options.keyspace)));
        }
        const auto sent = std::chrono::steady_clock::now();
        for (size_t off = 0; off < out.size();) {
          const ssize_t n = ::send(fd, out.data() + off, out.size() - off, MSG_NOSIGNAL);
          if (n <= 0) {
            failed = true;
            ::close(fd);
            return;
          }
          off += static_cast<size_t>(n);
        }
        size_t expected = static_cast<size_t>(take) * replies_per_unit;
        while (expected > 0) {
          size_t len;
          while (expected > 0 && (len = ValueLength(in, my_errors)) > 0) {
            in.erase(0, len);
            --expected;
          }
          if (expected == 0) break;
          const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
          if (n <= 0) {
            failed = true;
            ::close(fd);
            return;
          }
          in.append(buffer, static_cast<size_t>(n));
        }
        latencies[c].push_back(
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - sent).count());
      }
      errors += my_errors;
      ::close(fd);
    });
  }
  for (auto& t : threads) t.join();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (failed) {
    std::fprintf(stderr, "tally-resp-load: a connection failed (is the server on %s:%d?)\n", options.host.c_str(),
                 options.port);
    return 1;
  }
  std::vector<double> all;
  for (const auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  auto percentile = [&](double p) { return all.empty() ? 0.0 : all[static_cast<size_t>(p * (all.size() - 1))]; };
  const double rate = static_cast<double>(options.units) / seconds;
  if (options.csv) {
    std::printf("%.0f,%.3f,%.3f,%lld\n", rate, percentile(0.5), percentile(0.99), static_cast<long long>(errors));
  } else {
    std::printf("%lld units in %.2f s: %.0f units/s; round trip p50 %.3f ms, p99 %.3f ms; %lld error replies\n",
                static_cast<long long>(options.units), seconds, rate, percentile(0.5), percentile(0.99),
                static_cast<long long>(errors));
  }
  return errors > 0 ? 1 : 0;
}
