// Piece encryption (docs/FORMAT.md §Encryption): AES-256-GCM under a random
// per-file content key, nonce and associated data derived from the piece's
// place in the file so pieces cannot be swapped, reordered or replayed.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sx/error.h"

namespace sx::codec {

inline constexpr std::size_t kKeyBytes = 32;
inline constexpr std::size_t kTagBytes = 16;
inline constexpr std::size_t kSaltBytes = 16;

using ContentKey = std::array<std::uint8_t, kKeyBytes>;
using Salt = std::array<std::uint8_t, kSaltBytes>;

// Where a piece sits: data pieces are domain 0; manifest pieces are domain
// 1 + their level in the manifest tree (1 = the manifest's own slices).
struct PiecePlace {
  std::uint32_t domain = 0;
  std::uint64_t index = 0;
};

// One AES-256-GCM context, reused piece after piece (no allocation per
// piece). One per thread at a time.
class PieceCipher {
 public:
  explicit PieceCipher(const ContentKey& key);
  ~PieceCipher();
  PieceCipher(PieceCipher&&) noexcept;
  PieceCipher& operator=(PieceCipher&&) noexcept;

  // out = ciphertext ‖ tag (plain.size() + kTagBytes bytes). `out` may alias `plain`.
  Result<std::size_t> seal(PiecePlace place, std::span<const std::byte> plain, std::span<std::byte> out);
  // seal in steps, for writing ciphertext straight into an image:
  // begin_seal, then seal_update over the plaintext in order (any split;
  // out == in allowed), then finish_seal for the tag.
  Status begin_seal(PiecePlace place);
  void seal_update(const std::byte* in, std::byte* out, std::size_t n);
  Status finish_seal(std::span<std::uint8_t, kTagBytes> tag);

  // Inverse of seal; kCorrupt when the key is wrong or a byte was changed.
  // `out` may alias `sealed`.
  Result<std::size_t> open(PiecePlace place, std::span<const std::byte> sealed, std::span<std::byte> out);
  // open in steps, for deciphering a body as it arrives: begin_open, then
  // open_update over the ciphertext in order (any split), then finish_open
  // with the tag, which is what makes the plaintext trustworthy (kCorrupt).
  Status begin_open(PiecePlace place);
  void open_update(const std::byte* in, std::byte* out, std::size_t n);
  Status finish_open(std::span<const std::uint8_t, kTagBytes> tag);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

ContentKey random_key();
Salt random_salt();
// Argon2id (libsodium crypto_pwhash, moderate limits: ~0.5 s, 256 MiB).
Result<ContentKey> derive_key(std::string_view passphrase, const Salt& salt);

std::string base64url(std::span<const std::uint8_t> bytes);
Result<std::vector<std::uint8_t>> from_base64url(std::string_view text);

// libsodium's XChaCha20-Poly1305, kept for `bench crypto` (the choice of
// AES-256-GCM was made by that measurement).
std::size_t xchacha_seal(const ContentKey& key, std::span<const std::byte> plain, std::span<std::byte> out);

}  // namespace sx::codec
