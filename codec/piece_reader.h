// Reads sxengine v2 pieces and storagex v1 pieces back into payload bytes.
#pragma once

#include <cstddef>
#include <span>

#include "codec/piece_format.h"
#include "codec/png_decoder.h"
#include "sx/error.h"

namespace sx::codec {

struct PieceView {
  PieceHeader header;
  std::span<const std::byte> payload;  // points into the caller's pixel buffer
};

// Who vouches for the payload's bytes. kAuthenticatedLater: the caller opens
// it with AES-256-GCM, whose tag refuses any altered byte, so its CRC-32 is
// not computed (the header's CRC still is).
enum class PayloadCrc { kCheck, kAuthenticatedLater };

// Decodes `png` into `pixels` and checks the header CRC and (unless the
// caller authenticates it) the payload CRC: together they cover every byte
// used, so the PNG's own chunk CRC is not computed again on the fast path.
// The payload view lives as long as `pixels`. kCorrupt on any mismatch;
// allocates nothing for what piece_writer makes.
Result<PieceView> read_piece(std::span<const std::byte> png, std::span<std::byte> pixels,
                             const DecodeLimits& limits, PayloadCrc payload_crc = PayloadCrc::kCheck);

// The header and payload CRC checks of read_piece, on pixels already decoded
// (`computed`: the payload CRC the decoder took on the way, if it did).
Result<PieceView> check_piece(std::span<const std::byte> pixels, PayloadCrc payload_crc = PayloadCrc::kCheck,
                              const PayloadCrcTap* computed = nullptr);

// storagex 0.1–0.3: pixel bytes are a little-endian u32 payload length, the
// payload, then zero padding. No checksum exists in that format.
Result<std::span<const std::byte>> read_storagex_v1_piece(std::span<const std::byte> png,
                                                          std::span<std::byte> pixels,
                                                          const DecodeLimits& limits);

// True when the decoded pixel bytes start with the v2 piece magic.
bool has_piece_magic(std::span<const std::byte> pixels);

}  // namespace sx::codec
