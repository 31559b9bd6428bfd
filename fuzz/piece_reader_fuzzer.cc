// Fuzzes the piece readers with arbitrary PNG bytes: the fast stored-deflate
// path, libspng behind it, the v2 header and CRC check, storagex v1 pieces.
// Any error Result is fine; a crash, leak, sanitizer report or hang is not.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "codec/piece_format.h"
#include "codec/piece_reader.h"
#include "codec/png_decoder.h"

namespace {

// Tight, so that one input costs at most a few milliseconds; the bounds
// themselves are checked before anything is allocated.
constexpr sx::codec::DecodeLimits kLimits{2048, 2048, std::size_t{8} << 20};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace codec = sx::codec;
  const std::span<const std::byte> png(reinterpret_cast<const std::byte*>(data), size);
  auto info = codec::read_image_info(png, kLimits);
  if (!info) return 0;
  // Exactly the decoded size, on the heap, so ASan sees any write past it.
  // Not zeroed: a reader must not depend on the buffer's old contents.
  const std::size_t bytes = info->rgb8_bytes();
  const std::unique_ptr<std::byte[]> buffer(new std::byte[bytes]);
  const std::span<std::byte> pixels(buffer.get(), bytes);

  if (auto decoded = codec::decode_rgb8(png, pixels, kLimits); decoded) {
    if (decoded->size() != bytes || decoded->data() != pixels.data()) __builtin_trap();
  }
  if (auto piece = codec::read_piece(png, pixels, kLimits); piece) {
    if (piece->payload.size() != piece->header.payload_bytes ||
        piece->payload.data() + piece->payload.size() > pixels.data() + bytes)
      __builtin_trap();
  }
  if (auto payload = codec::read_storagex_v1_piece(png, pixels, kLimits); payload) {
    if (payload->data() + payload->size() > pixels.data() + bytes) __builtin_trap();
  }
  (void)codec::decode_rgb8_complete(png, pixels, kLimits);
  return 0;
}
