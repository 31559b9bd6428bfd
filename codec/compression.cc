#include "codec/compression.h"

#include <zstd.h>

#include <vector>

namespace sx::codec {

struct Compressor::Impl {
  int level = 3;
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  ZSTD_DCtx* dctx = ZSTD_createDCtx();
  ~Impl() {
    ZSTD_freeCCtx(cctx);
    ZSTD_freeDCtx(dctx);
  }
};

Compressor::Compressor(int level) : impl_(std::make_unique<Impl>()) { impl_->level = level; }
Compressor::~Compressor() = default;
Compressor::Compressor(Compressor&&) noexcept = default;
Compressor& Compressor::operator=(Compressor&&) noexcept = default;

std::size_t Compressor::bound(std::size_t plain_bytes) { return ZSTD_compressBound(plain_bytes); }

std::size_t Compressor::compress(std::span<const std::byte> plain, std::span<std::byte> out) {
  const std::size_t n = ZSTD_compressCCtx(impl_->cctx, out.data(), out.size(), plain.data(), plain.size(), impl_->level);
  if (ZSTD_isError(n) || n >= plain.size()) return 0;
  return n;
}

Result<std::size_t> Compressor::decompress(std::span<const std::byte> packed, std::span<std::byte> out,
                                           std::size_t expected) {
  if (out.size() < expected) return make_error(Errc::kInvalidArgument, "decompress: output too small");
  const std::size_t n = ZSTD_decompressDCtx(impl_->dctx, out.data(), expected, packed.data(), packed.size());
  if (ZSTD_isError(n) || n != expected)
    return make_error(Errc::kCorrupt, "compressed piece does not decompress to its recorded size");
  return n;
}

Result<std::size_t> Compressor::frame_size(std::span<const std::byte> packed, std::size_t limit) {
  const unsigned long long size = ZSTD_getFrameContentSize(packed.data(), packed.size());
  if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN || size > limit)
    return make_error(Errc::kCorrupt, "compressed piece has no valid size within the limit");
  return static_cast<std::size_t>(size);
}

bool worth_compressing(std::span<const std::byte> sample) {
  if (sample.empty()) return false;
  std::vector<std::byte> out(ZSTD_compressBound(sample.size()));
  const std::size_t n = ZSTD_compress(out.data(), out.size(), sample.data(), sample.size(), 1);
  return !ZSTD_isError(n) && n * 10 < sample.size() * 9;
}

}  // namespace sx::codec
