// Optional zstd compression of piece payloads, applied before encryption.
#pragma once

#include <cstddef>
#include <memory>
#include <span>

#include "sx/error.h"

namespace sx::codec {


// Reuses its zstd contexts piece after piece. One per thread at a time.
class Compressor {
 public:
  explicit Compressor(int level = 3);
  ~Compressor();
  Compressor(Compressor&&) noexcept;
  Compressor& operator=(Compressor&&) noexcept;

  // Bytes needed in `out` for `plain_bytes` of input.
  static std::size_t bound(std::size_t plain_bytes);
  // Returns the compressed size, or 0 when compressing does not make it smaller.
  std::size_t compress(std::span<const std::byte> plain, std::span<std::byte> out);
  // Decompresses exactly `expected` bytes or fails with kCorrupt (a bomb
  // cannot write past `expected`).
  Result<std::size_t> decompress(std::span<const std::byte> packed, std::span<std::byte> out, std::size_t expected);
  // The size a zstd frame says it decompresses to, if at most `limit`.
  static Result<std::size_t> frame_size(std::span<const std::byte> packed, std::size_t limit);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// True when a zstd pass over `sample` shrinks it by at least 10%.
bool worth_compressing(std::span<const std::byte> sample);

}  // namespace sx::codec
