// Tests codec/piece_writer.cc, codec/piece_reader.cc and codec/png_decoder.cc.
#include <doctest/doctest.h>
#include <stb_image.h>
#include <zlib.h>

#include <cstring>
#include <random>
#include <string_view>
#include <vector>

#include "base/text.h"
#include "codec/byte_order.h"
#include "codec/checksum.h"
#include "codec/piece_reader.h"
#include "codec/piece_writer.h"
#include "codec/png_decoder.h"
#include "test/deflated_png.h"
#include "test/stb_png.h"

using namespace sx;
using namespace sx::codec;

namespace {

std::vector<std::byte> random_bytes(std::size_t n, unsigned seed = 1) {
  std::mt19937_64 rng(seed);
  std::vector<std::byte> out(n);
  for (auto& b : out) b = std::byte(rng() & 0xff);
  return out;
}

std::span<const std::byte> bytes_of(std::string_view s) {
  return std::as_bytes(std::span<const char>(s.data(), s.size()));
}

struct Encoded {
  std::vector<std::byte> png;
  Geometry geometry;
};

Encoded encode(std::span<const std::byte> payload, Geometry geometry, std::uint64_t index = 7) {
  Encoded e{std::vector<std::byte>(max_png_bytes(geometry)), geometry};
  PieceHeader header;
  header.piece_index = index;
  auto n = write_piece(header, payload, geometry, e.png);
  REQUIRE(n);
  e.png.resize(*n);
  return e;
}

}  // namespace

