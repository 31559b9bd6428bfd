// Turns PNG bytes into RGB8 pixel bytes. A fast path takes exactly what
// piece_writer makes; every other valid PNG (any filter, compression, chunking,
// colour type, palette, bit depth) goes through libspng.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "codec/piece_format.h"
#include "sx/error.h"

namespace sx::codec {

struct ImageInfo {
  std::uint32_t width = 0;
  std::uint32_t height = 0;
  std::size_t rgb8_bytes() const { return pixel_bytes(width, height); }
};

// Reads the signature and IHDR only, checking them against `limits`, so a
// caller can size its buffer before decoding. kCorrupt or kLimit on failure.
Result<ImageInfo> read_image_info(std::span<const std::byte> png, const DecodeLimits& limits);

// The most bytes a PNG of width x height may take as a host may hand it
// back: re-encoded losslessly it may have gained an alpha channel or 16-bit
// samples (up to 8/3 of the RGB8 bytes when incompressible).
std::size_t max_received_png_bytes(std::uint32_t width, std::uint32_t height);

// Judges the first bytes of a body before the rest arrives: a PNG signature
// and an IHDR within `limits`; returns max_received_png_bytes for that IHDR.
// kCorrupt ("not a PNG image") or kLimit otherwise.
Result<std::size_t> png_body_bound(std::span<const std::byte> head, const DecodeLimits& limits);

// What the fast path does with the IDAT chunk's CRC-32. kCallerChecks: the
// caller checks every byte it uses itself (a v2 piece: header CRC, payload
// CRC or AEAD tag), so a second pass over the whole image would only repeat
// it; a flipped byte in the unused padding then goes unnoticed, harmlessly.
enum class ChunkCrc { kCheck, kCallerChecks };

// The CRC-32 of a v2 piece's payload (named by the header in the first
// pixel bytes), taken by the fast path as it writes each block, while the
// bytes are in cache, instead of in a second pass over the image. `done` is
// set only when the fast path decoded the whole image and the header parsed;
// otherwise the caller computes the CRC itself.
struct PayloadCrcTap {
  bool done = false;
  std::uint32_t crc = 0;
};

// Decodes into `pixels` (at least info.rgb8_bytes()); returns the RGB8 bytes
// written, a prefix of `pixels`. Allocates nothing on the fast path. libspng
// always checks chunk CRCs.
Result<std::span<std::byte>> decode_rgb8(std::span<const std::byte> png,
                                         std::span<std::byte> pixels, const DecodeLimits& limits,
                                         ChunkCrc chunk_crc = ChunkCrc::kCheck, PayloadCrcTap* tap = nullptr);

// The complete decoder alone (libspng); used by decode_rgb8 and by tests.
Result<std::span<std::byte>> decode_rgb8_complete(std::span<const std::byte> png,
                                                  std::span<std::byte> pixels,
                                                  const DecodeLimits& limits);

}  // namespace sx::codec
