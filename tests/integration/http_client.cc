#include "http_client.h"

#include "socket_io.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <ostream>
#include <sstream>

namespace tally::itest {
namespace {

using Clock = std::chrono::steady_clock;

std::string Lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view TrimView(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

bool ParseSize(std::string_view text, int base, size_t* out) {
  if (text.empty() || text.size() > 16) return false;
  size_t value = 0;
  for (char c : text) {
    int digit;
    if (c >= '0' && c <= '9') {
      digit = c - '0';
    } else if (base == 16 && c >= 'a' && c <= 'f') {
      digit = c - 'a' + 10;
    } else if (base == 16 && c >= 'A' && c <= 'F') {
      digit = c - 'A' + 10;
    } else {
      return false;
    }
    value = value * static_cast<size_t>(base) + static_cast<size_t>(digit);
  }
  *out = value;
  return true;
}

}  // namespace

std::string HttpReply::Header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_name) return value;
  }
  return "";
}

bool HttpReply::HasHeader(std::string_view lower_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_name) return true;
  }
  return false;
}

std::string HttpReply::Describe() const {
  std::ostringstream os;
  if (!ok()) {
    os << "<no response: " << error << ">";
    return os.str();
  }
  os << version << " " << status << " " << reason << "\n";
  for (const auto& [name, value] : headers) os << name << ": " << value << "\n";
  os << "\n" << body.substr(0, 2000);
  if (body.size() > 2000) os << "... (" << body.size() << " bytes)";
  return os.str();
}

std::ostream& operator<<(std::ostream& os, const HttpReply& reply) { return os << reply.Describe(); }

std::optional<HttpClient> HttpClient::Connect(int port, std::chrono::milliseconds timeout) {
  int fd = ConnectLoopbackTcp(port, timeout);
  if (fd < 0) return std::nullopt;
  return HttpClient(fd);
}

