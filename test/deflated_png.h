// A PNG made with zlib at any level (0: stored blocks), filter 0 on every row
// but an optional one that uses the Up filter: images shaped like what
// another encoder or a re-encoding host hands back.
#pragma once

#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "codec/byte_order.h"
#include "codec/checksum.h"

namespace sx::testing {

inline std::vector<std::byte> deflated_png(const std::byte* pixels, std::uint32_t width, std::uint32_t rows,
                                           int level, std::uint32_t up_filter_row = 0) {
  const std::size_t row_bytes = std::size_t{width} * 3;
  std::vector<unsigned char> raw;
  raw.reserve((row_bytes + 1) * rows);
  for (std::uint32_t r = 0; r < rows; ++r) {
    const bool up = up_filter_row != 0 && r == up_filter_row && r < rows;
    raw.push_back(up ? 2 : 0);
    for (std::size_t c = 0; c < row_bytes; ++c) {
      auto v = std::to_integer<unsigned char>(pixels[r * row_bytes + c]);
      if (up) v = static_cast<unsigned char>(v - std::to_integer<unsigned char>(pixels[(r - 1) * row_bytes + c]));
      raw.push_back(v);
    }
  }
  uLongf packed_bytes = compressBound(static_cast<uLong>(raw.size()));
  std::vector<unsigned char> packed(packed_bytes);
  if (compress2(packed.data(), &packed_bytes, raw.data(), static_cast<uLong>(raw.size()), level) != Z_OK) return {};
  std::vector<std::byte> png(8);
  std::memcpy(png.data(), "\x89PNG\r\n\x1a\n", 8);
  const auto chunk = [&](const char* type, const unsigned char* data, std::size_t n) {
    const std::size_t at = png.size();
    png.resize(at + 12 + n);
    codec::store_be32(png.data() + at, static_cast<std::uint32_t>(n));
    std::memcpy(png.data() + at + 4, type, 4);
    if (n > 0) std::memcpy(png.data() + at + 8, data, n);
    codec::store_be32(png.data() + at + 8 + n,
                      codec::crc32(std::span<const std::byte>(png.data() + at + 4, 4 + n)));
  };
  unsigned char ihdr[13] = {0, 0, 0, 0, 0, 0, 0, 0, 8, 2, 0, 0, 0};
  codec::store_be32(reinterpret_cast<std::byte*>(ihdr), width);
  codec::store_be32(reinterpret_cast<std::byte*>(ihdr + 4), rows);
  chunk("IHDR", ihdr, sizeof ihdr);
  chunk("IDAT", packed.data(), packed_bytes);
  chunk("IEND", nullptr, 0);
  return png;
}

}  // namespace sx::testing
