#include "codec/piece_crypto.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sodium.h>

#include <cstring>

#include "codec/byte_order.h"

namespace sx::codec {
namespace {

constexpr char kAadLabel[] = "sxengine-piece-v2";

// 96-bit nonce = LE32(domain) ‖ LE64(index): unique per piece of a file, and
// every file has its own random key (or Argon2id salt), so never reused.
void make_nonce(PiecePlace place, std::uint8_t nonce[12]) {
  store_le32(reinterpret_cast<std::byte*>(nonce), place.domain);
  store_le64(reinterpret_cast<std::byte*>(nonce) + 4, place.index);
}

void make_aad(PiecePlace place, std::uint8_t aad[sizeof kAadLabel + 12]) {
  std::memcpy(aad, kAadLabel, sizeof kAadLabel);
  make_nonce(place, aad + sizeof kAadLabel);
}

}  // namespace

struct PieceCipher::Impl {
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  ContentKey key{};
  ~Impl() {
    EVP_CIPHER_CTX_free(ctx);
    sodium_memzero(key.data(), key.size());
  }
};

PieceCipher::PieceCipher(const ContentKey& key) : impl_(std::make_unique<Impl>()) { impl_->key = key; }
PieceCipher::~PieceCipher() = default;
PieceCipher::PieceCipher(PieceCipher&&) noexcept = default;
PieceCipher& PieceCipher::operator=(PieceCipher&&) noexcept = default;

Result<std::size_t> PieceCipher::seal(PiecePlace place, std::span<const std::byte> plain, std::span<std::byte> out) {
  if (out.size() < plain.size() + kTagBytes) return make_error(Errc::kInvalidArgument, "seal: output too small");
  std::uint8_t nonce[12], aad[sizeof kAadLabel + 12];
  make_nonce(place, nonce);
  make_aad(place, aad);
  EVP_CIPHER_CTX* ctx = impl_->ctx;
  int n = 0, tail = 0;
  auto* dst = reinterpret_cast<unsigned char*>(out.data());
  if (EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), nullptr, impl_->key.data(), nonce) != 1 ||
      EVP_EncryptUpdate(ctx, nullptr, &n, aad, sizeof aad) != 1 ||
      EVP_EncryptUpdate(ctx, dst, &n, reinterpret_cast<const unsigned char*>(plain.data()),
                        static_cast<int>(plain.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx, dst + n, &tail) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, kTagBytes, dst + plain.size()) != 1)
    return make_error(Errc::kIo, "AES-256-GCM encryption failed");
  return plain.size() + kTagBytes;
}

Status PieceCipher::begin_seal(PiecePlace place) {
  std::uint8_t nonce[12], aad[sizeof kAadLabel + 12];
  make_nonce(place, nonce);
  make_aad(place, aad);
  int n = 0;
  if (EVP_EncryptInit_ex(impl_->ctx, EVP_aes_256_gcm(), nullptr, impl_->key.data(), nonce) != 1 ||
      EVP_EncryptUpdate(impl_->ctx, nullptr, &n, aad, sizeof aad) != 1)
    return make_error(Errc::kIo, "AES-256-GCM encryption failed");
  return {};
}

void PieceCipher::seal_update(const std::byte* in, std::byte* out, std::size_t n) {
  int written = 0;  // GCM is a stream mode: always n
  EVP_EncryptUpdate(impl_->ctx, reinterpret_cast<unsigned char*>(out), &written,
                    reinterpret_cast<const unsigned char*>(in), static_cast<int>(n));
}

Status PieceCipher::finish_seal(std::span<std::uint8_t, kTagBytes> tag) {
  unsigned char tail[16];
  int n = 0;
  if (EVP_EncryptFinal_ex(impl_->ctx, tail, &n) != 1 ||
      EVP_CIPHER_CTX_ctrl(impl_->ctx, EVP_CTRL_GCM_GET_TAG, kTagBytes, tag.data()) != 1)
    return make_error(Errc::kIo, "AES-256-GCM encryption failed");
  return {};
}

