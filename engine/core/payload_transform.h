// What happens to a payload between the file and the PNG: zstd (optional)
// then AES-256-GCM (default) on push; the reverse on pull. Owns its buffers
// and contexts so the hot path allocates nothing; one per worker at a time.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <vector>

#include "codec/compression.h"
#include "codec/piece_crypto.h"
#include "codec/piece_format.h"
#include "codec/piece_writer.h"
#include "sx/error.h"

namespace sx::engine {

// Encrypted payloads grow by the AEAD tag; compression never grows them
// (an incompressible piece is stored as it is).
inline constexpr std::size_t kPayloadOverhead = codec::kTagBytes;

class PayloadTransform {
 public:
  explicit PayloadTransform(const std::optional<codec::ContentKey>& key);

  // The bytes to store for `plain`; ORs kFlagCompressed / kFlagEncrypted into
  // `flags`. The result may point at `plain` itself.
  Result<std::span<const std::byte>> seal(codec::PiecePlace place, std::span<const std::byte> plain,
                                          bool try_compress, std::uint8_t& flags);
  // Writes the piece PNG for `plain` into `png`: zstd (maybe), then AES-256-GCM
  // straight into the image rows (one pass), or a plain copy. Sets
  // header.flags, payload_bytes and payload_crc32. Returns the PNG's size.
  Result<std::size_t> write_piece(codec::PieceHeader& header, codec::PiecePlace place,
                                  std::span<const std::byte> plain, bool try_compress,
                                  const codec::Geometry& geometry, std::span<std::byte> png);

  // write_piece with real deflate (--level 1..12) for compressible data: the
  // payload is sealed first, then deflated into the image. The deflating
  // writer is built once per transform, not per piece.
  Result<std::size_t> write_deflated_piece(int level, codec::PieceHeader& header, codec::PiecePlace place,
                                           std::span<const std::byte> plain, bool try_compress,
                                           const codec::Geometry& geometry, std::span<std::byte> png);

  // The AEAD tag of the last piece write_piece sealed: a MAC of its bytes
  // under this push's key, so a name made from it is unique to the content.
  std::optional<std::array<std::uint8_t, codec::kTagBytes>> last_tag() const { return last_tag_; }

  // The plaintext of a stored payload (decrypted in place in `stored`).
  Result<std::span<const std::byte>> open(codec::PiecePlace place, std::span<std::byte> stored,
                                          std::uint8_t flags, std::size_t expected_plain_bytes);

 private:
  std::optional<codec::PieceCipher> cipher_;
  codec::Compressor compressor_;
  std::vector<std::byte> packed_;  // compressed bytes (push and pull)
  std::vector<std::byte> sealed_;  // ciphertext ‖ tag (push)
  std::optional<std::array<std::uint8_t, codec::kTagBytes>> last_tag_;
  std::optional<codec::CompressingPieceWriter> deflater_;  // --level > 0 only
  int deflater_level_ = 0;
  codec::Geometry deflater_geometry_;
};

// A fixed set of transforms handed to workers (at most one each).
class TransformPool {
 public:
  TransformPool(std::size_t count, const std::optional<codec::ContentKey>& key);
  PayloadTransform& acquire();
  void release(PayloadTransform& transform);

 private:
  std::mutex mutex_;  // guards free_
  std::vector<std::unique_ptr<PayloadTransform>> all_;
  std::vector<PayloadTransform*> free_;
};

}  // namespace sx::engine
