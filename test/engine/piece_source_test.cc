// Tests engine/piece_source.h, the random-access face the gateway serves
// from: a key opened once, any piece fetched alone into the caller's buffer,
// a fetch cancelled alone (before it starts too), stop() ending what comes after.
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <vector>

#include "engine/core/download_key.h"  // to make a passphrase key
#include "engine/piece_source.h"
#include "sx/storage.h"

using namespace sx;
namespace fs = std::filesystem;

namespace {

struct PushedFile {
  fs::path dir = fs::temp_directory_path() / ("sxengine-source-" + std::to_string(::getpid()));
  std::vector<char> bytes;
  std::string key;
  Options options;

  PushedFile() {
    fs::create_directories(dir);
    std::minstd_rand rng(11);
    bytes.resize(3 * 4096 + 100);
    for (char& c : bytes) c = static_cast<char>(rng());
    std::ofstream(dir / "in.bin", std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    options.backend = "dir:" + (dir / "store").string();
    options.piece_bytes = 4096;
    auto pushed = Storage(options).upload((dir / "in.bin").string());
    REQUIRE(pushed);
    key = *pushed;
  }
  ~PushedFile() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

}  // namespace

TEST_CASE("a piece source opens a key once and fetches any piece alone, deciphered") {
  PushedFile pushed;
  auto source = engine::PieceSource::create(pushed.options, {});
  REQUIRE(source);
  auto ref = engine::PieceSource::parse_key(pushed.key);
  REQUIRE(ref);
  CHECK(ref->id().size() == 64);
  auto opened = (*source)->open(*ref);
  REQUIRE(opened);
  const codec::Manifest& manifest = (*opened)->manifest();
  REQUIRE(manifest.pieces.size() == 4);
  // The last piece first: no order is assumed.
  for (std::uint64_t index : {3u, 0u, 2u, 1u}) {
    const codec::PieceEntry& piece = manifest.pieces[index];
    std::vector<std::byte> into(piece.size);
    REQUIRE((*source)->fetch((*source)->new_fetch(), **opened, index, into));
    CHECK(std::equal(into.begin(), into.end(), reinterpret_cast<const std::byte*>(pushed.bytes.data() + piece.offset)));
  }
  SUBCASE("a buffer of another size is refused, not overrun") {
    std::vector<std::byte> small(100);
    auto status = (*source)->fetch((*source)->new_fetch(), **opened, 0, small);
    REQUIRE_FALSE(status);
    CHECK(status.error().code == Errc::kCorrupt);
  }
  SUBCASE("a fetch cancelled before it starts fails, and only it") {
    engine::PieceFetch cancelled = (*source)->new_fetch();
    cancelled.cancel();
    std::vector<std::byte> into(manifest.pieces[0].size);
    auto status = (*source)->fetch(cancelled, **opened, 0, into);
    REQUIRE_FALSE(status);
    CHECK(status.error().code == Errc::kCancelled);
    CHECK((*source)->fetch((*source)->new_fetch(), **opened, 0, into));
  }
  SUBCASE("after stop() every open and fetch fails as cancelled") {
    (*source)->stop();
    std::vector<std::byte> into(manifest.pieces[0].size);
    auto status = (*source)->fetch((*source)->new_fetch(), **opened, 0, into);
    REQUIRE_FALSE(status);
    CHECK(status.error().code == Errc::kCancelled);
    auto again = (*source)->open(*ref);
    REQUIRE_FALSE(again);
    CHECK(again.error().code == Errc::kCancelled);
  }
}

TEST_CASE("a piece source holds keys to its reach: no file:// key when told so, no passphrase key") {
  PushedFile pushed;
  engine::PieceSource::Reach reach;
  reach.file_keys = false;
  auto source = engine::PieceSource::create(pushed.options, reach);
  REQUIRE(source);
  auto ref = engine::PieceSource::parse_key(pushed.key);
  REQUIRE(ref);
  auto opened = (*source)->open(*ref);
  REQUIRE_FALSE(opened);
  CHECK(opened.error().code == Errc::kDenied);

  CHECK_FALSE(engine::PieceSource::parse_key("http://h/a.png#k=short"));
  engine::DownloadKey with_salt;
  with_salt.url = "http://h/a.png";
  with_salt.salt = codec::random_salt();
  auto passphrase = engine::PieceSource::parse_key(engine::format_download_key(with_salt));
  REQUIRE_FALSE(passphrase);
  CHECK(passphrase.error().code == Errc::kDenied);
}