TEST_CASE("checksums match published vectors") {
  CHECK(crc32(bytes_of("123456789")) == 0xCBF43926u);
  CHECK(adler32(bytes_of("Wikipedia")) == 0x11E60398u);
  auto digest = sha256(bytes_of("abc"));
  CHECK(text::to_hex(digest) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("geometry fits the piece size and the last piece shrinks") {
  auto g = geometry_for_piece_size(8 << 20, kDefaultLimits);
  REQUIRE(g);
  CHECK(g->capacity() >= (8u << 20));
  CHECK(g->capacity() < (8u << 20) + 3 * g->width + kHeaderBytes);
  CHECK(g->rows_for(0) == 1);
  CHECK(g->rows_for(g->capacity()) == g->height);
  CHECK_FALSE(geometry_for_piece_size(0, kDefaultLimits));
  CHECK_FALSE(geometry_for_piece_size(std::size_t{1} << 40, kDefaultLimits));
  CHECK_FALSE(geometry_for_dimensions(1, 1, kDefaultLimits));
}

TEST_CASE("pieces round-trip through the fast path at edge sizes") {
  auto geometry = *geometry_for_piece_size(100000, kDefaultLimits);
  for (std::size_t size : {std::size_t{0}, std::size_t{1}, std::size_t{99999}, std::size_t{100000},
                           geometry.capacity()}) {
    CAPTURE(size);
    auto payload = random_bytes(size, static_cast<unsigned>(size));
    auto e = encode(payload, geometry);
    CHECK(e.png.size() == stored_png_bytes(geometry.width, geometry.rows_for(size)));
    std::vector<std::byte> pixels(pixel_bytes(geometry.width, geometry.height));
    auto view = read_piece(e.png, pixels, kDefaultLimits);
    REQUIRE(view);
    CHECK(view->header.piece_index == 7);
    REQUIRE(view->payload.size() == size);
    CHECK(std::equal(view->payload.begin(), view->payload.end(), payload.begin()));
  }
}

TEST_CASE("a piece larger than one stored block and many rows decodes with other decoders") {
  auto geometry = *geometry_for_piece_size(1 << 20, kDefaultLimits);
  auto payload = random_bytes(1 << 20);
  auto e = encode(payload, geometry);
  // libspng alone, bypassing the fast path.
  std::vector<std::byte> pixels(pixel_bytes(geometry.width, geometry.height));
  auto complete = decode_rgb8_complete(e.png, pixels, kDefaultLimits);
  REQUIRE(complete);
  CHECK(std::memcmp(complete->data() + kHeaderBytes, payload.data(), payload.size()) == 0);
  // stb_image, an independent decoder.
  int w = 0, h = 0, comp = 0;
  unsigned char* img = stbi_load_from_memory(reinterpret_cast<const unsigned char*>(e.png.data()),
                                             static_cast<int>(e.png.size()), &w, &h, &comp, 3);
  REQUIRE(img != nullptr);
  CHECK(w == static_cast<int>(geometry.width));
  CHECK(std::memcmp(img + kHeaderBytes, payload.data(), payload.size()) == 0);
  stbi_image_free(img);
}

TEST_CASE("a PNG from another encoder (filters, zlib) goes through the complete decoder") {
  auto geometry = *geometry_for_piece_size(50000, kDefaultLimits);
  std::string text(50000, 'a');
  for (std::size_t i = 0; i < text.size(); ++i) text[i] = static_cast<char>('a' + (i * 7 % 26));
  auto e = encode(bytes_of(text), geometry);
  std::vector<std::byte> pixels(pixel_bytes(geometry.width, geometry.height));
  REQUIRE(decode_rgb8(e.png, pixels, kDefaultLimits));
  // Re-encode the pixels with stb_image_write (adaptive filters + zlib).
  const std::uint32_t rows = geometry.rows_for(text.size());
  auto reencoded = sx::testing::stb_png(pixels.data(), static_cast<int>(geometry.width),
                                        static_cast<int>(rows));
  std::vector<std::byte> pixels2(pixel_bytes(geometry.width, geometry.height));
  auto view = read_piece(reencoded, pixels2, kDefaultLimits);
  REQUIRE(view);
  CHECK(std::string_view(reinterpret_cast<const char*>(view->payload.data()),
                         view->payload.size()) == text);
}

// Stored deflate blocks (zlib level 0) with the Up filter on the last row:
// the fast path copies (and checksums) every row before it, then hands the
// image to libspng, whose pixels must be the ones checked.
TEST_CASE("a stored-block PNG the fast path gives up on halfway is checked on libspng's pixels") {
  auto geometry = *geometry_for_piece_size(200000, kDefaultLimits);
  auto payload = random_bytes(200000, 3);
  auto e = encode(payload, geometry);
  std::vector<std::byte> pixels(pixel_bytes(geometry.width, geometry.height));
  REQUIRE(decode_rgb8(e.png, pixels, kDefaultLimits));
  const std::uint32_t rows = geometry.rows_for(payload.size());
  REQUIRE(rows > 2);
  auto png = sx::testing::deflated_png(pixels.data(), geometry.width, rows, 0, rows - 1);
  std::vector<std::byte> pixels2(pixel_bytes(geometry.width, geometry.height));
  auto view = read_piece(png, pixels2, kDefaultLimits);
  REQUIRE(view);
  CHECK(std::memcmp(view->payload.data(), payload.data(), payload.size()) == 0);

  SUBCASE("and a payload byte changed in a row the fast path had already checksummed is refused") {
    std::vector<std::byte> altered(pixels.begin(), pixels.end());
    altered[kHeaderBytes + 10] ^= std::byte{1};
    auto bad = sx::testing::deflated_png(altered.data(), geometry.width, rows, 0, rows - 1);
    auto r = read_piece(bad, pixels2, kDefaultLimits);
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("payload checksum") != std::string::npos);
  }
}

TEST_CASE("compressed pieces round-trip and are smaller for text") {
  auto geometry = *geometry_for_piece_size(200000, kDefaultLimits);
  std::string text(200000, 'x');
  CompressingPieceWriter writer(6, geometry);
  std::vector<std::byte> png(max_png_bytes(geometry));
  PieceHeader header;
  auto n = writer.write(header, bytes_of(text), png);
  REQUIRE(n);
  CHECK(*n < text.size() / 10);
  png.resize(*n);
  std::vector<std::byte> pixels(pixel_bytes(geometry.width, geometry.height));
  auto view = read_piece(png, pixels, kDefaultLimits);
  REQUIRE(view);
  CHECK(view->payload.size() == text.size());
}

TEST_CASE("hostile pieces are refused with kCorrupt or kLimit") {
  auto geometry = *geometry_for_piece_size(4096, kDefaultLimits);
  auto payload = random_bytes(4096);
  auto e = encode(payload, geometry);
  std::vector<std::byte> pixels(pixel_bytes(geometry.width, geometry.height));

  SUBCASE("truncated") {
    auto png = e.png;
    png.resize(png.size() / 2);
    auto r = read_piece(png, pixels, kDefaultLimits);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::kCorrupt);
  }
  SUBCASE("one flipped payload byte breaks the payload CRC and the chunk CRC") {
    auto png = e.png;
    png[png.size() / 2] ^= std::byte{1};
    auto r = read_piece(png, pixels, kDefaultLimits);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::kCorrupt);
    CHECK(r.error().message.find("payload checksum") != std::string::npos);
    auto d = decode_rgb8(png, pixels, kDefaultLimits);
    REQUIRE_FALSE(d);
    CHECK(d.error().message.find("IDAT chunk CRC") != std::string::npos);
  }
  SUBCASE("a flipped chunk CRC alone: decode_rgb8 refuses, read_piece has checked every byte it uses") {
    auto png = e.png;
    png[png.size() - 12 - 1] ^= std::byte{1};  // the IDAT CRC's last byte, before IEND
    auto d = decode_rgb8(png, pixels, kDefaultLimits);
    REQUIRE_FALSE(d);
    CHECK(d.error().message.find("IDAT chunk CRC") != std::string::npos);
    auto r = read_piece(png, pixels, kDefaultLimits);
    REQUIRE(r);
    CHECK(std::memcmp(r->payload.data(), payload.data(), payload.size()) == 0);
  }
  SUBCASE("a flipped header byte is refused even when the payload is authenticated later") {
    auto png = e.png;
    const std::size_t first_pixel = 8 + 25 + 8 + 2 + 5 + 1;  // signature, IHDR, IDAT head, zlib, block, filter
    png[first_pixel + 9] ^= std::byte{1};                     // the piece index
    auto r = read_piece(png, pixels, kDefaultLimits, PayloadCrc::kAuthenticatedLater);
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("header checksum") != std::string::npos);
  }
  SUBCASE("an unencrypted piece's payload CRC is checked even when the caller says it authenticates") {
    auto png = e.png;
    png[png.size() / 2] ^= std::byte{1};
    auto r = read_piece(png, pixels, kDefaultLimits, PayloadCrc::kAuthenticatedLater);
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("payload checksum") != std::string::npos);
  }
  SUBCASE("not a PNG") {
    auto r = read_piece(bytes_of("<html>hello</html> and some more bytes to pass length"), pixels,
                        kDefaultLimits);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::kCorrupt);
  }
  SUBCASE("an IHDR of 100000x100000 is refused before allocating") {
    auto png = e.png;
    store_be32(png.data() + 16, 100000);
    store_be32(png.data() + 20, 100000);
    store_be32(png.data() + 29, crc32(std::span<const std::byte>(png.data() + 12, 17)));
    auto r = read_piece(png, pixels, kDefaultLimits);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::kLimit);
  }
  SUBCASE("a bad IHDR CRC") {
    auto png = e.png;
    png[20] ^= std::byte{1};
    auto r = read_piece(png, pixels, kDefaultLimits);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::kCorrupt);
  }
  SUBCASE("a plain image without the piece magic") {
    std::vector<unsigned char> rgb(16 * 16 * 3, 200);
    auto png = sx::testing::stb_png(rgb.data(), 16, 16);
    auto r = read_piece(png, pixels, kDefaultLimits);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::kCorrupt);
    CHECK(r.error().message.find("magic") != std::string::npos);
  }
  SUBCASE("a wrong format version") {
    // Rewrite the version byte inside the decoded pixels and re-encode.
    auto decoded = decode_rgb8(e.png, pixels, kDefaultLimits);
    REQUIRE(decoded);
    (*decoded)[4] = std::byte{9};
    auto png = sx::testing::stb_png(decoded->data(), static_cast<int>(geometry.width),
                                    static_cast<int>(geometry.rows_for(4096)));
    auto r = read_piece(png, pixels, kDefaultLimits);
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("version") != std::string::npos);
  }
}

