// Tests codec/storagex_v1_writer.cc: images the v1 reader and stb_image (an
// independent decoder) read back, and the meta JSON as Python's json.dumps writes it.
#include "codec/storagex_v1_writer.h"

#include <doctest/doctest.h>
#include <stb_image.h>

#include <cstring>
#include <random>
#include <vector>

#include "codec/byte_order.h"
#include "codec/piece_reader.h"
#include "codec/png_decoder.h"

using namespace sx;
using namespace sx::codec;

TEST_CASE("storagex v1 capacity is width * height * 3 - 4, as the seed documents") {
  CHECK(storagex_v1_capacity(1024, 768) == 2359292);
  CHECK(storagex_v1_capacity(600, 600) == 1079996);
  CHECK(storagex_v1_capacity(1, 1) == 0);  // 3 bytes cannot hold the 4-byte length
}

TEST_CASE("a storagex v1 image is full size and holds length, payload and zeros") {
  std::mt19937 rng(7);
  std::vector<std::byte> payload(5000);
  for (auto& b : payload) b = std::byte(rng() & 0xff);
  StoragexV1ImageWriter writer(64, 40);
  std::vector<std::byte> png(writer.max_png_bytes());
  auto n = writer.write(payload, png);
  REQUIRE(n);
  png.resize(*n);

  int w = 0, h = 0, channels = 0;
  unsigned char* pixels = stbi_load_from_memory(reinterpret_cast<const unsigned char*>(png.data()),
                                                static_cast<int>(png.size()), &w, &h, &channels, 0);
  REQUIRE(pixels != nullptr);
  CHECK(w == 64);
  CHECK(h == 40);
  CHECK(channels == 3);
  CHECK(load_le32(reinterpret_cast<const std::byte*>(pixels)) == 5000);
  CHECK(std::memcmp(pixels + 4, payload.data(), payload.size()) == 0);
  bool zeros = true;
  for (std::size_t i = 4 + payload.size(); i < std::size_t{64} * 40 * 3; ++i) zeros = zeros && pixels[i] == 0;
  CHECK(zeros);
  stbi_image_free(pixels);

  std::vector<std::byte> decoded(std::size_t{64} * 40 * 3);
  auto read = read_storagex_v1_piece(png, decoded, kDefaultLimits);
  REQUIRE(read);
  CHECK(read->size() == payload.size());
  CHECK(std::memcmp(read->data(), payload.data(), payload.size()) == 0);
}

TEST_CASE("a storagex v1 image refuses a payload past its capacity") {
  StoragexV1ImageWriter writer(10, 10);
  std::vector<std::byte> png(writer.max_png_bytes());
  std::vector<std::byte> payload(storagex_v1_capacity(10, 10) + 1);
  auto n = writer.write(payload, png);
  REQUIRE_FALSE(n);
  CHECK(n.error().code == Errc::kInvalidArgument);
  payload.pop_back();
  CHECK(writer.write(payload, png));  // exactly full fits
}

TEST_CASE("storagex v1 meta JSON is json.dumps's, key order and escapes included") {
  StoragexMeta empty;
  empty.filename = "sz000001";
  // The seed's transcript, character for character.
  CHECK(to_storagex_v1_json(empty) ==
        R"({"piece_width": 1024, "protocol_version": 1.0, "pieces": [], "piece_height": 768, "filename": "sz000001"})");

  StoragexMeta meta;
  meta.filename = "na\xc3\xafve \"q\"\t\xe6\x96\x87 \xf0\x9f\x98\x80\x01";  // naïve "q"<TAB>文 😀 \x01
  meta.piece_width = 600;
  meta.piece_height = 600;
  meta.pieces = {{0, "file:///s/a.png", 0, 1079996}, {1, "file:///s/b.png", 1079996, 5}};
  // What Python 3 prints for json.dumps of the same dict.
  CHECK(to_storagex_v1_json(meta) ==
        R"({"piece_width": 600, "protocol_version": 1.0, "pieces": [{"seq": 0, "key": "file:///s/a.png", "offset": 0, )"
        R"("size": 1079996, "checksum": ""}, {"seq": 1, "key": "file:///s/b.png", "offset": 1079996, "size": 5, )"
        R"("checksum": ""}], "piece_height": 600, "filename": "na\u00efve \"q\"\t\u6587 \ud83d\ude00\u0001"})");
  StoragexMeta broken;
  broken.filename = "a\xff" "b";  // not UTF-8: U+FFFD, as JSON cannot carry the byte
  CHECK(to_storagex_v1_json(broken).find(R"("filename": "a\ufffdb")") != std::string::npos);
}
