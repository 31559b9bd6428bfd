// Writes pieces as genuine PNG images (docs/FORMAT.md §Piece image).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "codec/piece_format.h"
#include "sx/error.h"

namespace sx::codec {

// Exact size of the stored-deflate PNG of `rows` rows of `width` pixels.
std::size_t stored_png_bytes(std::uint32_t width, std::uint32_t rows);
// Upper bound of any piece PNG of this geometry, stored or compressed: the
// size of the buffers a window recycles.
std::size_t max_png_bytes(const Geometry& geometry);

// Writes one piece into `out` (at least stored_png_bytes(width, rows)) with
// filter 0 on every row and stored deflate blocks, in one pass that copies and
// checksums. Sets header.payload_bytes and header.payload_crc32 from `payload`.
// Returns bytes written. Allocates nothing; any thread.
Result<std::size_t> write_piece(PieceHeader& header, std::span<const std::byte> payload,
                                const Geometry& geometry, std::span<std::byte> out);

// Hands out a piece's stored payload in order, straight into the image.
class PayloadProducer {
 public:
  // Writes the next `n` bytes of the payload to `dst`.
  virtual void produce(std::byte* dst, std::size_t n) = 0;

 protected:
  ~PayloadProducer() = default;
};

// write_piece for a payload made while the image is written (encryption
// writes its ciphertext into the rows: one pass over the data instead of
// two). The header, which holds the payload's CRC, is filled in last and the
// checksums it touches are combined (zlib's crc32_combine/adler32_combine).
Result<std::size_t> write_piece_streamed(PieceHeader& header, std::size_t payload_bytes,
                                         PayloadProducer& producer, const Geometry& geometry,
                                         std::span<std::byte> out);

// Writes pieces with real deflate compression (level 1..12, libdeflate) for
// compressible data. Owns its scratch and compressor: one per worker thread.
class CompressingPieceWriter {
 public:
  CompressingPieceWriter(int level, const Geometry& geometry);
  ~CompressingPieceWriter();
  CompressingPieceWriter(CompressingPieceWriter&&) noexcept;
  CompressingPieceWriter& operator=(CompressingPieceWriter&&) noexcept;

  Result<std::size_t> write(PieceHeader& header, std::span<const std::byte> payload,
                            std::span<std::byte> out);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sx::codec