TEST_CASE("storagex v1 pieces read back") {
  // Pixel bytes: u32 length, payload, zero padding (as storagex wrote them).
  const int w = 16, h = 8;
  std::vector<unsigned char> rgb(w * h * 3, 0);
  const std::string_view text = "hello storagex";
  store_le32(reinterpret_cast<std::byte*>(rgb.data()), static_cast<std::uint32_t>(text.size()));
  std::memcpy(rgb.data() + 4, text.data(), text.size());
  auto png = sx::testing::stb_png(rgb.data(), w, h);
  std::vector<std::byte> pixels(w * h * 3);
  auto payload = read_storagex_v1_piece(png, pixels, kDefaultLimits);
  REQUIRE(payload);
  CHECK(std::string_view(reinterpret_cast<const char*>(payload->data()), payload->size()) == text);
}

TEST_CASE("combined checksums agree with zlib's own CRC-32 and inflate (Adler-32)") {
  // The writer fills the header in last and combines block checksums; zlib,
  // an independent implementation, must accept every chunk and the stream.
  for (std::size_t piece : {std::size_t{2000}, std::size_t{300000}}) {
    auto geometry = *geometry_for_piece_size(piece, kDefaultLimits);
    for (std::size_t size : {std::size_t{0}, std::size_t{1}, piece / 3, piece}) {
      CAPTURE(piece);
      CAPTURE(size);
      auto payload = random_bytes(size, static_cast<unsigned>(size + piece));
      auto e = encode(payload, geometry, 42);
      const auto* png = reinterpret_cast<const unsigned char*>(e.png.data());
      std::size_t at = 8;
      std::vector<unsigned char> idat;
      while (at + 12 <= e.png.size()) {
        const std::size_t length = load_be32(e.png.data() + at);
        const uLong crc = ::crc32(0L, png + at + 4, static_cast<uInt>(length + 4));
        CHECK(crc == load_be32(e.png.data() + at + 8 + length));
        if (std::memcmp(png + at + 4, "IDAT", 4) == 0) idat.assign(png + at + 8, png + at + 8 + length);
        at += 12 + length;
      }
      CHECK(at == e.png.size());
      const std::uint32_t rows = geometry.rows_for(size);
      std::vector<unsigned char> raw(std::size_t{rows} * (1 + 3 * geometry.width));
      uLongf raw_length = raw.size();
      REQUIRE(::uncompress(raw.data(), &raw_length, idat.data(), idat.size()) == Z_OK);
      CHECK(raw_length == raw.size());
      CHECK(std::memcmp(raw.data() + 1, "SXPC", 4) == 0);  // widths here exceed 4 bytes a row
    }
  }
}
