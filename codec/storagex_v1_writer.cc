#include "codec/storagex_v1_writer.h"

#include <libdeflate.h>

#include <cstring>

#include "codec/byte_order.h"
#include "codec/checksum.h"
#include "codec/png_chunks.h"
#include "codec/piece_format.h"

namespace sx::codec {
namespace {

// Python's json.dumps string escaping (ensure_ascii=True): what storagex's
// meta images hold, so its own reader and a byte comparison both agree.
void append_python_json_string(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  const auto escape_unit = [&out](std::uint32_t unit) {
    out += "\\u";
    for (int shift = 12; shift >= 0; shift -= 4) out.push_back(kHex[(unit >> shift) & 15]);
  };
  out.push_back('"');
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        default:
          if (c < 0x20) escape_unit(c);
          else out.push_back(static_cast<char>(c));
      }
      ++i;
      continue;
    }
    // Decode one UTF-8 sequence; a malformed one becomes U+FFFD, one byte at a time.
    const int length = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
    std::uint32_t cp = length == 4 ? c & 0x07 : length == 3 ? c & 0x0F : c & 0x1F;
    bool ok = length > 0 && i + length <= text.size();
    for (int k = 1; ok && k < length; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      ok = (next & 0xC0) == 0x80;
      cp = (cp << 6) | (next & 0x3F);
    }
    const std::uint32_t min_cp = length == 4 ? 0x10000 : length == 3 ? 0x800 : 0x80;
    ok = ok && cp >= min_cp && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF);
    if (!ok) {
      escape_unit(0xFFFD);
      ++i;
      continue;
    }
    if (cp >= 0x10000) {  // a surrogate pair, as Python writes it
      cp -= 0x10000;
      escape_unit(0xD800 + (cp >> 10));
      escape_unit(0xDC00 + (cp & 0x3FF));
    } else {
      escape_unit(cp);
    }
    i += static_cast<std::size_t>(length);
  }
  out.push_back('"');
}

}  // namespace

std::size_t storagex_v1_capacity(std::uint32_t width, std::uint32_t height) {
  const std::size_t pixels = pixel_bytes(width, height);
  return pixels > kStoragexLengthBytes ? pixels - kStoragexLengthBytes : 0;
}

std::string to_storagex_v1_json(const StoragexMeta& meta) {
  // storagex 0.3 on Python 2 dumped its dict in this order (the seed's transcript).
  std::string out = "{\"piece_width\": " + std::to_string(meta.piece_width) +
                    ", \"protocol_version\": 1.0, \"pieces\": [";
  for (std::size_t i = 0; i < meta.pieces.size(); ++i) {
    const StoragexPiece& p = meta.pieces[i];
    if (i > 0) out += ", ";
    out += "{\"seq\": " + std::to_string(p.seq) + ", \"key\": ";
    append_python_json_string(out, p.key);
    out += ", \"offset\": " + std::to_string(p.offset) + ", \"size\": " + std::to_string(p.size) +
           ", \"checksum\": \"\"}";
  }
  out += "], \"piece_height\": " + std::to_string(meta.piece_height) + ", \"filename\": ";
  append_python_json_string(out, meta.filename);
  out += "}";
  return out;
}

struct StoragexV1ImageWriter::Impl {
  std::uint32_t width = 0;
  std::uint32_t height = 0;
  std::vector<std::byte> scanlines;  // filter byte + row, every row
  libdeflate_compressor* compressor = nullptr;
  ~Impl() {
    if (compressor) libdeflate_free_compressor(compressor);
  }
};

StoragexV1ImageWriter::StoragexV1ImageWriter(std::uint32_t width, std::uint32_t height)
    : impl_(std::make_unique<Impl>()) {
  impl_->width = width;
  impl_->height = height;
  impl_->scanlines.resize(std::size_t{height} * (1 + std::size_t{width} * kBytesPerPixel));
  impl_->compressor = libdeflate_alloc_compressor(1);
}
StoragexV1ImageWriter::~StoragexV1ImageWriter() = default;
StoragexV1ImageWriter::StoragexV1ImageWriter(StoragexV1ImageWriter&&) noexcept = default;
StoragexV1ImageWriter& StoragexV1ImageWriter::operator=(StoragexV1ImageWriter&&) noexcept = default;

std::size_t StoragexV1ImageWriter::max_png_bytes() const {
  const std::size_t zlib = impl_->compressor ? libdeflate_zlib_compress_bound(impl_->compressor, impl_->scanlines.size())
                                             : impl_->scanlines.size() + 1024;
  return png::kSignatureBytes + png::chunk_bytes(png::kIhdrBytes) + png::chunk_bytes(zlib) + png::chunk_bytes(0);
}

Result<std::size_t> StoragexV1ImageWriter::write(std::span<const std::byte> payload, std::span<std::byte> out) {
  Impl& im = *impl_;
  if (payload.size() > storagex_v1_capacity(im.width, im.height))
    return make_error(Errc::kInvalidArgument, "payload larger than a storagex v1 image holds");
  if (im.compressor == nullptr) return make_error(Errc::kIo, "out of memory allocating the deflate compressor");
  if (out.size() < max_png_bytes()) return make_error(Errc::kInvalidArgument, "output buffer too small for the image");

  // Pixel bytes: u32 length ‖ payload ‖ zeros, laid into rows after each filter byte.
  std::byte length[kStoragexLengthBytes];
  store_le32(length, static_cast<std::uint32_t>(payload.size()));
  const std::size_t row_bytes = std::size_t{im.width} * kBytesPerPixel;
  std::size_t at = 0;  // pixel byte offset
  for (std::uint32_t row = 0; row < im.height; ++row) {
    std::byte* dst = im.scanlines.data() + row * (row_bytes + 1);
    *dst++ = std::byte{0};  // filter: none
    for (std::size_t column = 0; column < row_bytes;) {
      std::size_t n = row_bytes - column;
      if (at < kStoragexLengthBytes) {
        n = std::min(n, kStoragexLengthBytes - at);
        std::memcpy(dst + column, length + at, n);
      } else if (at - kStoragexLengthBytes < payload.size()) {
        n = std::min(n, payload.size() - (at - kStoragexLengthBytes));
        std::memcpy(dst + column, payload.data() + (at - kStoragexLengthBytes), n);
      } else {
        std::memset(dst + column, 0, n);
      }
      column += n;
      at += n;
    }
  }

  std::byte* p = png::write_signature_and_ihdr(out.data(), im.width, im.height);
  std::byte* chunk = p;
  const std::size_t room = out.size() - static_cast<std::size_t>(p - out.data()) - 8 - 4 - png::chunk_bytes(0);
  const std::size_t zlib = libdeflate_zlib_compress(im.compressor, im.scanlines.data(), im.scanlines.size(), p + 8, room);
  if (zlib == 0) return make_error(Errc::kInvalidArgument, "output buffer too small for the image");
  store_be32(p, static_cast<std::uint32_t>(zlib));
  std::memcpy(p + 4, "IDAT", 4);
  p += 8 + zlib;
  store_be32(p, crc32(std::span<const std::byte>(chunk + 4, 4 + zlib)));
  p = png::write_iend(p + 4);
  return static_cast<std::size_t>(p - out.data());
}

}  // namespace sx::codec
