#include "codec/piece_writer.h"

#include <libdeflate.h>
#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "codec/byte_order.h"
#include "codec/checksum.h"
#include "codec/png_chunks.h"

namespace sx::codec {
namespace {

// Largest stored deflate block (RFC 1951 §3.2.4: LEN is 16 bits).
constexpr std::size_t kStoredBlockMax = 65535;

std::size_t raw_stream_bytes(std::uint32_t width, std::uint32_t rows) {
  return std::size_t{rows} * (1 + std::size_t{width} * kBytesPerPixel);
}

// The pixel bytes of a piece are header ‖ payload ‖ zero padding; this copies
// `count` of them starting at pixel offset `at` into `dst`.
struct PixelSource {
  std::span<const std::byte, kHeaderBytes> header;
  std::span<const std::byte> payload;

  void copy(std::size_t at, std::byte* dst, std::size_t count) const {
    if (at < kHeaderBytes) {
      const std::size_t n = std::min(count, kHeaderBytes - at);
      std::memcpy(dst, header.data() + at, n);
      dst += n, at += n, count -= n;
    }
    const std::size_t payload_at = at - kHeaderBytes;
    if (count > 0 && payload_at < payload.size()) {
      const std::size_t n = std::min(count, payload.size() - payload_at);
      std::memcpy(dst, payload.data() + payload_at, n);
      dst += n, count -= n;
    }
    if (count > 0) std::memset(dst, 0, count);
  }
};

// Pixel bytes whose payload a producer makes in order; the header is left
// zero (filled in afterwards) and the payload's CRC accumulates as it goes.
struct ProducedSource {
  std::size_t payload_bytes;
  PayloadProducer& producer;
  std::uint32_t payload_crc = 0;

  void copy(std::size_t at, std::byte* dst, std::size_t count) {
    if (at < kHeaderBytes) {
      const std::size_t n = std::min(count, kHeaderBytes - at);
      std::memset(dst, 0, n);
      dst += n, at += n, count -= n;
    }
    const std::size_t payload_at = at - kHeaderBytes;
    if (count > 0 && payload_at < payload_bytes) {
      const std::size_t n = std::min(count, payload_bytes - payload_at);
      producer.produce(dst, n);
      payload_crc = crc32(std::span<const std::byte>(dst, n), payload_crc);
      dst += n, count -= n;
    }
    if (count > 0) std::memset(dst, 0, count);
  }
};

// Writes the filtered scanline stream (a 0 filter byte before every row of
// pixel bytes) for raw offsets [from, from + count) into dst.
template <class Source>
void write_scanlines(Source& source, std::size_t row_bytes, std::size_t from, std::byte* dst, std::size_t count) {
  const std::size_t stride = row_bytes + 1;
  while (count > 0) {
    const std::size_t row = from / stride;
    const std::size_t column = from % stride;
    if (column == 0) {
      *dst++ = std::byte{0};
      ++from, --count;
      continue;
    }
    const std::size_t n = std::min(count, stride - column);
    source.copy(row * row_bytes + (column - 1), dst, n);
    dst += n, from += n, count -= n;
  }
}

}  // namespace

std::size_t stored_png_bytes(std::uint32_t width, std::uint32_t rows) {
  const std::size_t raw = raw_stream_bytes(width, rows);
  const std::size_t blocks = std::max<std::size_t>(1, (raw + kStoredBlockMax - 1) / kStoredBlockMax);
  const std::size_t zlib = 2 + blocks * 5 + raw + 4;
  return png::kSignatureBytes + png::chunk_bytes(png::kIhdrBytes) + png::chunk_bytes(zlib) +
         png::chunk_bytes(0);
}

std::size_t max_png_bytes(const Geometry& geometry) {
  const std::size_t raw = raw_stream_bytes(geometry.width, geometry.height);
  const std::size_t compressed_bound = 2 + raw + raw / 1000 + 4096 + 4;
  return std::max(stored_png_bytes(geometry.width, geometry.height),
                  png::kSignatureBytes + png::chunk_bytes(png::kIhdrBytes) +
                      png::chunk_bytes(compressed_bound) + png::chunk_bytes(0));
}

namespace {

class SpanProducer final : public PayloadProducer {
 public:
  explicit SpanProducer(std::span<const std::byte> bytes) : bytes_(bytes) {}
  void produce(std::byte* dst, std::size_t n) override {
    std::memcpy(dst, bytes_.data() + at_, n);
    at_ += n;
  }