std::string HttpClient::Encode(const std::string& method, const std::string& target, const std::string& body,
                               const Headers& headers) {
  std::string out = method + " " + target + " HTTP/1.1\r\n";
  bool has_host = false, has_length = false;
  for (const auto& [name, value] : headers) {
    std::string lower = Lower(name);
    has_host = has_host || lower == "host";
    has_length = has_length || lower == "content-length" || lower == "transfer-encoding";
  }
  if (!has_host) out += "Host: 127.0.0.1\r\n";
  for (const auto& [name, value] : headers) out += name + ": " + value + "\r\n";
  if (!has_length && (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH")) {
    out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  out += "\r\n";
  out += body;
  return out;
}

HttpReply HttpClient::Request(int port, const std::string& method, const std::string& target, const std::string& body,
                              const Headers& headers) {
  auto client = Connect(port);
  if (!client) {
    HttpReply none;
    none.error = "cannot connect to 127.0.0.1:" + std::to_string(port) + ": " + strerror(errno);
    return none;
  }
  return client->Call(method, target, body, headers);
}

HttpReply HttpClient::Call(const std::string& method, const std::string& target, const std::string& body,
                           const Headers& headers) {
  if (!Send(Encode(method, target, body, headers))) {
    HttpReply none;
    none.error = std::string("send failed: ") + strerror(errno);
    return none;
  }
  return ReadResponse(std::chrono::seconds(10), method == "HEAD");
}

HttpReply HttpClient::ReadResponse(std::chrono::milliseconds timeout, bool head,
                                   const std::function<void(std::string_view chunk)>& on_chunk) {
  const auto deadline = Clock::now() + timeout;
  HttpReply reply;
  auto fail = [&](const std::string& why) {
    HttpReply none;
    none.error = why + (buffer_.empty() ? "" : " (pending bytes: " + buffer_.substr(0, 200) + ")");
    return none;
  };
  std::string why;
  // Status line and headers.
  size_t header_end;
  while ((header_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
    if (!Fill(deadline, &why)) return fail(why);
  }
  std::string_view head_text(buffer_.data(), header_end);
  size_t line_end = head_text.find("\r\n");
  std::string_view status_line = head_text.substr(0, line_end);
  size_t sp1 = status_line.find(' ');
  if (sp1 == std::string_view::npos || status_line.substr(0, 5) != "HTTP/") {
    return fail("malformed status line '" + std::string(status_line) + "'");
  }
  size_t sp2 = status_line.find(' ', sp1 + 1);
  size_t code = 0;
  if (!ParseSize(status_line.substr(sp1 + 1, sp2 == std::string_view::npos ? std::string_view::npos : sp2 - sp1 - 1),
                 10, &code)) {
    return fail("malformed status line '" + std::string(status_line) + "'");
  }
  reply.version = std::string(status_line.substr(0, sp1));
  reply.reason = sp2 == std::string_view::npos ? "" : std::string(status_line.substr(sp2 + 1));
  size_t pos = line_end == std::string_view::npos ? head_text.size() : line_end + 2;
  while (pos < head_text.size()) {
    size_t eol = head_text.find("\r\n", pos);
    if (eol == std::string_view::npos) eol = head_text.size();
    std::string_view line = head_text.substr(pos, eol - pos);
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) return fail("malformed header line '" + std::string(line) + "'");
    reply.headers.emplace_back(Lower(TrimView(line.substr(0, colon))), std::string(TrimView(line.substr(colon + 1))));
    pos = eol + 2;
  }
  buffer_.erase(0, header_end + 4);

  // The body.
  const int status = static_cast<int>(code);
  const bool no_body = head || (status >= 100 && status < 200) || status == 204 || status == 304;
  std::string te = Lower(reply.Header("transfer-encoding"));
  reply.chunked = te.find("chunked") != std::string::npos;
  if (no_body) {
    // nothing
  } else if (reply.chunked) {
    while (true) {
      size_t eol;
      while ((eol = buffer_.find("\r\n")) == std::string::npos) {
        if (!Fill(deadline, &why)) return fail("in chunk size: " + why);
      }
      std::string_view size_text(buffer_.data(), eol);
      size_text = size_text.substr(0, size_text.find(';'));  // chunk extensions
      size_t size = 0;
      if (!ParseSize(TrimView(size_text), 16, &size)) {
        return fail("malformed chunk size '" + std::string(size_text.substr(0, 40)) + "'");
      }
      if (size == 0) {
        // Trailers (none expected), then the empty line.
        buffer_.erase(0, eol + 2);
        size_t end;
        while ((end = buffer_.find("\r\n")) == std::string::npos) {
          if (!Fill(deadline, &why)) return fail("in last chunk: " + why);
        }
        while (end != 0) {  // skip trailer lines
          buffer_.erase(0, end + 2);
          while ((end = buffer_.find("\r\n")) == std::string::npos) {
            if (!Fill(deadline, &why)) return fail("in trailers: " + why);
          }
        }
        buffer_.erase(0, 2);
        break;
      }
      while (buffer_.size() < eol + 2 + size + 2) {
        if (!Fill(deadline, &why)) return fail("in chunk data: " + why);
      }
      if (buffer_.compare(eol + 2 + size, 2, "\r\n") != 0) return fail("chunk data not followed by CRLF");
      std::string_view data(buffer_.data() + eol + 2, size);
      if (on_chunk) {
        on_chunk(data);
      } else {
        reply.body.append(data);
      }
      ++reply.chunks;
      buffer_.erase(0, eol + 2 + size + 2);
    }
  } else if (reply.HasHeader("content-length")) {
    size_t length = 0;
    if (!ParseSize(reply.Header("content-length"), 10, &length)) return fail("malformed Content-Length");
    while (buffer_.size() < length) {
      if (!Fill(deadline, &why)) return fail("in body: " + why);
    }
    reply.body = buffer_.substr(0, length);
    buffer_.erase(0, length);
  } else {
    // No framing: the body ends when the server closes.
    while (Fill(deadline, &why)) {
    }
    if (why == "timeout") return fail("body without length did not end");
    reply.body = std::move(buffer_);
    buffer_.clear();
    Close();
  }
  reply.status = status;
  return reply;
}

}  // namespace tally::itest
