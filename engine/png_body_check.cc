#include "engine/png_body_check.h"

#include <string>

#include "codec/png_decoder.h"

namespace sx::engine {
namespace {

// The first bytes of a body, printable, for a message.
std::string sample(std::span<const std::byte> head) {
  std::string out;
  for (std::size_t i = 0; i < head.size() && out.size() < 24; ++i) {
    const auto c = static_cast<unsigned char>(head[i]);
    if (c >= 0x20 && c < 0x7f) out.push_back(static_cast<char>(c));
    else out += ".";
  }
  return out;
}

}  // namespace

net::BodyCheck png_body_check(const codec::DecodeLimits& limits) {
  return [limits](std::span<const std::byte> head, std::string_view content_type) -> Result<std::size_t> {
    auto bound = codec::png_body_bound(head, limits);
    if (bound || bound.error().code != Errc::kCorrupt) return bound;
    // A local object has no content type; a server's says what it sent.
    std::string what = content_type.empty() ? std::string("not a PNG image")
                                            : "the server sent " + std::string(content_type.substr(0, 64)) +
                                                  ", not a PNG image";
    what += " (it begins \"" + sample(head) + "\")";
    if (bound.error().message != "not a PNG image") what += ": " + bound.error().message;
    return make_error(Errc::kCorrupt, std::move(what));
  };
}

}  // namespace sx::engine