Result<std::size_t> PieceCipher::open(PiecePlace place, std::span<const std::byte> sealed, std::span<std::byte> out) {
  if (sealed.size() < kTagBytes) return make_error(Errc::kCorrupt, "encrypted piece too short");
  const std::size_t plain = sealed.size() - kTagBytes;
  if (out.size() < plain) return make_error(Errc::kInvalidArgument, "open: output too small");
  std::uint8_t nonce[12], aad[sizeof kAadLabel + 12], tag[kTagBytes];
  make_nonce(place, nonce);
  make_aad(place, aad);
  std::memcpy(tag, sealed.data() + plain, kTagBytes);
  EVP_CIPHER_CTX* ctx = impl_->ctx;
  int n = 0, tail = 0;
  auto* dst = reinterpret_cast<unsigned char*>(out.data());
  if (EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), nullptr, impl_->key.data(), nonce) != 1 ||
      EVP_DecryptUpdate(ctx, nullptr, &n, aad, sizeof aad) != 1 ||
      EVP_DecryptUpdate(ctx, dst, &n, reinterpret_cast<const unsigned char*>(sealed.data()),
                        static_cast<int>(plain)) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, kTagBytes, tag) != 1)
    return make_error(Errc::kIo, "AES-256-GCM decryption failed");
  if (EVP_DecryptFinal_ex(ctx, dst + n, &tail) != 1)
    return make_error(Errc::kCorrupt, "decryption failed: wrong key, or the piece was altered or swapped");
  return plain;
}

Status PieceCipher::begin_open(PiecePlace place) {
  std::uint8_t nonce[12], aad[sizeof kAadLabel + 12];
  make_nonce(place, nonce);
  make_aad(place, aad);
  int n = 0;
  if (EVP_DecryptInit_ex(impl_->ctx, EVP_aes_256_gcm(), nullptr, impl_->key.data(), nonce) != 1 ||
      EVP_DecryptUpdate(impl_->ctx, nullptr, &n, aad, sizeof aad) != 1)
    return make_error(Errc::kIo, "AES-256-GCM decryption failed");
  return {};
}

void PieceCipher::open_update(const std::byte* in, std::byte* out, std::size_t n) {
  int written = 0;  // GCM is a stream mode: always n
  EVP_DecryptUpdate(impl_->ctx, reinterpret_cast<unsigned char*>(out), &written,
                    reinterpret_cast<const unsigned char*>(in), static_cast<int>(n));
}

Status PieceCipher::finish_open(std::span<const std::uint8_t, kTagBytes> tag) {
  std::uint8_t copy[kTagBytes];
  std::memcpy(copy, tag.data(), kTagBytes);
  unsigned char tail[16];
  int n = 0;
  if (EVP_CIPHER_CTX_ctrl(impl_->ctx, EVP_CTRL_GCM_SET_TAG, kTagBytes, copy) != 1)
    return make_error(Errc::kIo, "AES-256-GCM decryption failed");
  if (EVP_DecryptFinal_ex(impl_->ctx, tail, &n) != 1)
    return make_error(Errc::kCorrupt, "decryption failed: wrong key, or the piece was altered or swapped");
  return {};
}

ContentKey random_key() {
  ContentKey key;
  randombytes_buf(key.data(), key.size());
  return key;
}

Salt random_salt() {
  Salt salt;
  randombytes_buf(salt.data(), salt.size());
  return salt;
}

Result<ContentKey> derive_key(std::string_view passphrase, const Salt& salt) {
  static_assert(kSaltBytes == crypto_pwhash_SALTBYTES);
  if (sodium_init() < 0) return make_error(Errc::kIo, "libsodium failed to initialise");
  ContentKey key;
  if (crypto_pwhash(key.data(), key.size(), passphrase.data(), passphrase.size(), salt.data(),
                    crypto_pwhash_OPSLIMIT_MODERATE, crypto_pwhash_MEMLIMIT_MODERATE,
                    crypto_pwhash_ALG_ARGON2ID13) != 0)
    return make_error(Errc::kIo, "Argon2id key derivation ran out of memory");
  return key;
}

std::string base64url(std::span<const std::uint8_t> bytes) {
  std::string out(sodium_base64_ENCODED_LEN(bytes.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING), '\0');
  sodium_bin2base64(out.data(), out.size(), bytes.data(), bytes.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  out.resize(std::strlen(out.c_str()));
  return out;
}

Result<std::vector<std::uint8_t>> from_base64url(std::string_view text) {
  // Empty ("#s="): nothing to decode, and libsodium's pointers must not be null.
  if (text.empty()) return make_error(Errc::kInvalidArgument, "the key's fragment is empty");
  std::vector<std::uint8_t> out(text.size());
  std::size_t length = 0;
  if (sodium_base642bin(out.data(), out.size(), text.data(), text.size(), nullptr, &length, nullptr,
                        sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
    return make_error(Errc::kInvalidArgument, "the key's fragment is not valid base64url");
  out.resize(length);
  return out;
}

std::size_t xchacha_seal(const ContentKey& key, std::span<const std::byte> plain, std::span<std::byte> out) {
  unsigned char nonce[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES] = {};
  unsigned long long length = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(reinterpret_cast<unsigned char*>(out.data()), &length,
                                             reinterpret_cast<const unsigned char*>(plain.data()), plain.size(),
                                             nullptr, 0, nullptr, nonce, key.data());
  return static_cast<std::size_t>(length);
}

}  // namespace sx::codec
