// Reads sxengine v2 pieces and storagex v1 pieces back into payload bytes.
#pragma once

#include <cstddef>
#include <span>

#include "codec/piece_format.h"
#include "sx/error.h"

namespace sx::codec {

struct PieceView {
  PieceHeader header;
  std::span<const std::byte> payload;  // points into the caller's pixel buffer
};

// Decodes `png` into `pixels` and checks header and payload CRC. The payload
// view lives as long as `pixels`. kCorrupt on any mismatch; allocates nothing
// for what piece_writer makes.
Result<PieceView> read_piece(std::span<const std::byte> png, std::span<std::byte> pixels,
                             const DecodeLimits& limits);

// The header and payload CRC checks of read_piece, on pixels already decoded.
Result<PieceView> check_piece(std::span<const std::byte> pixels);

// storagex 0.1–0.3: pixel bytes are a little-endian u32 payload length, the
// payload, then zero padding. No checksum exists in that format.
Result<std::span<const std::byte>> read_storagex_v1_piece(std::span<const std::byte> png,
                                                          std::span<std::byte> pixels,
                                                          const DecodeLimits& limits);

// True when the decoded pixel bytes start with the v2 piece magic.
bool has_piece_magic(std::span<const std::byte> pixels);

}  // namespace sx::codec
