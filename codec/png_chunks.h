// PNG container pieces shared by the writer and the reader (PNG spec §5).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "codec/byte_order.h"
#include "codec/checksum.h"

namespace sx::codec::png {

inline constexpr std::uint8_t kSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
inline constexpr std::size_t kSignatureBytes = 8;
inline constexpr std::size_t kIhdrBytes = 13;

// length + type + data + CRC
constexpr std::size_t chunk_bytes(std::size_t data_bytes) { return 12 + data_bytes; }

// Signature and an IHDR for 8-bit truecolor, no interlace. Returns the end.
inline std::byte* write_signature_and_ihdr(std::byte* p, std::uint32_t width, std::uint32_t rows) {
  std::memcpy(p, kSignature, 8);
  p += 8;
  std::byte* chunk = p;
  store_be32(p, kIhdrBytes);
  std::memcpy(p + 4, "IHDR", 4);
  store_be32(p + 8, width);
  store_be32(p + 12, rows);
  p[16] = std::byte{8};  // bit depth
  p[17] = std::byte{2};  // colour type: truecolor
  p[18] = std::byte{0};  // compression: deflate
  p[19] = std::byte{0};  // filter method 0
  p[20] = std::byte{0};  // no interlace
  store_be32(p + 21, crc32(std::span<const std::byte>(chunk + 4, 4 + kIhdrBytes)));
  return p + chunk_bytes(kIhdrBytes);
}

inline std::byte* write_iend(std::byte* p) {
  store_be32(p, 0);
  std::memcpy(p + 4, "IEND", 4);
  store_be32(p + 8, 0xAE426082u);  // CRC-32 of "IEND"
  return p + 12;
}

}  // namespace sx::codec::png
