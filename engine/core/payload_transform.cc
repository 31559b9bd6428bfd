#include "engine/core/payload_transform.h"

#include <array>
#include <cstring>
#include <new>
#include <string>

#include "codec/piece_format.h"
#include "codec/piece_writer.h"

namespace sx::engine {

namespace {

// Sizes a scratch buffer on a worker, where a std::bad_alloc must not escape.
Status grow(std::vector<std::byte>& buffer, std::size_t bytes) {
  try {
    buffer.resize(bytes);
  } catch (const std::bad_alloc&) {
    return make_error(Errc::kLimit, "out of memory: cannot allocate " + std::to_string(bytes >> 20) +
                                        " MiB of scratch for a piece");
  }
  return {};
}

}  // namespace

// Buffers are sized on first use: a pull of an uncompressed file never
// touches them.
PayloadTransform::PayloadTransform(const std::optional<codec::ContentKey>& key) {
  if (key) cipher_.emplace(*key);
}

Result<std::span<const std::byte>> PayloadTransform::seal(codec::PiecePlace place, std::span<const std::byte> plain,
                                                          bool try_compress, std::uint8_t& flags) {
  std::span<const std::byte> stage = plain;
  if (try_compress && !plain.empty()) {
    if (auto sized = grow(packed_, codec::Compressor::bound(plain.size())); !sized) return std::move(sized).error();
    if (const std::size_t n = compressor_.compress(plain, packed_); n > 0) {
      stage = std::span<const std::byte>(packed_).first(n);
      flags |= codec::kFlagCompressed;
    }
  }
  if (!cipher_) return stage;
  if (auto sized = grow(sealed_, stage.size() + codec::kTagBytes); !sized) return std::move(sized).error();
  auto n = cipher_->seal(place, stage, sealed_);
  if (!n) return std::move(n).error();
  flags |= codec::kFlagEncrypted;
  return std::span<const std::byte>(sealed_).first(*n);
}

namespace {

// Encrypts the staged payload into the image as the writer asks for it, then
// appends the tag.
class SealingProducer final : public codec::PayloadProducer {
 public:
  SealingProducer(codec::PieceCipher& cipher, std::span<const std::byte> plain) : cipher_(cipher), plain_(plain) {}

  void produce(std::byte* dst, std::size_t n) override {
    const std::size_t body = std::min(n, plain_.size() - std::min(at_, plain_.size()));
    if (body > 0) cipher_.seal_update(plain_.data() + at_, dst, body);
    at_ += body;
    for (std::size_t i = body; i < n; ++i, ++at_) {
      if (at_ == plain_.size() && !tag_ready_) {
        status_ = cipher_.finish_seal(tag_);
        tag_ready_ = true;
      }
      dst[i] = std::byte{tag_[at_ - plain_.size()]};
    }
  }
  const Status& status() const { return status_; }
  const std::array<std::uint8_t, codec::kTagBytes>& tag() const { return tag_; }

 private:
  codec::PieceCipher& cipher_;
  std::span<const std::byte> plain_;
  std::size_t at_ = 0;
  std::array<std::uint8_t, codec::kTagBytes> tag_{};
  bool tag_ready_ = false;
  Status status_;
};

}  // namespace

Result<std::size_t> PayloadTransform::write_piece(codec::PieceHeader& header, codec::PiecePlace place,
                                                  std::span<const std::byte> plain, bool try_compress,
                                                  const codec::Geometry& geometry, std::span<std::byte> png) {
  last_tag_.reset();
  std::span<const std::byte> stage = plain;
  if (try_compress && !plain.empty()) {
    if (auto sized = grow(packed_, codec::Compressor::bound(plain.size())); !sized) return std::move(sized).error();
    if (const std::size_t n = compressor_.compress(plain, packed_); n > 0) {
      stage = std::span<const std::byte>(packed_).first(n);
      header.flags |= codec::kFlagCompressed;
    }
  }
  if (!cipher_) return codec::write_piece(header, stage, geometry, png);
  header.flags |= codec::kFlagEncrypted;
  if (auto begun = cipher_->begin_seal(place); !begun) return std::move(begun).error();
  SealingProducer producer(*cipher_, stage);
  auto written = codec::write_piece_streamed(header, stage.size() + codec::kTagBytes, producer, geometry, png);
  if (written && !producer.status()) return producer.status().error();
  last_tag_ = producer.tag();
  return written;
}

Result<std::size_t> PayloadTransform::write_deflated_piece(int level, codec::PieceHeader& header,
                                                           codec::PiecePlace place, std::span<const std::byte> plain,
                                                           bool try_compress, const codec::Geometry& geometry,
                                                           std::span<std::byte> png) {
  auto stored = seal(place, plain, try_compress, header.flags);
  if (!stored) return std::move(stored).error();
  if (!deflater_ || deflater_level_ != level || deflater_geometry_.width != geometry.width ||
      deflater_geometry_.height != geometry.height) {
    try {
      deflater_.emplace(level, geometry);
    } catch (const std::bad_alloc&) {
      deflater_.reset();
      return make_error(Errc::kLimit, "out of memory: cannot allocate the deflating writer");
    }
    deflater_level_ = level;
    deflater_geometry_ = geometry;
  }
  return deflater_->write(header, *stored, png);
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
    if (auto sized = grow(packed_, expected_plain_bytes); !sized) return std::move(sized).error();
    auto n = compressor_.decompress(stage, packed_, expected_plain_bytes);
    if (!n) return std::move(n).error();
    return std::span<const std::byte>(packed_).first(*n);
  }
  return std::span<const std::byte>(stage);
}

TransformPool::TransformPool(std::size_t count, const std::optional<codec::ContentKey>& key) {
  for (std::size_t i = 0; i < count; ++i) {
    all_.push_back(std::make_unique<PayloadTransform>(key));
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
