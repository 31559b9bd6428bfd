// Reads a v2 data piece from its PNG bytes as they arrive, in any split,
// without copying the image into a buffer first: what piece_writer makes by
// default (one IDAT of stored deflate blocks, filter 0 on every row) is
// unwrapped on the fly, the header checked, and the stored payload written to
// `out`, deciphered on the way when a cipher is given (AES-GCM in steps, the
// tag checked at the end) or CRC-checked as it is copied. Pull then touches
// each byte once after curl has it, instead of copy, decode, decipher.
//
// An image of any other shape (re-encoded by a host, another encoder, a
// corrupt head) is recognised in its first kDecideBytes and declined: the
// caller keeps that image whole and decodes it with read_piece, whose
// messages say what is wrong with it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "codec/piece_crypto.h"
#include "codec/piece_format.h"
#include "codec/piece_reader.h"
#include "sx/error.h"

namespace sx::codec {

class PieceStream {
 public:
  // Signature, IHDR chunk, IDAT length and type, zlib header, first block header.
  static constexpr std::size_t kDecideBytes = 8 + 25 + 8 + 2 + 5;

  struct Expect {
    std::uint64_t index = 0;      // the piece index its header must carry
    std::uint32_t width = 0;      // the manifest's geometry
    std::uint32_t max_height = 0;
    PiecePlace place;             // the cipher's nonce
  };
  enum class Take { kTaken, kDeclined };

  // Starts a piece (and forgets the last). `out` receives the stored payload,
  // or its plaintext when `cipher` is given and the piece is encrypted.
  void begin(const Expect& expect, std::span<std::byte> out, PieceCipher* cipher);

  // Offers the next bytes. kDeclined only before streaming started, with
  // nothing of `chunk` consumed: held() are the bytes kept from earlier
  // chunks, which the caller buffers first. Errors are kCorrupt.
  Result<Take> write(std::span<const std::byte> chunk);
  std::span<const std::byte> held() const { return std::span<const std::byte>(head_.data(), head_bytes_); }
  bool streaming() const { return streaming_; }
  // True when the payload in `out` is plaintext (deciphered on the way).
  bool deciphered() const { return decipher_; }

  // After the last byte: the header and the payload in `out`. kCorrupt when
  // the image ended early, the tag or the payload CRC fails.
  Result<PieceView> finish();

 private:
  enum class Part { kBlockHeader, kBlockData, kTrailer, kDone };

  bool decide(std::span<const std::byte, kDecideBytes> head);
  Status consume(std::span<const std::byte> bytes);
  Status block_header(const std::byte* b);
  Status rows(const std::byte* data, std::size_t n);
  Status pixels(const std::byte* data, std::size_t n);
  Status parse_header();

  Expect expect_;
  std::span<std::byte> out_;
  PieceCipher* cipher_ = nullptr;
  std::array<std::byte, kDecideBytes> head_{};
  std::size_t head_bytes_ = 0;
  bool streaming_ = false;
  bool decipher_ = false;
  Part part_ = Part::kBlockHeader;
  std::array<std::byte, 20> small_{};  // a block header (5) or the trailer (20) being gathered
  std::size_t small_bytes_ = 0;
  std::size_t stride_ = 0, row_bytes_ = 0, raw_total_ = 0, raw_done_ = 0;
  std::size_t idat_left_ = 0;   // IDAT data bytes still to come (blocks + Adler-32)
  std::size_t block_left_ = 0;
  bool final_block_ = false;
  std::size_t pixel_pos_ = 0;   // pixel bytes seen
  std::array<std::byte, kHeaderBytes> header_bytes_{};
  PieceHeader header_;
  bool have_header_ = false;
  std::size_t payload_end_ = 0;  // pixel offset where the stored payload ends
  std::size_t cipher_end_ = 0;   // ... and where its ciphertext ends (the tag follows)
  std::array<std::uint8_t, kTagBytes> tag_{};
  std::uint32_t crc_ = 0;
};

}  // namespace sx::codec
