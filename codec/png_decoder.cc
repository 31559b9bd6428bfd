#include "codec/png_decoder.h"

#include <spng.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>

#include "codec/byte_order.h"
#include "codec/checksum.h"
#include "codec/piece_writer.h"
#include "codec/png_chunks.h"

namespace sx::codec {
namespace {

enum class FastPath { kDone, kNotMine };

// What piece_writer makes: IHDR (8-bit truecolor), one IDAT holding a zlib
// stream of stored blocks with filter 0 on every row, IEND. Anything else is
// kNotMine and goes to libspng; a CRC mismatch is an error. The Adler-32 is
// not recomputed: the chunk CRC-32 already covers every byte it covers (and
// the Adler-32 itself), and the payload has its own CRC-32 in the header.
// Feeds a PayloadCrcTap the payload bytes that became final since the last call.
class TapFeeder {
 public:
  TapFeeder(PayloadCrcTap* tap, std::span<const std::byte> pixels) : tap_(tap), pixels_(pixels) {}

  // `final_bytes`: the leading pixel bytes written so far.
  void advance(std::size_t final_bytes) {
    if (!tap_) return;
    if (!located_) {
      if (final_bytes < kHeaderBytes) return;
      located_ = true;
      auto header = decode_header(pixels_);  // reads the first kHeaderBytes only
      if (!header) {  // check_piece words the error
        tap_ = nullptr;
        return;
      }
      done_ = kHeaderBytes;
      end_ = kHeaderBytes + header->payload_bytes;
    }
    const std::size_t upto = std::min(final_bytes, end_);
    if (upto > done_) crc_ = crc32(pixels_.subspan(done_, upto - done_), crc_), done_ = upto;
  }

  void finish() {
    if (!tap_ || !located_ || done_ != end_) return;
    tap_->crc = crc_;
    tap_->done = true;
  }

