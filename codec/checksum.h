// Checksums used by the piece format and the manifest (docs/FORMAT.md).
// Pure functions over bytes; any thread; allocate nothing.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace sx::codec {

// CRC-32 (ISO-HDLC, as PNG and zlib use it); `seed` continues a running value.
std::uint32_t crc32(std::span<const std::byte> bytes, std::uint32_t seed = 0);
// Adler-32 as zlib defines it; start from 1.
std::uint32_t adler32(std::span<const std::byte> bytes, std::uint32_t seed = 1);

using Sha256Digest = std::array<std::uint8_t, 32>;

// Incremental SHA-256 (OpenSSL; uses SHA-NI where the CPU has it).
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;
  void update(std::span<const std::byte> bytes);
  Sha256Digest finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

Sha256Digest sha256(std::span<const std::byte> bytes);
// Lowercase hex of the SHA-256 of `text` (journal identities, cache ids, tags).
std::string sha256_hex(std::string_view text);

// The "sha256-tree" digest (docs/FORMAT.md §4): SHA-256 over the pieces'
// SHA-256 digests in index order, so each piece is hashed where it is encoded
// or decoded, in parallel, and only 32 bytes a piece are hashed in order.
Sha256Digest sha256_tree(std::span<const Sha256Digest> piece_digests);

// 128-bit XXH3 of `bytes` as 32 lowercase hex digits: content-derived object
// names, and the digest a resume journal keeps of each piece's plaintext.
std::string content_name(std::span<const std::byte> bytes);

// content_name over bytes that come in parts (a piece read back in chunks).
class ContentHasher {
 public:
  ContentHasher();
  ~ContentHasher();
  ContentHasher(const ContentHasher&) = delete;
  ContentHasher& operator=(const ContentHasher&) = delete;
  void update(std::span<const std::byte> bytes);
  std::string finish() const;  // as content_name of everything updated

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace sx::codec
