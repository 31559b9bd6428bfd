// What every GET of a piece or manifest expects: a PNG whose IHDR is within
// the decode limits. Judged on the body's first bytes (net::BodyCheck), so a
// server's junk, HTML page or endless body is refused at once.
#pragma once

#include "codec/piece_format.h"
#include "net/http.h"

namespace sx::engine {

net::BodyCheck png_body_check(const codec::DecodeLimits& limits);

}  // namespace sx::engine
