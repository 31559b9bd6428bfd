#include "engine/core/png_body_check.h"

#include <string>

#include "codec/png_decoder.h"

namespace sx::engine {
namespace {

// A server's Content-Type, if it has the shape of one ("text/html;
// charset=utf-8"): metadata, shown; anything else is left out.
std::string media_type(std::string_view type) {
  if (type.size() > 64) return {};
  for (const char c : type)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
          std::string_view("/+-.;= _").find(c) != std::string_view::npos))
      return {};
  return std::string(type);
}

}  // namespace

net::BodyCheck png_body_check(const codec::DecodeLimits& limits) {
  return [limits](std::span<const std::byte> head, std::string_view content_type) -> Result<std::size_t> {
    auto bound = codec::png_body_bound(head, limits);
    if (bound || bound.error().code != Errc::kCorrupt) return bound;
    // A local object has no content type; a server's says what it sent.
    // Never the body's bytes: a gateway shows this to its clients, and the
    // object may be anything a key names (docs/SECURITY.md).
    const std::string type = media_type(content_type);
    std::string what = type.empty() ? std::string("not a PNG image") : "the server sent " + type + ", not a PNG image";
    if (bound.error().message != "not a PNG image") what += ": " + bound.error().message;
    return make_error(Errc::kCorrupt, std::move(what));
  };
}

}  // namespace sx::engine