 private:
  PayloadCrcTap* tap_;
  std::span<const std::byte> pixels_;
  bool located_ = false;
  std::size_t done_ = 0, end_ = 0;
  std::uint32_t crc_ = 0;
};

Result<FastPath> decode_fast(std::span<const std::byte> png, const ImageInfo& info,
                             std::span<std::byte> pixels, ChunkCrc check, PayloadCrcTap* tap) {
  const std::byte* ihdr = png.data() + png::kSignatureBytes + 8;
  if (ihdr[8] != std::byte{8} || ihdr[9] != std::byte{2} || ihdr[10] != std::byte{0} ||
      ihdr[11] != std::byte{0} || ihdr[12] != std::byte{0})
    return FastPath::kNotMine;
  std::size_t at = png::kSignatureBytes + png::chunk_bytes(png::kIhdrBytes);
  if (png.size() - at < 8 + 2 + 4 + 4) return FastPath::kNotMine;
  const std::byte* chunk = png.data() + at;
  const std::size_t length = load_be32(chunk);
  if (std::memcmp(chunk + 4, "IDAT", 4) != 0) return FastPath::kNotMine;
  if (length > png.size() - at - 12 || length < 6) return FastPath::kNotMine;
  const std::size_t after = at + png::chunk_bytes(length);
  if (png.size() - after != png::chunk_bytes(0) ||
      std::memcmp(png.data() + after + 4, "IEND", 4) != 0)
    return FastPath::kNotMine;  // more IDATs or ancillary chunks
  const std::byte* data = chunk + 8;
  const unsigned cmf = std::to_integer<unsigned>(data[0]);
  const unsigned flg = std::to_integer<unsigned>(data[1]);
  if ((cmf & 0x0f) != 8 || ((cmf << 8) | flg) % 31 != 0 || (flg & 0x20) != 0)
    return FastPath::kNotMine;

  const std::size_t row_bytes = std::size_t{info.width} * kBytesPerPixel;
  const std::size_t stride = row_bytes + 1;
  const std::size_t raw_total = stride * info.height;
  std::uint32_t chunk_crc = crc32(std::span<const std::byte>(chunk + 4, 6));
  TapFeeder feeder(tap, std::span<const std::byte>(pixels.data(), info.rgb8_bytes()));
  std::size_t pos = 2;  // within the zlib stream
  std::size_t raw_done = 0;
  bool final_block = false;
  while (!final_block) {
    if (length - pos < 5) return FastPath::kNotMine;
    const std::byte* block = data + pos;
    const unsigned bits = std::to_integer<unsigned>(block[0]);
    if ((bits & 0x06) != 0) return FastPath::kNotMine;  // not a stored block
    final_block = (bits & 1) != 0;
    const std::size_t n = load_le16(block + 1);
    if (static_cast<std::uint16_t>(~n) != load_le16(block + 3)) return FastPath::kNotMine;
    if (length - pos - 5 < n || raw_total - raw_done < n) return FastPath::kNotMine;
    const std::byte* src = block + 5;
    if (check == ChunkCrc::kCheck) chunk_crc = crc32(std::span<const std::byte>(block, 5 + n), chunk_crc);
    // Copy the block's scanline bytes, dropping the filter bytes.
    for (std::size_t left = n; left > 0;) {
      const std::size_t column = raw_done % stride;
      if (column == 0) {
        if (*src != std::byte{0}) return FastPath::kNotMine;  // a real filter: unfilter via libspng
        ++src, ++raw_done, --left;
        continue;
      }
      const std::size_t take = std::min(left, stride - column);
      std::memcpy(pixels.data() + (raw_done / stride) * row_bytes + column - 1, src, take);
      src += take, raw_done += take, left -= take;
    }
    pos += 5 + n;
    const std::size_t column = raw_done % stride;
    feeder.advance((raw_done / stride) * row_bytes + (column ? column - 1 : 0));
  }
  if (raw_done != raw_total || length - pos != 4) return FastPath::kNotMine;
  if (check == ChunkCrc::kCallerChecks) return feeder.finish(), FastPath::kDone;
  chunk_crc = crc32(std::span<const std::byte>(data + pos, 4), chunk_crc);
  if (chunk_crc != load_be32(data + length))
    return make_error(Errc::kCorrupt, "PNG IDAT chunk CRC mismatch");
  feeder.finish();
  return FastPath::kDone;
}

struct SpngCtxFree {
  void operator()(spng_ctx* ctx) const noexcept { spng_ctx_free(ctx); }
};

}  // namespace

Result<ImageInfo> read_image_info(std::span<const std::byte> png, const DecodeLimits& limits) {
  if (png.size() < png::kSignatureBytes + png::chunk_bytes(png::kIhdrBytes) ||
      std::memcmp(png.data(), png::kSignature, png::kSignatureBytes) != 0)
    return make_error(Errc::kCorrupt, "not a PNG image");
  const std::byte* chunk = png.data() + png::kSignatureBytes;
  if (load_be32(chunk) != png::kIhdrBytes || std::memcmp(chunk + 4, "IHDR", 4) != 0)
    return make_error(Errc::kCorrupt, "PNG does not start with a valid IHDR chunk");
  if (crc32(std::span<const std::byte>(chunk + 4, 4 + png::kIhdrBytes)) !=
      load_be32(chunk + 8 + png::kIhdrBytes))
    return make_error(Errc::kCorrupt, "PNG IHDR chunk CRC mismatch");
  ImageInfo info{load_be32(chunk + 8), load_be32(chunk + 12)};
  if (info.width == 0 || info.height == 0)
    return make_error(Errc::kCorrupt, "PNG has zero width or height");
  if (info.width > limits.max_width || info.height > limits.max_height ||
      info.rgb8_bytes() > limits.max_pixel_bytes)
    return make_error(Errc::kLimit, "PNG of " + std::to_string(info.width) + "x" +
                                        std::to_string(info.height) +
                                        " pixels exceeds the decode limits");
  return info;
}

std::size_t max_received_png_bytes(std::uint32_t width, std::uint32_t height) {
  const std::size_t pixels = pixel_bytes(width, height);
  return max_png_bytes(Geometry{width, height}) + pixels * 2 + (64 << 10);
}

Result<std::size_t> png_body_bound(std::span<const std::byte> head, const DecodeLimits& limits) {
  auto info = read_image_info(head, limits);
  if (!info) return std::move(info).error();
  return max_received_png_bytes(info->width, info->height);
}

Result<std::span<std::byte>> decode_rgb8_complete(std::span<const std::byte> png,
                                                  std::span<std::byte> pixels,
                                                  const DecodeLimits& limits) {
  auto info = read_image_info(png, limits);
  if (!info) return std::move(info).error();
  std::unique_ptr<spng_ctx, SpngCtxFree> ctx(spng_ctx_new(0));
  if (!ctx) return make_error(Errc::kIo, "out of memory creating the PNG decoder");
  spng_set_image_limits(ctx.get(), limits.max_width, limits.max_height);
  // Ancillary chunks are never ours: keep what libspng may cache small.
  spng_set_chunk_limits(ctx.get(), std::size_t{1} << 30, std::size_t{4} << 20);
  spng_set_png_buffer(ctx.get(), png.data(), png.size());
  std::size_t bytes = 0;
  if (int rc = spng_decoded_image_size(ctx.get(), SPNG_FMT_RGB8, &bytes); rc != 0)
    return make_error(Errc::kCorrupt, std::string("PNG rejected: ") + spng_strerror(rc));
  if (bytes != info->rgb8_bytes() || bytes > pixels.size())
    return make_error(Errc::kLimit, "decoded PNG larger than its buffer");
  if (int rc = spng_decode_image(ctx.get(), pixels.data(), bytes, SPNG_FMT_RGB8, 0); rc != 0)
    return make_error(Errc::kCorrupt, std::string("PNG decode failed: ") + spng_strerror(rc));
  return pixels.first(bytes);
}

Result<std::span<std::byte>> decode_rgb8(std::span<const std::byte> png,
                                         std::span<std::byte> pixels, const DecodeLimits& limits,
                                         ChunkCrc chunk_crc, PayloadCrcTap* tap) {
  auto info = read_image_info(png, limits);
  if (!info) return std::move(info).error();
  if (info->rgb8_bytes() > pixels.size())
    return make_error(Errc::kLimit, "PNG of " + std::to_string(info->width) + "x" +
                                        std::to_string(info->height) +
                                        " pixels is larger than this piece can be");
  auto fast = decode_fast(png, *info, pixels, chunk_crc, tap);
  if (!fast) return std::move(fast).error();
  if (*fast == FastPath::kDone) return pixels.first(info->rgb8_bytes());
  return decode_rgb8_complete(png, pixels, limits);
}

}  // namespace sx::codec
