// The first stage of a push: how big each piece is and what image carries
// it, fitted to what the backend accepts (an image host's byte and pixel
// limits) and to the decode limits every reader enforces.
#pragma once

#include <cstddef>
#include <string_view>

#include "codec/piece_format.h"
#include "net/backend.h"
#include "sx/error.h"
#include "sx/options.h"

namespace sx::engine {

// Smaller pieces could not hold enough manifest index entries for the index
// tree to shrink level by level.
inline constexpr std::size_t kMinPieceBytes = 1024;

struct PiecePlan {
  std::size_t piece_bytes = 0;  // file bytes per piece (the last may hold fewer)
  codec::Geometry geometry;     // of a full piece; capacity() ≥ piece_bytes + overhead
};

// kInvalidArgument when the options cannot fit the backend (names it).
Result<PiecePlan> plan_pieces(const Options& options, const net::ObjectLimits& accepts,
                              const codec::DecodeLimits& limits, std::string_view backend_name);

}  // namespace sx::engine
