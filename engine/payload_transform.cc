#include "engine/payload_transform.h"

#include "codec/piece_format.h"

namespace sx::engine {

PayloadTransform::PayloadTransform(const std::optional<codec::ContentKey>& key, std::size_t max_plain_bytes) {
  if (key) cipher_.emplace(*key);
  // Sized lazily on first use: a pull of an unencrypted, uncompressed file
  // never touches them.
  packed_.reserve(0);
  (void)max_plain_bytes;
}

Result<std::span<const std::byte>> PayloadTransform::seal(codec::PiecePlace place, std::span<const std::byte> plain,
                                                          bool try_compress, std::uint8_t& flags) {
  std::span<const std::byte> stage = plain;
  if (try_compress && !plain.empty()) {
    packed_.resize(codec::Compressor::bound(plain.size()));
    if (const std::size_t n = compressor_.compress(plain, packed_); n > 0) {
      stage = std::span<const std::byte>(packed_).first(n);
      flags |= codec::kFlagCompressed;
    }
  }
  if (!cipher_) return stage;
  sealed_.resize(stage.size() + codec::kTagBytes);
  auto n = cipher_->seal(place, stage, sealed_);
  if (!n) return std::move(n).error();
  flags |= codec::kFlagEncrypted;
  return std::span<const std::byte>(sealed_).first(*n);
}

Result<std::span<const std::byte>> PayloadTransform::open(codec::PiecePlace place, std::span<std::byte> stored,
                                                          std::uint8_t flags, std::size_t expected_plain_bytes) {
  std::span<std::byte> stage = stored;
  if (flags & codec::kFlagEncrypted) {
    if (!cipher_)
      return make_error(Errc::kDenied, "the file is encrypted and no key was given (the key URL's #k=… "
                                       "fragment, or --passphrase for a #s=… key)");
    auto n = cipher_->open(place, stored, stored);
    if (!n) return std::move(n).error();
    stage = stored.first(*n);
  }
  if (flags & codec::kFlagCompressed) {
    packed_.resize(expected_plain_bytes);
    auto n = compressor_.decompress(stage, packed_, expected_plain_bytes);
    if (!n) return std::move(n).error();
    return std::span<const std::byte>(packed_).first(*n);
  }
  return std::span<const std::byte>(stage);
}

TransformPool::TransformPool(std::size_t count, const std::optional<codec::ContentKey>& key,
                             std::size_t max_plain_bytes) {
  for (std::size_t i = 0; i < count; ++i) {
    all_.push_back(std::make_unique<PayloadTransform>(key, max_plain_bytes));
    free_.push_back(all_.back().get());
  }
}

PayloadTransform& TransformPool::acquire() {
  std::lock_guard lock(mutex_);
  PayloadTransform* t = free_.back();  // callers are at most `count` workers
  free_.pop_back();
  return *t;
}

void TransformPool::release(PayloadTransform& transform) {
  std::lock_guard lock(mutex_);
  free_.push_back(&transform);
}

}  // namespace sx::engine
