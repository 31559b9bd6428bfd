#include "codec/checksum.h"

#include <libdeflate.h>
#include <openssl/evp.h>
#include <xxhash.h>

#include <new>

#include "base/text.h"

namespace sx::codec {

std::uint32_t crc32(std::span<const std::byte> bytes, std::uint32_t seed) {
  return libdeflate_crc32(seed, bytes.data(), bytes.size());
}

std::uint32_t adler32(std::span<const std::byte> bytes, std::uint32_t seed) {
  return libdeflate_adler32(seed, bytes.data(), bytes.size());
}

struct Sha256::Impl {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  ~Impl() { EVP_MD_CTX_free(ctx); }
};

Sha256::Sha256() : impl_(std::make_unique<Impl>()) {
  EVP_DigestInit_ex(impl_->ctx, EVP_sha256(), nullptr);
}
Sha256::~Sha256() = default;
Sha256::Sha256(Sha256&&) noexcept = default;
Sha256& Sha256::operator=(Sha256&&) noexcept = default;

void Sha256::update(std::span<const std::byte> bytes) {
  EVP_DigestUpdate(impl_->ctx, bytes.data(), bytes.size());
}

Sha256Digest Sha256::finish() {
  Sha256Digest digest{};
  unsigned int length = 0;
  EVP_DigestFinal_ex(impl_->ctx, digest.data(), &length);
  return digest;
}

Sha256Digest sha256(std::span<const std::byte> bytes) {
  Sha256 hasher;
  hasher.update(bytes);
  return hasher.finish();
}

std::string sha256_hex(std::string_view text) {
  return text::to_hex(sha256(std::as_bytes(std::span(text.data(), text.size()))));
}

Sha256Digest sha256_tree(std::span<const Sha256Digest> piece_digests) {
  Sha256 hasher;
  for (const Sha256Digest& d : piece_digests) hasher.update(std::as_bytes(std::span(d)));
  return hasher.finish();
}

namespace {

std::string hex_of(XXH128_hash_t hash) {
  XXH128_canonical_t canonical;
  XXH128_canonicalFromHash(&canonical, hash);
  return text::to_hex(std::span<const std::uint8_t>(
      reinterpret_cast<const std::uint8_t*>(canonical.digest), sizeof canonical.digest));
}

}  // namespace

std::string content_name(std::span<const std::byte> bytes) {
  return hex_of(XXH3_128bits(bytes.data(), bytes.size()));
}

struct ContentHasher::State {
  State() : xxh(XXH3_createState()) {
    if (!xxh) throw std::bad_alloc();
    XXH3_128bits_reset(xxh);
  }
  ~State() { XXH3_freeState(xxh); }
  XXH3_state_t* xxh;
};

ContentHasher::ContentHasher() : state_(std::make_unique<State>()) {}
ContentHasher::~ContentHasher() = default;

void ContentHasher::update(std::span<const std::byte> bytes) {
  XXH3_128bits_update(state_->xxh, bytes.data(), bytes.size());
}

std::string ContentHasher::finish() const { return hex_of(XXH3_128bits_digest(state_->xxh)); }

}  // namespace sx::codec
