#include "codec/piece_stream.h"

#include <algorithm>
#include <cstring>

#include "codec/byte_order.h"
#include "codec/checksum.h"
#include "codec/png_chunks.h"

namespace sx::codec {
namespace {

constexpr std::byte kIend[12] = {std::byte{0}, std::byte{0}, std::byte{0}, std::byte{0}, std::byte{'I'},
                                 std::byte{'E'}, std::byte{'N'}, std::byte{'D'}, std::byte{0xAE},
                                 std::byte{0x42}, std::byte{0x60}, std::byte{0x82}};

Error corrupt(const char* what) { return Error{Errc::kCorrupt, std::string("piece image ") + what}; }

}  // namespace

void PieceStream::begin(const Expect& expect, std::span<std::byte> out, PieceCipher* cipher) {
  *this = PieceStream{};
  expect_ = expect;
  out_ = out;
  cipher_ = cipher;
}

Result<PieceStream::Take> PieceStream::write(std::span<const std::byte> chunk) {
  if (streaming_) {
    if (auto s = consume(chunk); !s) return std::move(s).error();
    return Take::kTaken;
  }
  const std::size_t need = kDecideBytes - head_bytes_;
  if (chunk.size() < need) {
    std::memcpy(head_.data() + head_bytes_, chunk.data(), chunk.size());
    head_bytes_ += chunk.size();
    return Take::kTaken;
  }
  std::array<std::byte, kDecideBytes> head = head_;
  std::memcpy(head.data() + head_bytes_, chunk.data(), need);
  if (!decide(head)) return Take::kDeclined;
  head_ = head;
  head_bytes_ = kDecideBytes;
  streaming_ = true;
  // The first block's header is the head's last 5 bytes.
  if (auto s = consume(std::span<const std::byte>(head).subspan(kDecideBytes - 5)); !s) return std::move(s).error();
  if (auto s = consume(chunk.subspan(need)); !s) return std::move(s).error();
  return Take::kTaken;
}

// Exactly what piece_writer's fast path makes, at the manifest's width.
bool PieceStream::decide(std::span<const std::byte, kDecideBytes> head) {
  const std::byte* p = head.data();
  if (std::memcmp(p, png::kSignature, 8) != 0 || load_be32(p + 8) != png::kIhdrBytes ||
      std::memcmp(p + 12, "IHDR", 4) != 0)
    return false;
  const std::uint32_t width = load_be32(p + 16), height = load_be32(p + 20);
  if (width != expect_.width || height == 0 || height > expect_.max_height) return false;
  if (p[24] != std::byte{8} || p[25] != std::byte{2} || p[26] != std::byte{0} || p[27] != std::byte{0} ||
      p[28] != std::byte{0})
    return false;
  if (crc32(std::span<const std::byte>(p + 12, 4 + png::kIhdrBytes)) != load_be32(p + 29)) return false;
  if (std::memcmp(p + 37, "IDAT", 4) != 0) return false;
  const std::size_t idat = load_be32(p + 33);
  const unsigned cmf = std::to_integer<unsigned>(p[41]), flg = std::to_integer<unsigned>(p[42]);
  if ((cmf & 0x0f) != 8 || ((cmf << 8) | flg) % 31 != 0 || (flg & 0x20) != 0) return false;
  if ((std::to_integer<unsigned>(p[43]) & 0x06) != 0) return false;  // not a stored block
  row_bytes_ = std::size_t{width} * kBytesPerPixel;
  stride_ = row_bytes_ + 1;
  raw_total_ = stride_ * height;
  if (idat < 2 + 5 + 4 || idat - 2 < raw_total_ + 4) return false;
  idat_left_ = idat - 2;
  return true;
}

Status PieceStream::consume(std::span<const std::byte> bytes) {
  const std::byte* p = bytes.data();
  std::size_t left = bytes.size();
  while (left > 0) {
    switch (part_) {
      case Part::kBlockHeader: {
        const std::size_t take = std::min(left, 5 - small_bytes_);
        std::memcpy(small_.data() + small_bytes_, p, take);
        small_bytes_ += take, p += take, left -= take;
        if (small_bytes_ == 5) {
          small_bytes_ = 0;
          if (auto s = block_header(small_.data()); !s) return s;
        }
        break;
      }
      case Part::kBlockData: {
        const std::size_t take = std::min(left, block_left_);
        if (auto s = rows(p, take); !s) return s;
        block_left_ -= take, idat_left_ -= take, p += take, left -= take;
        if (block_left_ == 0) {
          if (!final_block_) {
            part_ = Part::kBlockHeader;
          } else if (raw_done_ != raw_total_ || idat_left_ != 4) {
            return corrupt("has a deflate stream of the wrong length");
          } else {
            part_ = Part::kTrailer;
          }
        }
        break;
      }
      case Part::kTrailer: {  // Adler-32, IDAT CRC (the piece's own checks cover every byte used), IEND
        const std::size_t take = std::min(left, small_.size() - small_bytes_);
        std::memcpy(small_.data() + small_bytes_, p, take);
        small_bytes_ += take, p += take, left -= take;
        if (small_bytes_ == small_.size()) {
          if (std::memcmp(small_.data() + 8, kIend, sizeof kIend) != 0) return corrupt("does not end with IEND");
          part_ = Part::kDone;
        }
        break;
      }
      case Part::kDone:
        return corrupt("has bytes after IEND");
    }
  }
  return {};
}

Status PieceStream::block_header(const std::byte* b) {
  const unsigned bits = std::to_integer<unsigned>(b[0]);
  if ((bits & 0x06) != 0) return corrupt("has a compressed deflate block where stored blocks began");
  final_block_ = (bits & 1) != 0;
  const std::size_t n = load_le16(b + 1);
  if (static_cast<std::uint16_t>(~n) != load_le16(b + 3)) return corrupt("has a bad stored-block length");
  if (idat_left_ < 5 + n + 4 || raw_total_ - raw_done_ < n) return corrupt("has a stored block past its end");
  idat_left_ -= 5;
  block_left_ = n;
  part_ = Part::kBlockData;
  if (n == 0 && final_block_) {
    if (raw_done_ != raw_total_ || idat_left_ != 4) return corrupt("has a deflate stream of the wrong length");
    part_ = Part::kTrailer;
  }
  return {};
}

// Scanline bytes: filter bytes (which must be 0) dropped, pixels passed on.
Status PieceStream::rows(const std::byte* data, std::size_t n) {
  while (n > 0) {
    const std::size_t column = raw_done_ % stride_;
    if (column == 0) {
      if (*data != std::byte{0}) return corrupt("uses a PNG filter sxengine does not write");
      ++data, ++raw_done_, --n;
      continue;
    }
    const std::size_t take = std::min(n, stride_ - column);
    if (auto s = pixels(data, take); !s) return s;
    data += take, raw_done_ += take, n -= take;
  }
  return {};
}

Status PieceStream::pixels(const std::byte* data, std::size_t n) {
  if (pixel_pos_ < kHeaderBytes) {
    const std::size_t take = std::min(n, kHeaderBytes - pixel_pos_);
    std::memcpy(header_bytes_.data() + pixel_pos_, data, take);
    pixel_pos_ += take, data += take, n -= take;
    if (pixel_pos_ == kHeaderBytes)
      if (auto s = parse_header(); !s) return s;
  }
  if (n == 0 || pixel_pos_ >= payload_end_) {  // padding after the payload
    pixel_pos_ += n;
    return {};
  }
  const std::size_t take = std::min(n, payload_end_ - pixel_pos_);
  const std::size_t at = pixel_pos_ - kHeaderBytes;
  if (!decipher_) {
    std::memcpy(out_.data() + at, data, take);
    crc_ = crc32(std::span<const std::byte>(data, take), crc_);
  } else {
    const std::size_t sealed = std::min(take, cipher_end_ - std::min(cipher_end_, pixel_pos_));
    if (sealed > 0) cipher_->open_update(data, out_.data() + at, sealed);
    for (std::size_t i = sealed; i < take; ++i)
      tag_[pixel_pos_ + i - cipher_end_] = std::to_integer<std::uint8_t>(data[i]);
  }
  pixel_pos_ += n;
  return {};
}

Status PieceStream::parse_header() {
  const std::size_t pixel_bytes = raw_total_ / stride_ * row_bytes_;
  auto header = decode_header(header_bytes_, pixel_bytes);
  if (!header) return std::move(header).error();
  if (header->piece_index != expect_.index || (header->flags & kFlagManifest))
    return corrupt("is a different piece (its index differs)");
  if (header->payload_bytes > out_.size()) return corrupt("claims more payload than a piece can hold");
  header_ = *header;
  have_header_ = true;
  payload_end_ = kHeaderBytes + header_.payload_bytes;
  decipher_ = cipher_ && (header_.flags & kFlagEncrypted);
  if (decipher_) {
    if (header_.payload_bytes < kTagBytes) return corrupt("is encrypted but too short for its tag");
    cipher_end_ = payload_end_ - kTagBytes;
    if (auto s = cipher_->begin_open(expect_.place); !s) return s;
  }
  return {};
}

Result<PieceView> PieceStream::finish() {
  if (!streaming_ || part_ != Part::kDone || !have_header_) return corrupt("ended early");
  if (decipher_) {
    if (auto s = cipher_->finish_open(tag_); !s) return std::move(s).error();
    return PieceView{header_, out_.first(header_.payload_bytes - kTagBytes)};
  }
  if (crc_ != header_.payload_crc32) return make_error(Errc::kCorrupt, "piece payload checksum mismatch");
  return PieceView{header_, out_.first(header_.payload_bytes)};
}

}  // namespace sx::codec
