// Tests gateway/file_headers.cc, gateway/key_opener.cc's status mapping and
// scrubbing, and gateway/listen_address.cc: what a client or a log sees.
#include <doctest/doctest.h>

#include "gateway/file_headers.h"
#include "gateway/key_opener.h"
#include "gateway/listen_address.h"

using namespace sx::gateway;

TEST_CASE("content_type comes from the extension, case-insensitively") {
  CHECK(content_type("a.MP4") == "video/mp4");
  CHECK(content_type("notes.txt") == "text/plain; charset=utf-8");
  CHECK(content_type("archive.tar.gz") == "application/gzip");
  CHECK(content_type("noext") == "application/octet-stream");
  CHECK(content_type("trailing.") == "application/octet-stream");
  CHECK(content_type(".bashrc") == "application/octet-stream");
}

TEST_CASE("content_disposition cannot be broken out of by the stored name") {
  CHECK(content_disposition("a.bin") == "inline; filename=\"a.bin\"; filename*=UTF-8''a.bin");
  const std::string hostile = content_disposition("x\"; filename=evil.exe\r\nSet-Cookie: a=b/..\\c");
  CHECK(hostile.find('\r') == std::string::npos);
  CHECK(hostile.find('\n') == std::string::npos);
  CHECK(hostile.find("filename=\"x_; filename=evil.exe__Set-Cookie: a=b_.._c\"") != std::string::npos);
  // Non-ASCII: '_' in the quoted form, percent-encoded UTF-8 in filename*.
  CHECK(content_disposition("\xc3\xa9t\xc3\xa9.txt") ==
        "inline; filename=\"__t__.txt\"; filename*=UTF-8''%C3%A9t%C3%A9.txt");
  CHECK(sanitize_name("") == "file");
  CHECK(sanitize_name("..") == "file");
  CHECK(sanitize_name(std::string(500, 'a')).size() == 200);
}

TEST_CASE("etag: the recorded digest, else the manifest URL's") {
  sx::codec::Manifest m;
  m.digest = "sha256";
  m.sha256 = std::string(64, 'a');
  CHECK(etag(m, "http://h/x.png") == "\"sha256-" + std::string(64, 'a') + "\"");
  m.digest = "sha256-tree";
  m.sha256_tree = std::string(64, 'b');
  CHECK(etag(m, "http://h/x.png") == "\"tree-" + std::string(64, 'b') + "\"");
  m.digest = "aead";
  const std::string a = etag(m, "http://h/x.png");
  CHECK(a.rfind("\"m-", 0) == 0);
  CHECK(a != etag(m, "http://h/y.png"));
}

TEST_CASE("scrub_secrets cuts every content key and salt out") {
  CHECK(scrub_secrets("key http://h/m.png#k=SECRETSECRET failed") == "key http://h/m.png#… failed");
  CHECK(scrub_secrets("a%23k%3DSECRET&b=1") == "a#…&b=1");
  CHECK(scrub_secrets("salt #s=abc") == "salt #…");
  CHECK(scrub_secrets("nothing here #x=1") == "nothing here #x=1");
}

TEST_CASE("http_failure maps the engine's errors to statuses") {
  CHECK(http_failure({sx::Errc::kInvalidArgument, "bad"}).status == 400);
  CHECK(http_failure({sx::Errc::kNotFound, "manifest http://h/x.png: 404"}).status == 404);
  CHECK(http_failure({sx::Errc::kDenied, "the file is encrypted and no key was given (…)"}).status == 403);
  CHECK(http_failure({sx::Errc::kDenied, "this key needs a passphrase, which the gateway cannot take"}).status == 403);
  CHECK(http_failure({sx::Errc::kDenied, "refused by this gateway: file:// keys"}).status == 403);
  CHECK(http_failure({sx::Errc::kDenied, "manifest http://h/x.png: HTTP 403 Forbidden"}).status == 502);
  CHECK(http_failure({sx::Errc::kCorrupt, "decryption failed: wrong key, or the piece was altered"}).status == 403);
  CHECK(http_failure({sx::Errc::kCorrupt, "bad CRC"}).status == 502);
  CHECK(http_failure({sx::Errc::kTransient, "connection refused"}).status == 502);
  CHECK(http_failure({sx::Errc::kCancelled, "stopping"}).status == 503);
  CHECK(http_failure({sx::Errc::kNotFound, "x #k=SECRET"}).reason == "x #…");
}

TEST_CASE("parse_listen_address: numeric addresses, loopback told apart") {
  auto v4 = parse_listen_address("127.0.0.1:8340");
  REQUIRE(v4);
  CHECK(v4->loopback);
  CHECK_FALSE(v4->ipv6);
  CHECK(v4->host == "127.0.0.1");
  auto any = parse_listen_address("0.0.0.0:0");
  REQUIRE(any);
  CHECK_FALSE(any->loopback);
  auto v6 = parse_listen_address("[::1]:80");
  REQUIRE(v6);
  CHECK(v6->ipv6);
  CHECK(v6->loopback);
  CHECK(v6->host == "[::1]");
  for (const char* bad : {"", "8340", "localhost:8340", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:-1", "[::1:80",
                          "1.2.3:80", "[zz]:80", "127.0.0.1:80x"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_listen_address(bad));
  }
}
