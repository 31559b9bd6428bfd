// Tests engine/core/download_key.cc.
#include <doctest/doctest.h>

#include "engine/core/download_key.h"

using namespace sx;
using namespace sx::engine;

TEST_CASE("keys split into the URL and the fragment that never leaves") {
  DownloadKey key;
  key.url = "http://h/p/abc.png";
  key.key = codec::random_key();
  const std::string text = format_download_key(key);
  CHECK(text.rfind("http://h/p/abc.png#k=", 0) == 0);
  auto parsed = parse_download_key(text);
  REQUIRE(parsed);
  CHECK(parsed->url == key.url);
  CHECK(parsed->key == key.key);
  auto plain = parse_download_key("file:///x/y.png");
  REQUIRE(plain);
  CHECK_FALSE(plain->key);
  CHECK_FALSE(plain->salt);
  CHECK_FALSE(parse_download_key("http://h/a.png#k=short"));
  CHECK_FALSE(parse_download_key("http://h/a.png#z=whatever"));
}

TEST_CASE("a salt key needs the passphrase") {
  DownloadKey key;
  key.url = "http://h/a.png";
  key.salt = codec::random_salt();
  auto missing = resolve_content_key(key, "");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code == Errc::kDenied);
  auto derived = resolve_content_key(key, "pw");
  REQUIRE(derived);
  CHECK(derived->has_value());
}

TEST_CASE("alternate manifest copies ride in the fragment, percent-encoded, one line") {
  for (const bool encrypted : {true, false}) {
    DownloadKey key;
    key.url = "http://h1/p/a.png";
    if (encrypted) key.key = codec::random_key();
    key.alternates = {"http://h2/p/b.png?x=1&y=2", "file:///tmp/a b/%/c#d.png", "https://h3/\xc3\xa9.png"};
    const std::string text = format_download_key(key);
    CAPTURE(text);
    CHECK(text.find_first_of(" \n\t") == std::string::npos);
    CHECK(text.find('#') == text.rfind('#'));  // one fragment
    auto parsed = parse_download_key(text);
    REQUIRE(parsed);
    CHECK(parsed->url == key.url);
    CHECK(parsed->key == key.key);
    CHECK(parsed->alternates == key.alternates);
  }
  CHECK_FALSE(parse_download_key("http://h/a.png#m=%zz"));
  CHECK_FALSE(parse_download_key("http://h/a.png#m="));
  CHECK_FALSE(parse_download_key("http://h/a.png#m=http://x/%4"));
  std::string many = "http://h/a.png#m=http://x/0.png";
  for (int i = 1; i <= 16; ++i) many += "&m=http://x/" + std::to_string(i) + ".png";
  CHECK_FALSE(parse_download_key(many));  // 17 copies: more than any push makes
}
