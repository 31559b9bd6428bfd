// The streaming piece reader against read_piece: same payloads, same
// refusals, whatever the split of the bytes.
#include <doctest/doctest.h>

#include <cstring>
#include <random>
#include <vector>

#include "codec/piece_crypto.h"
#include "codec/piece_stream.h"
#include "codec/piece_writer.h"
#include "test/deflated_png.h"

using namespace sx;
using namespace sx::codec;

namespace {

std::vector<std::byte> random_bytes(std::size_t n, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::byte> out(n);
  for (auto& b : out) b = std::byte(rng() & 0xff);
  return out;
}

struct Piece {
  std::vector<std::byte> png;
  Geometry geometry;
};

Piece make_piece(std::span<const std::byte> stored, std::uint64_t index, std::uint8_t flags) {
  auto geometry = *geometry_for_piece_size(300000, kDefaultLimits);
  Piece p{std::vector<std::byte>(max_png_bytes(geometry)), geometry};
  PieceHeader header;
  header.piece_index = index;
  header.flags = flags;
  auto n = write_piece(header, stored, geometry, p.png);
  REQUIRE(n);
  p.png.resize(*n);
  return p;
}

PieceStream::Expect expect_for(const Piece& p, std::uint64_t index) {
  return {index, p.geometry.width, p.geometry.height, PiecePlace{0, index}};
}

// Feeds `png` in chunks of 1..max_chunk bytes (seeded); returns the first error.
Status feed(PieceStream& stream, std::span<const std::byte> png, std::size_t max_chunk, unsigned seed) {
  std::mt19937 rng(seed);
  for (std::size_t at = 0; at < png.size();) {
    const std::size_t n = std::min<std::size_t>(png.size() - at, 1 + rng() % max_chunk);
    auto took = stream.write(png.subspan(at, n));
    if (!took) return std::move(took).error();
    REQUIRE(*took == PieceStream::Take::kTaken);
    at += n;
  }
  return {};
}

}  // namespace

TEST_CASE("a plain piece streams to the same payload as read_piece, in any split") {
  auto payload = random_bytes(300000, 1);
  auto piece = make_piece(payload, 5, 0);
  std::vector<std::byte> out(payload.size());
  PieceStream stream;
  for (std::size_t max_chunk : {std::size_t{1}, std::size_t{7}, std::size_t{4096}, std::size_t{1} << 20}) {
    stream.begin(expect_for(piece, 5), out, nullptr);
    REQUIRE(feed(stream, piece.png, max_chunk, static_cast<unsigned>(max_chunk)));
    CHECK(stream.streaming());
    auto view = stream.finish();
    REQUIRE(view);
    CHECK(view->header.piece_index == 5);
    REQUIRE(view->payload.size() == payload.size());
    CHECK(std::memcmp(view->payload.data(), payload.data(), payload.size()) == 0);
  }
}

TEST_CASE("an encrypted piece is deciphered as it streams, and its tag decides") {
  ContentKey key{};
  key[0] = 42;
  PieceCipher cipher(key);
  auto plain = random_bytes(200000, 2);
  std::vector<std::byte> sealed(plain.size() + kTagBytes);
  REQUIRE(cipher.seal(PiecePlace{0, 9}, plain, sealed));
  auto piece = make_piece(sealed, 9, kFlagEncrypted);
  std::vector<std::byte> out(sealed.size());
  PieceStream stream;

  stream.begin(expect_for(piece, 9), out, &cipher);
  REQUIRE(feed(stream, piece.png, 3000, 1));
  auto view = stream.finish();
  REQUIRE(view);
  CHECK(stream.deciphered());
  REQUIRE(view->payload.size() == plain.size());
  CHECK(std::memcmp(view->payload.data(), plain.data(), plain.size()) == 0);

  SUBCASE("without the key the stored bytes come out, CRC-checked") {
    stream.begin(expect_for(piece, 9), out, nullptr);
    REQUIRE(feed(stream, piece.png, 3000, 2));
    auto stored = stream.finish();
    REQUIRE(stored);
    CHECK_FALSE(stream.deciphered());
    CHECK(std::memcmp(stored->payload.data(), sealed.data(), sealed.size()) == 0);
  }
  SUBCASE("a flipped ciphertext byte fails the tag") {
    auto png = piece.png;
    png[png.size() / 2] ^= std::byte{4};
    stream.begin(expect_for(piece, 9), out, &cipher);
    REQUIRE(feed(stream, png, 3000, 3));
    auto r = stream.finish();
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::kCorrupt);
    CHECK(r.error().message.find("decryption failed") != std::string::npos);
  }
  SUBCASE("the same piece under another index's nonce fails the tag") {
    auto moved = make_piece(sealed, 10, kFlagEncrypted);
    stream.begin(expect_for(moved, 10), out, &cipher);
    REQUIRE(feed(stream, moved.png, 3000, 4));
    CHECK_FALSE(stream.finish());
  }
}