 private:
  std::span<const std::byte> bytes_;
  std::size_t at_ = 0;
};

}  // namespace

Result<std::size_t> write_piece(PieceHeader& header, std::span<const std::byte> payload,
                                const Geometry& geometry, std::span<std::byte> out) {
  SpanProducer producer(payload);
  return write_piece_streamed(header, payload.size(), producer, geometry, out);
}

Result<std::size_t> write_piece_streamed(PieceHeader& header, std::size_t payload_bytes,
                                         PayloadProducer& producer, const Geometry& geometry,
                                         std::span<std::byte> out) {
  if (payload_bytes > geometry.capacity())
    return make_error(Errc::kInvalidArgument, "payload larger than the piece capacity");
  const std::uint32_t rows = geometry.rows_for(payload_bytes);
  if (out.size() < stored_png_bytes(geometry.width, rows))
    return make_error(Errc::kInvalidArgument, "output buffer too small for the piece");

  std::byte* p = png::write_signature_and_ihdr(out.data(), geometry.width, rows);
  const std::size_t raw = raw_stream_bytes(geometry.width, rows);
  const std::size_t blocks = std::max<std::size_t>(1, (raw + kStoredBlockMax - 1) / kStoredBlockMax);
  std::byte* chunk = p;
  store_be32(p, static_cast<std::uint32_t>(2 + blocks * 5 + raw + 4));
  std::memcpy(p + 4, "IDAT", 4);
  p[8] = std::byte{0x78};  // CMF: deflate, 32 KiB window
  p[9] = std::byte{0x01};  // FLG: fastest, no dictionary; 0x7801 % 31 == 0
  p += 10;

  // Block 0 holds the header, known only at the end: its checksums are taken
  // last; those of the later blocks run as they are written.
  ProducedSource source{payload_bytes, producer};
  const std::size_t row_bytes = std::size_t{geometry.width} * kBytesPerPixel;
  std::byte* first_block = p;
  std::size_t first_bytes = 0;
  std::uint32_t rest_crc = 0, rest_adler = 1;
  std::size_t rest_bytes = 0, rest_data_bytes = 0;
  for (std::size_t done = 0, block = 0; block < blocks; ++block) {
    const std::size_t n = std::min(kStoredBlockMax, raw - done);
    std::byte* block_start = p;
    p[0] = std::byte{block + 1 == blocks ? std::uint8_t{1} : std::uint8_t{0}};  // BFINAL, BTYPE=00
    store_le16(p + 1, static_cast<std::uint16_t>(n));
    store_le16(p + 3, static_cast<std::uint16_t>(~n));
    p += 5;
    write_scanlines(source, row_bytes, done, p, n);
    if (block == 0) {
      first_bytes = n;
    } else {  // checksum while the block (64 KiB) is still in cache
      rest_adler = adler32(std::span<const std::byte>(p, n), rest_adler);
      rest_crc = crc32(std::span<const std::byte>(block_start, 5 + n), rest_crc);
      rest_bytes += 5 + n;
      rest_data_bytes += n;
    }
    p += n;
    done += n;
  }

  header.payload_bytes = payload_bytes;
  header.payload_crc32 = source.payload_crc;
  std::byte header_bytes[kHeaderBytes];
  encode_header(header, std::span<std::byte, kHeaderBytes>(header_bytes));
  for (std::size_t i = 0; i < kHeaderBytes; ++i)  // pixel i sits after its row's filter byte
    first_block[5 + (i / row_bytes) * (row_bytes + 1) + 1 + i % row_bytes] = header_bytes[i];

  std::uint32_t chunk_crc = crc32(std::span<const std::byte>(chunk + 4, 6 + 5 + first_bytes));
  std::uint32_t adler = adler32(std::span<const std::byte>(first_block + 5, first_bytes));
  if (blocks > 1) {
    chunk_crc = static_cast<std::uint32_t>(crc32_combine(chunk_crc, rest_crc, static_cast<z_off_t>(rest_bytes)));
    adler = static_cast<std::uint32_t>(adler32_combine(adler, rest_adler, static_cast<z_off_t>(rest_data_bytes)));
  }
  store_be32(p, adler);
  chunk_crc = crc32(std::span<const std::byte>(p, 4), chunk_crc);
  store_be32(p + 4, chunk_crc);
  p = png::write_iend(p + 8);
  return static_cast<std::size_t>(p - out.data());
}

struct CompressingPieceWriter::Impl {
  Geometry geometry;
  std::vector<std::byte> raw;
  libdeflate_compressor* compressor = nullptr;
  ~Impl() {
    if (compressor) libdeflate_free_compressor(compressor);
  }
};

CompressingPieceWriter::CompressingPieceWriter(int level, const Geometry& geometry)
    : impl_(std::make_unique<Impl>()) {
  impl_->geometry = geometry;
  impl_->raw.resize(raw_stream_bytes(geometry.width, geometry.height));
  impl_->compressor = libdeflate_alloc_compressor(std::clamp(level, 1, 12));
}
CompressingPieceWriter::~CompressingPieceWriter() = default;
CompressingPieceWriter::CompressingPieceWriter(CompressingPieceWriter&&) noexcept = default;
CompressingPieceWriter& CompressingPieceWriter::operator=(CompressingPieceWriter&&) noexcept =
    default;

Result<std::size_t> CompressingPieceWriter::write(PieceHeader& header,
                                                  std::span<const std::byte> payload,
                                                  std::span<std::byte> out) {
  const Geometry& geometry = impl_->geometry;
  if (payload.size() > geometry.capacity())
    return make_error(Errc::kInvalidArgument, "payload larger than the piece capacity");
  if (impl_->compressor == nullptr)
    return make_error(Errc::kIo, "out of memory allocating the deflate compressor");
  const std::uint32_t rows = geometry.rows_for(payload.size());
  header.payload_bytes = payload.size();
  header.payload_crc32 = crc32(payload);
  std::byte header_bytes[kHeaderBytes];
  encode_header(header, std::span<std::byte, kHeaderBytes>(header_bytes));
  const PixelSource source{std::span<const std::byte, kHeaderBytes>(header_bytes), payload};
  const std::size_t raw = raw_stream_bytes(geometry.width, rows);
  write_scanlines(source, std::size_t{geometry.width} * kBytesPerPixel, 0, impl_->raw.data(), raw);

  const std::size_t head = png::kSignatureBytes + png::chunk_bytes(png::kIhdrBytes) + 8;
  const std::size_t tail = 4 + png::chunk_bytes(0);
  if (out.size() < head + tail + 64)
    return make_error(Errc::kInvalidArgument, "output buffer too small for the piece");
  std::byte* p = png::write_signature_and_ihdr(out.data(), geometry.width, rows);
  std::byte* chunk = p;
  const std::size_t zlib = libdeflate_zlib_compress(impl_->compressor, impl_->raw.data(), raw,
                                                    p + 8, out.size() - head - tail);
  if (zlib == 0) return make_error(Errc::kInvalidArgument, "output buffer too small for the piece");
  store_be32(p, static_cast<std::uint32_t>(zlib));
  std::memcpy(p + 4, "IDAT", 4);
  p += 8 + zlib;
  store_be32(p, crc32(std::span<const std::byte>(chunk + 4, 4 + zlib)));
  p = png::write_iend(p + 4);
  return static_cast<std::size_t>(p - out.data());
}

}  // namespace sx::codec
