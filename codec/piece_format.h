// Piece format version 2: the header stored in the first pixel bytes and the
// image geometry. docs/FORMAT.md is the authoritative byte-level spec and wins
// over this file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "sx/error.h"

namespace sx::codec {

inline constexpr std::uint8_t kPieceMagic[4] = {'S', 'X', 'P', 'C'};
inline constexpr std::uint8_t kFormatVersion = 2;
inline constexpr std::size_t kHeaderBytes = 32;
inline constexpr std::size_t kBytesPerPixel = 3;  // 8-bit truecolor (RGB8)

// Header flag bits (docs/FORMAT.md §Flags). Unknown bits are refused.
enum PieceFlags : std::uint8_t {
  kFlagManifest = 0x01,    // payload is manifest JSON (or a slice of it)
  kFlagParity = 0x02,      // payload is a Reed-Solomon parity shard of a stripe (§10)
  kFlagCompressed = 0x04,  // payload is zstd-compressed (before encryption)
  kFlagEncrypted = 0x08,   // payload is AES-256-GCM ciphertext ‖ tag
};
inline constexpr std::uint8_t kKnownFlags = kFlagManifest | kFlagParity | kFlagCompressed | kFlagEncrypted;

struct PieceHeader {
  std::uint8_t flags = 0;
  std::uint64_t piece_index = 0;
  std::uint64_t payload_bytes = 0;
  std::uint32_t payload_crc32 = 0;
};

// Serializes into exactly kHeaderBytes, header CRC included.
void encode_header(const PieceHeader& header, std::span<std::byte, kHeaderBytes> out);
// Checks magic, version, header CRC and flags; kCorrupt otherwise.
Result<PieceHeader> decode_header(std::span<const std::byte> pixels);
// The same on the header bytes alone, for an image of `pixel_bytes` (a
// reader that has not got the rest yet).
Result<PieceHeader> decode_header(std::span<const std::byte, kHeaderBytes> head, std::size_t pixel_bytes);

// Image size limits enforced by readers before anything is allocated.
struct DecodeLimits {
  std::uint32_t max_width = 16384;
  std::uint32_t max_height = 16384;
  std::size_t max_pixel_bytes = std::size_t{256} << 20;  // decoded RGB8 bytes
};
inline constexpr DecodeLimits kDefaultLimits{};

// Width of every piece of a file; height of a full piece. A piece of payload n
// is `rows_for(n)` rows high, so the last piece carries no padding rows.
struct Geometry {
  std::uint32_t width = 0;
  std::uint32_t height = 0;

  // Payload bytes a full-height piece carries.
  std::size_t capacity() const {
    return std::size_t{width} * height * kBytesPerPixel - kHeaderBytes;
  }
  std::uint32_t rows_for(std::size_t payload_bytes) const;
};

// Near-square geometry whose capacity is at least `piece_bytes`.
Result<Geometry> geometry_for_piece_size(std::size_t piece_bytes, const DecodeLimits& limits);
// Explicit width × height, as storagex's --width/--height.
Result<Geometry> geometry_for_dimensions(std::uint32_t width, std::uint32_t height,
                                         const DecodeLimits& limits);

inline std::size_t pixel_bytes(std::uint32_t width, std::uint32_t rows) {
  return std::size_t{width} * rows * kBytesPerPixel;
}

}  // namespace sx::codec