TEST_CASE("damaged or foreign images are refused or declined") {
  auto payload = random_bytes(300000, 3);
  auto piece = make_piece(payload, 1, 0);
  std::vector<std::byte> out(payload.size());
  PieceStream stream;
  stream.begin(expect_for(piece, 1), out, nullptr);

  SUBCASE("a flipped payload byte fails the payload CRC") {
    auto png = piece.png;
    png[png.size() / 2] ^= std::byte{1};
    REQUIRE(feed(stream, png, 5000, 1));
    auto r = stream.finish();
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("payload checksum") != std::string::npos);
  }
  SUBCASE("a flipped header byte fails the header CRC") {
    auto png = piece.png;
    png[PieceStream::kDecideBytes + 1 + 10] ^= std::byte{1};  // after the first filter byte
    auto r = feed(stream, png, 5000, 1);
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("header checksum") != std::string::npos);
  }
  SUBCASE("another piece's image") {
    stream.begin(expect_for(piece, 2), out, nullptr);
    auto r = feed(stream, piece.png, 5000, 1);
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("different piece") != std::string::npos);
  }
  SUBCASE("a non-zero filter byte") {
    auto png = piece.png;
    png[PieceStream::kDecideBytes] = std::byte{1};  // the first row's filter byte
    auto r = feed(stream, png, 5000, 1);
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("filter") != std::string::npos);
  }
  SUBCASE("a truncated image ends early") {
    std::span<const std::byte> half(piece.png.data(), piece.png.size() / 2);
    REQUIRE(feed(stream, half, 5000, 1));
    auto r = stream.finish();
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("ended early") != std::string::npos);
  }
  SUBCASE("bytes after IEND") {
    auto png = piece.png;
    png.push_back(std::byte{0});
    CHECK_FALSE(feed(stream, png, 5000, 1));
  }
  SUBCASE("an image re-encoded with real deflate is declined within its first bytes") {
    std::vector<std::byte> pixels(pixel_bytes(piece.geometry.width, piece.geometry.height));
    auto view = read_piece(piece.png, pixels, kDefaultLimits);
    REQUIRE(view);
    auto png = sx::testing::deflated_png(pixels.data(), piece.geometry.width,
                                         piece.geometry.rows_for(payload.size()), 6);
    auto first = stream.write(std::span<const std::byte>(png).first(10));
    REQUIRE(first);
    CHECK(*first == PieceStream::Take::kTaken);
    auto second = stream.write(std::span<const std::byte>(png).subspan(10));
    REQUIRE(second);
    CHECK(*second == PieceStream::Take::kDeclined);
    CHECK_FALSE(stream.streaming());
    REQUIRE(stream.held().size() == 10);
    CHECK(std::memcmp(stream.held().data(), png.data(), 10) == 0);
  }
  SUBCASE("stored blocks with a filter on a later row are refused mid-stream (the caller refetches whole)") {
    std::vector<std::byte> pixels(pixel_bytes(piece.geometry.width, piece.geometry.height));
    REQUIRE(read_piece(piece.png, pixels, kDefaultLimits));
    auto png = sx::testing::deflated_png(pixels.data(), piece.geometry.width,
                                         piece.geometry.rows_for(payload.size()), 0, /*up_filter_row=*/3);
    auto r = feed(stream, png, 5000, 1);
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("filter") != std::string::npos);
  }
  SUBCASE("an image of another width is declined") {
    stream.begin({1, piece.geometry.width + 1, piece.geometry.height, PiecePlace{0, 1}}, out, nullptr);
    auto r = stream.write(piece.png);
    REQUIRE(r);
    CHECK(*r == PieceStream::Take::kDeclined);
  }
}
