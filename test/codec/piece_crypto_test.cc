// Tests codec/piece_crypto.cc and codec/compression.cc.
#include <doctest/doctest.h>

#include <cstring>
#include <string>
#include <vector>

#include "codec/compression.h"
#include "codec/piece_crypto.h"

using namespace sx;
using namespace sx::codec;

namespace {
std::span<const std::byte> bytes_of(const std::string& s) {
  return std::as_bytes(std::span<const char>(s.data(), s.size()));
}
}  // namespace

TEST_CASE("an empty payload seals to a bare tag that still authenticates") {
  PieceCipher cipher(random_key());
  std::vector<std::byte> out(kTagBytes);
  auto n = cipher.seal({0, 0}, {}, out);
  REQUIRE(n);
  CHECK(*n == kTagBytes);
  std::vector<std::byte> plain;
  CHECK(cipher.open({0, 0}, out, plain));
  CHECK_FALSE(cipher.open({0, 1}, out, plain));
}

TEST_CASE("sealed pieces open only at their own place and with their own key") {
  const std::string text = "the quick brown fox jumps over the lazy dog";
  const ContentKey key = random_key();
  PieceCipher cipher(key);
  std::vector<std::byte> sealed(text.size() + kTagBytes);
  REQUIRE(cipher.seal({0, 5}, bytes_of(text), sealed));
  CHECK(std::memcmp(sealed.data(), text.data(), text.size()) != 0);

  std::vector<std::byte> plain(text.size());
  auto opened = cipher.open({0, 5}, sealed, plain);
  REQUIRE(opened);
  CHECK(std::string(reinterpret_cast<char*>(plain.data()), *opened) == text);

  auto moved = cipher.open({0, 6}, sealed, plain);  // reordered
  REQUIRE_FALSE(moved);
  CHECK(moved.error().code == Errc::kCorrupt);
  CHECK_FALSE(cipher.open({1, 5}, sealed, plain));  // a data piece posing as a manifest piece
  PieceCipher other(random_key());
  CHECK_FALSE(other.open({0, 5}, sealed, plain));  // another file's key
  sealed[3] ^= std::byte{1};
  CHECK_FALSE(cipher.open({0, 5}, sealed, plain));  // one flipped bit
}

TEST_CASE("sealing in place works") {
  std::string text(1000, 'q');
  std::vector<std::byte> buffer(text.size() + kTagBytes);
  std::memcpy(buffer.data(), text.data(), text.size());
  PieceCipher cipher(random_key());
  REQUIRE(cipher.seal({0, 1}, std::span<const std::byte>(buffer).first(text.size()), buffer));
  auto n = cipher.open({0, 1}, buffer, buffer);
  REQUIRE(n);
  CHECK(std::memcmp(buffer.data(), text.data(), text.size()) == 0);
}

TEST_CASE("base64url round-trips and rejects garbage") {
  const ContentKey key = random_key();
  const std::string text = base64url(key);
  CHECK(text.size() == 43);
  CHECK(text.find_first_of("+/=") == std::string::npos);
  auto back = from_base64url(text);
  REQUIRE(back);
  CHECK(std::equal(back->begin(), back->end(), key.begin()));
  CHECK_FALSE(from_base64url("not base64 !!"));
}

TEST_CASE("the same passphrase and salt give the same key; another salt another key") {
  const Salt salt = random_salt();
  auto a = derive_key("correct horse battery staple", salt);
  auto b = derive_key("correct horse battery staple", salt);
  REQUIRE(a);
  REQUIRE(b);
  CHECK(*a == *b);
  auto c = derive_key("correct horse battery staple", random_salt());
  REQUIRE(c);
  CHECK(*a != *c);
}

TEST_CASE("zstd compresses text, refuses to grow random data, and bounds decompression") {
  Compressor compressor;
  const std::string text(100000, 'a');
  std::vector<std::byte> packed(Compressor::bound(text.size()));
  const std::size_t n = compressor.compress(bytes_of(text), packed);
  REQUIRE(n > 0);
  CHECK(n < 1000);
  CHECK(worth_compressing(bytes_of(text)));
  std::vector<std::byte> out(text.size());
  auto size = Compressor::frame_size(std::span(packed).first(n), text.size());
  REQUIRE(size);
  CHECK(*size == text.size());
  CHECK(compressor.decompress(std::span(packed).first(n), out, text.size()));
  // A frame that claims more than the limit is refused before decompressing.
  CHECK_FALSE(Compressor::frame_size(std::span(packed).first(n), 1000));
  CHECK_FALSE(compressor.decompress(std::span(packed).first(n), out, text.size() - 1));

  std::string noise(4096, '\0');
  unsigned x = 1;
  for (char& c : noise) c = static_cast<char>((x = x * 1103515245 + 12345) >> 16);
  CHECK(compressor.compress(bytes_of(noise), packed) == 0);
  CHECK_FALSE(worth_compressing(bytes_of(noise)));
}
