// Writes the 2017 storagex v1 format (docs/FORMAT.md §storagex v1), for
// users who share files with people still on storagex 0.1–0.3: its pieces
// and its meta info, byte for byte what storagex itself reads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "sx/error.h"

namespace sx::codec {

// storagex's defaults (its Storage(width=1024, height=768)).
inline constexpr std::uint32_t kStoragexDefaultWidth = 1024;
inline constexpr std::uint32_t kStoragexDefaultHeight = 768;
inline constexpr std::size_t kStoragexLengthBytes = 4;  // the little-endian u32 payload length

// Payload bytes one width × height image carries: width * height * 3 - 4,
// as the seed documents. 0 when the image cannot hold the length header.
std::size_t storagex_v1_capacity(std::uint32_t width, std::uint32_t height);

// One entry of the meta info's "pieces".
struct StoragexPiece {
  std::uint64_t seq = 0;
  std::string key;  // URL of the piece image
  std::uint64_t offset = 0;
  std::uint64_t size = 0;
};

struct StoragexMeta {
  std::string filename;
  std::uint32_t piece_width = kStoragexDefaultWidth;
  std::uint32_t piece_height = kStoragexDefaultHeight;
  std::vector<StoragexPiece> pieces;
};

// The meta info exactly as storagex's json.dumps wrote it: its key order,
// ", " and ": " separators, "protocol_version": 1.0, "checksum": "" and
// non-ASCII escaped as \uXXXX (ensure_ascii).
std::string to_storagex_v1_json(const StoragexMeta& meta);

// Writes full width × height RGB8 images whose pixel bytes are the payload
// length (u32, little-endian), the payload and zero padding: every piece and
// the meta image are full size, as storagex made them. Rows use filter 0 and
// libdeflate level 1 (the padding compresses to almost nothing). Owns its
// scanline buffer and compressor: one per thread.
class StoragexV1ImageWriter {
 public:
  StoragexV1ImageWriter(std::uint32_t width, std::uint32_t height);
  ~StoragexV1ImageWriter();
  StoragexV1ImageWriter(StoragexV1ImageWriter&&) noexcept;
  StoragexV1ImageWriter& operator=(StoragexV1ImageWriter&&) noexcept;

  // Upper bound of one image's PNG bytes: the size `out` needs.
  std::size_t max_png_bytes() const;
  // kInvalidArgument when `payload` exceeds the capacity or `out` is short.
  Result<std::size_t> write(std::span<const std::byte> payload, std::span<std::byte> out);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sx::codec
