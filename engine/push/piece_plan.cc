#include "engine/push/piece_plan.h"

#include <algorithm>
#include <string>

#include "codec/piece_writer.h"
#include "engine/core/payload_transform.h"

namespace sx::engine {

Result<PiecePlan> plan_pieces(const Options& o, const net::ObjectLimits& accepts,
                              const codec::DecodeLimits& limits, std::string_view backend_name) {
  codec::DecodeLimits shape = limits;
  if (accepts.max_width) shape.max_width = std::min(shape.max_width, accepts.max_width);
  if (accepts.max_height) shape.max_height = std::min(shape.max_height, accepts.max_height);
  const bool explicit_size = o.width || o.height;
  std::size_t piece_bytes = o.piece_bytes;
  if (!explicit_size && (accepts.max_width || accepts.max_height)) {
    // The largest piece whose image fits the host's dimensions.
    const std::size_t pixels = std::size_t{shape.max_width} * shape.max_height * codec::kBytesPerPixel;
    const std::size_t fits = pixels > codec::kHeaderBytes + kPayloadOverhead
                                 ? pixels - codec::kHeaderBytes - kPayloadOverhead : 0;
    piece_bytes = std::min(piece_bytes, std::max(fits, kMinPieceBytes));
  }
  // Stored payloads carry the AEAD tag on top of the piece's bytes.
  auto geometry = explicit_size ? codec::geometry_for_dimensions(o.width, o.height, shape)
                                : codec::geometry_for_piece_size(piece_bytes + kPayloadOverhead, shape);
  while (geometry && !explicit_size && accepts.max_bytes &&
         codec::max_png_bytes(*geometry) > accepts.max_bytes && piece_bytes > kMinPieceBytes) {
    piece_bytes = std::max(kMinPieceBytes, piece_bytes / 8 * 7);
    geometry = codec::geometry_for_piece_size(piece_bytes + kPayloadOverhead, shape);
  }
  if (!geometry) return std::move(geometry).error();
  if (explicit_size) {
    if (geometry->capacity() <= kPayloadOverhead)
      return make_error(Errc::kInvalidArgument, "--width x --height is too small for a piece");
    piece_bytes = geometry->capacity() - kPayloadOverhead;
  }
  if (accepts.max_bytes && codec::max_png_bytes(*geometry) > accepts.max_bytes)
    return make_error(Errc::kInvalidArgument, "pieces of this size exceed the " + std::to_string(accepts.max_bytes) +
                                                  " bytes " + std::string(backend_name) + " accepts");
  if (piece_bytes < kMinPieceBytes)
    return make_error(Errc::kInvalidArgument, "pieces must carry at least " + std::to_string(kMinPieceBytes) +
                                                  " bytes (a manifest index must fit in one)");
  return PiecePlan{piece_bytes, *geometry};
}

}  // namespace sx::engine
