#pragma once
// The built-in web dashboard (docs/dashboard.md): plain HTML, CSS and
// JavaScript from web/, embedded into tallyd at build time (web/embed.cmake
// writes them into a generated dashboard_assets.cc), so installing tally
// needs no Node.js and the page loads nothing from elsewhere.
//
// Served on the HTTP listener at `/` (index.html) and `/dashboard/<file>`,
// without a token: the files hold no data. Every figure the page shows comes
// from the JSON API (docs/http.md), called by the page with the user's Bearer
// token; the API enforces the token as for any client. One endpoint of the
// dashboard's own, `GET /dashboard/session`, says whether a token is needed
// and what the request's token may do, so the page can ask for a token and
// hide edit controls without provoking 401s and 403s.
//
// Every file is sent with a strict Content-Security-Policy (scripts, styles,
// connections only from the daemon itself; no inline script), nosniff, and
// `Cache-Control: no-cache` with an ETag of its content (a 304 when the
// browser has it).
//
// No Beast here (plain values of net/http_types.h). Thread-safe: the assets
// are constant.

#include <cstddef>
#include <optional>
#include <span>
#include <string_view>

#include "commands/access.h"
#include "net/http_fields.h"
#include "net/http_types.h"

namespace tally::net {

// One embedded file of web/ (defined in the generated dashboard_assets.cc).
struct DashboardAsset {
  std::string_view path;          // relative to web/: "index.html", "js/app.js"
  std::string_view content_type;  // "text/javascript; charset=utf-8"
  std::string_view etag;          // "\"<sha256 prefix>\"", quoted as sent
  const unsigned char* data;
  size_t size;
};
std::span<const DashboardAsset> DashboardAssets();

// The response for a dashboard path (`/`, `/dashboard`, `/dashboard/...`),
// or nullopt for any other path (an API route). `identity`: who the
// request's Bearer token is (admin "local" for everyone without
// authentication); `auth_enabled`: whether the API wants a token.
std::optional<HttpResponse> ServeDashboard(const HttpRequest& request, const Target& target,
                                           const HttpIdentity& identity, bool auth_enabled);

}  // namespace tally::net
