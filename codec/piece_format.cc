#include "codec/piece_format.h"

#include <cmath>
#include <cstring>
#include <string>

#include "codec/byte_order.h"
#include "codec/checksum.h"

namespace sx::codec {

void encode_header(const PieceHeader& header, std::span<std::byte, kHeaderBytes> out) {
  std::byte* p = out.data();
  std::memcpy(p, kPieceMagic, 4);
  p[4] = std::byte{kFormatVersion};
  p[5] = std::byte{header.flags};
  store_le16(p + 6, kHeaderBytes);
  store_le64(p + 8, header.piece_index);
  store_le64(p + 16, header.payload_bytes);
  store_le32(p + 24, header.payload_crc32);
  store_le32(p + 28, crc32(std::span<const std::byte>(p, 28)));
}

Result<PieceHeader> decode_header(std::span<const std::byte> pixels) {
  if (pixels.size() < kHeaderBytes)
    return make_error(Errc::kCorrupt, "piece image too small to hold a header");
  return decode_header(pixels.first<kHeaderBytes>(), pixels.size());
}

Result<PieceHeader> decode_header(std::span<const std::byte, kHeaderBytes> head, std::size_t pixel_bytes) {
  const std::byte* p = head.data();
  if (std::memcmp(p, kPieceMagic, 4) != 0)
    return make_error(Errc::kCorrupt, "not an sxengine piece (bad magic)");
  const auto version = static_cast<std::uint8_t>(p[4]);
  if (version != kFormatVersion)
    return make_error(Errc::kCorrupt,
                      "unsupported piece format version " + std::to_string(version));
  if (load_le32(p + 28) != crc32(std::span<const std::byte>(p, 28)))
    return make_error(Errc::kCorrupt, "piece header checksum mismatch");
  if (load_le16(p + 6) != kHeaderBytes)
    return make_error(Errc::kCorrupt, "unsupported piece header size");
  PieceHeader header;
  header.flags = static_cast<std::uint8_t>(p[5]);
  if ((header.flags & ~kKnownFlags) != 0)
    return make_error(Errc::kCorrupt, "piece uses unsupported flags (newer sxengine?)");
  header.piece_index = load_le64(p + 8);
  header.payload_bytes = load_le64(p + 16);
  header.payload_crc32 = load_le32(p + 24);
  if (header.payload_bytes > pixel_bytes - kHeaderBytes)
    return make_error(Errc::kCorrupt, "piece header claims more payload than the image holds");
  return header;
}

std::uint32_t Geometry::rows_for(std::size_t payload_bytes) const {
  const std::size_t row_bytes = std::size_t{width} * kBytesPerPixel;
  const std::size_t rows = (payload_bytes + kHeaderBytes + row_bytes - 1) / row_bytes;
  return static_cast<std::uint32_t>(rows == 0 ? 1 : rows);
}

Result<Geometry> geometry_for_dimensions(std::uint32_t width, std::uint32_t height,
                                         const DecodeLimits& limits) {
  if (width == 0 || height == 0)
    return make_error(Errc::kInvalidArgument, "piece width and height must be positive");
  if (width > limits.max_width || height > limits.max_height)
    return make_error(Errc::kInvalidArgument,
                      "piece dimensions " + std::to_string(width) + "x" + std::to_string(height) +
                          " exceed the limit " + std::to_string(limits.max_width) + "x" +
                          std::to_string(limits.max_height));
  if (pixel_bytes(width, height) > limits.max_pixel_bytes)
    return make_error(Errc::kInvalidArgument, "piece image exceeds the pixel byte limit");
  if (pixel_bytes(width, height) <= kHeaderBytes)
    return make_error(Errc::kInvalidArgument, "piece too small to hold its 32-byte header");
  return Geometry{width, height};
}

Result<Geometry> geometry_for_piece_size(std::size_t piece_bytes, const DecodeLimits& limits) {
  if (piece_bytes == 0)
    return make_error(Errc::kInvalidArgument, "piece size must be positive");
  if (piece_bytes > limits.max_pixel_bytes - kHeaderBytes)
    return make_error(Errc::kInvalidArgument, "piece size exceeds the limit of " +
                                                  std::to_string(limits.max_pixel_bytes >> 20) +
                                                  " MiB");
  const std::size_t pixels = (piece_bytes + kHeaderBytes + kBytesPerPixel - 1) / kBytesPerPixel;
  auto width = static_cast<std::size_t>(std::ceil(std::sqrt(static_cast<double>(pixels))));
  if (width > limits.max_width) width = limits.max_width;
  const std::size_t height = (pixels + width - 1) / width;
  return geometry_for_dimensions(static_cast<std::uint32_t>(width),
                                 static_cast<std::uint32_t>(height), limits);
}

}  // namespace sx::codec
