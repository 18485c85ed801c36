// Serving the embedded dashboard files (net/dashboard.h).

#include "net/dashboard.h"

#include <string>

#include "net/http_route.h"

namespace tally::net {
namespace {

// Scripts, styles, images and connections from the daemon only; no inline
// script or style element, no plugin, no framing by another page.
constexpr std::string_view kContentSecurityPolicy =
    "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'";

const DashboardAsset* FindAsset(std::string_view path) {
  for (const DashboardAsset& asset : DashboardAssets()) {
    if (asset.path == path) return &asset;
  }
  return nullptr;
}

void AddPageHeaders(HttpResponse& response) {
  response.headers.emplace_back("Content-Security-Policy", std::string(kContentSecurityPolicy));
  response.headers.emplace_back("X-Content-Type-Options", "nosniff");
  response.headers.emplace_back("X-Frame-Options", "DENY");
  response.headers.emplace_back("Referrer-Policy", "no-referrer");
}

HttpResponse NotFound(std::string_view path) {
  HttpResponse response = Json(
      404, {{"error",
             {{"code", "not_found"},
              {"message", "no dashboard file '" + std::string(path.substr(0, 128)) + "' (the dashboard is at /)"}}}});
  AddPageHeaders(response);
  return response;
}

// Does the browser's If-None-Match list name `etag`?
bool BrowserHas(const HttpRequest& request, std::string_view etag) {
  std::string_view list = request.Header("if-none-match");
  while (!list.empty()) {
    const size_t comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item.starts_with("W/")) item.remove_prefix(2);
    if (item == etag || item == "*") return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

HttpResponse ServeAsset(const HttpRequest& request, const DashboardAsset& asset) {
  HttpResponse response;
  AddPageHeaders(response);
  // Revalidated on every load (a new tallyd may ship new files), usually as a 304.
  response.headers.emplace_back("Cache-Control", "no-cache");
  response.headers.emplace_back("ETag", std::string(asset.etag));
  if (BrowserHas(request, asset.etag)) {
    response.status = 304;
    response.content_type.clear();
    return response;
  }
  response.content_type = std::string(asset.content_type);
  response.body.assign(reinterpret_cast<const char*>(asset.data), asset.size);
  return response;
}

// GET /dashboard/session: whether the API wants a token, what the
// request's token may do ("none" when a token is wanted and this one is
// missing or wrong) and its name, the audit trail's actor of its changes.
// Never 401: the page asks for a token when it reads "none". Never cached:
// it depends on the Authorization header.
HttpResponse Session(const HttpIdentity& identity, bool auth_enabled) {
  const Identity role = identity.role;
  const char* role_name = role == Identity::kAdmin ? "admin" : role == Identity::kReader ? "reader" : "none";
  HttpResponse response = Json(200, {{"auth_required", auth_enabled},
                                     {"identity", role_name},
                                     {"name", identity.name},
                                     {"can_write", role == Identity::kAdmin}});
  response.headers.emplace_back("Cache-Control", "no-store");
  response.headers.emplace_back("Vary", "Authorization");
  return response;
}

}  // namespace

std::optional<HttpResponse> ServeDashboard(const HttpRequest& request, const Target& target,
                                           const HttpIdentity& identity, bool auth_enabled) {
  const std::vector<std::string>& segments = target.segments;
  const bool root = segments.empty();
  if (!root && segments[0] != "dashboard") return std::nullopt;
  if (request.method != "GET" && request.method != "HEAD") {
    HttpResponse response = Json(
        405,
        {{"error", {{"code", "method_not_allowed"}, {"message", "the dashboard's files are read with GET or HEAD"}}}});
    response.headers.emplace_back("Allow", "GET, HEAD");
    return response;
  }
  if (segments.size() == 2 && segments[1] == "session") return Session(identity, auth_enabled);
  std::string path;
  for (size_t i = 1; i < segments.size(); ++i) {
    // Decoded segments: no way out of web/ (and nothing there is named so).
    if (segments[i].empty() || segments[i] == "." || segments[i] == ".." ||
        segments[i].find('/') != std::string::npos) {
      return NotFound(request.target);
    }
    if (!path.empty()) path += '/';
    path += segments[i];
  }
  if (path.empty()) path = "index.html";
  const DashboardAsset* asset = FindAsset(path);
  if (asset == nullptr) return NotFound(request.target);
  return ServeAsset(request, *asset);
}

}  // namespace tally::net
