#include "codec/piece_reader.h"

#include <cstring>

#include "codec/byte_order.h"
#include "codec/checksum.h"
#include "codec/png_decoder.h"

namespace sx::codec {

bool has_piece_magic(std::span<const std::byte> pixels) {
  return pixels.size() >= 4 && std::memcmp(pixels.data(), kPieceMagic, 4) == 0;
}

Result<PieceView> read_piece(std::span<const std::byte> png, std::span<std::byte> pixels,
                             const DecodeLimits& limits, PayloadCrc payload_crc) {
  PayloadCrcTap tap;
  auto decoded = decode_rgb8(png, pixels, limits, ChunkCrc::kCallerChecks,
                             payload_crc == PayloadCrc::kCheck ? &tap : nullptr);
  if (!decoded) return std::move(decoded).error();
  return check_piece(*decoded, payload_crc, tap.done ? &tap : nullptr);
}

Result<PieceView> check_piece(std::span<const std::byte> pixels, PayloadCrc payload_crc,
                              const PayloadCrcTap* computed) {
  auto header = decode_header(pixels);
  if (!header) return std::move(header).error();
  const auto payload = pixels.subspan(kHeaderBytes, header->payload_bytes);
  if (payload_crc == PayloadCrc::kAuthenticatedLater && (header->flags & kFlagEncrypted))
    return PieceView{*header, payload};
  if ((computed ? computed->crc : crc32(payload)) != header->payload_crc32)
    return make_error(Errc::kCorrupt, "piece payload checksum mismatch");
  return PieceView{*header, payload};
}

Result<std::span<const std::byte>> read_storagex_v1_piece(std::span<const std::byte> png,
                                                          std::span<std::byte> pixels,
                                                          const DecodeLimits& limits) {
  auto decoded = decode_rgb8(png, pixels, limits);
  if (!decoded) return std::move(decoded).error();
  if (decoded->size() < 4) return make_error(Errc::kCorrupt, "storagex piece too small");
  const std::size_t length = load_le32(decoded->data());
  if (length > decoded->size() - 4)
    return make_error(Errc::kCorrupt, "storagex piece claims more payload than the image holds");
  return std::span<const std::byte>(*decoded).subspan(4, length);
}

}  // namespace sx::codec
