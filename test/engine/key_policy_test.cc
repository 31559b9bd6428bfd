// Tests engine/keys/key_policy.cc and net/address_class.cc: what a key may make
// sxengine read, sign and change, drawn from its own manifest URLs.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "engine/core/journal_records.h"
#include "engine/keys/key_policy.h"
#include "net/address_class.h"
#include "net/backend_identity.h"

using namespace sx;
using engine::KeyPolicy;

namespace {

const std::string kName = "0123456789abcdef0123456789abcdef.png";

KeyPolicy policy_of(std::vector<std::string> urls, engine::KeyPolicyOptions options = {}) {
  options.s3_endpoint = "http://s3.invalid:9000";
  auto policy = KeyPolicy::for_key(urls, options);
  REQUIRE(policy);
  return *policy;
}

}  // namespace

TEST_CASE("address classes: loopback, private, link-local and metadata addresses are internal") {
  for (const char* host : {"127.0.0.1", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1", "169.254.169.254",
                           "100.64.0.1", "0.0.0.0", "[::1]", "[fe80::1]", "[fd00::1]", "[::ffff:127.0.0.1]",
                           "localhost", "LOCALHOST.", "a.localhost"})
    CHECK_MESSAGE(net::is_internal_literal(host), host);
  for (const char* host : {"8.8.8.8", "172.32.0.1", "198.51.100.7", "[2001:db8::1]", "example.com", "127.1"})
    CHECK_MESSAGE(!net::is_internal_literal(host), host);  // 127.1 is a name: judged when connecting
  CHECK(net::url_host("http://user:pw@127.0.0.1:80/x") == "127.0.0.1");
  CHECK(net::url_host("https://[::1]:8443/x") == "[::1]");
  CHECK(net::url_host("file:///x").empty());
  sockaddr_in v4{};
  v4.sin_family = AF_INET;
  ::inet_pton(AF_INET, "127.0.0.1", &v4.sin_addr);
  CHECK(net::is_internal_address(reinterpret_cast<sockaddr*>(&v4)));
  ::inet_pton(AF_INET, "93.184.216.34", &v4.sin_addr);
  CHECK_FALSE(net::is_internal_address(reinterpret_cast<sockaddr*>(&v4)));
}

TEST_CASE("key policy: an http key names no local file, a file key only its own store") {
  const KeyPolicy http = policy_of({"http://198.51.100.7/p/" + kName});
  CHECK(http.public_only());
  CHECK(http.may_read("http://198.51.100.7/p/" + kName, "piece 0"));
  CHECK(http.may_read("https://cdn.example/q/" + kName, "piece 0"));
  auto local = http.may_read("file:///home/u/.ssh/id_rsa", "piece 1");
  REQUIRE_FALSE(local);
  CHECK(local.error().code == Errc::kDenied);
  CHECK_FALSE(http.may_read("http://127.0.0.1/p/" + kName, "piece 2"));
  CHECK_FALSE(http.may_read("http://169.254.169.254/latest/meta-data", "piece 2"));
  CHECK_FALSE(http.may_read("gopher://x/", "piece 3"));

  const KeyPolicy file = policy_of({"file:///s/store/ab/" + kName});
  CHECK_FALSE(file.public_only());
  CHECK(file.may_read("file:///s/store/cd/" + kName, "piece 0"));
  CHECK_FALSE(file.may_read("file:///s/store/../other/cd/" + kName, "piece 0"));
  CHECK_FALSE(file.may_read("file:///etc/passwd", "piece 0"));
  CHECK(file.may_read("http://127.0.0.1/p/" + kName, "piece 0"));  // a local key is on this machine already

  engine::KeyPolicyOptions lan;
  lan.allow_internal = true;
  CHECK(policy_of({"http://198.51.100.7/p/" + kName}, lan).may_read("http://10.0.0.2/p/" + kName, "piece"));
  engine::KeyPolicyOptions gateway;
  gateway.never_internal = true;
  CHECK(policy_of({"http://127.0.0.1/p/" + kName}, gateway).public_only());
  gateway.allow_file = false;
  CHECK_FALSE(KeyPolicy::for_key({"file:///s/store/ab/" + kName}, gateway));
}

TEST_CASE("key policy: rm and repair change only sxengine objects where the key's manifests live") {
  const KeyPolicy policy = policy_of({"http://h/a/" + kName, "http://g/b/" + kName, "file:///s/store/ab/" + kName});
  CHECK(policy.may_change("http://h/a/fedcba9876543210fedcba9876543210.png"));
  CHECK(policy.may_change("http://g/b/fedcba9876543210fedcba9876543210.png"));
  CHECK(policy.may_change("file:///s/store/cd/fedcba9876543210fedcba9876543210.png"));
  CHECK_FALSE(policy.may_change("http://h/other/" + kName));          // another prefix
  CHECK_FALSE(policy.may_change("http://h/a/sub/" + kName));          // below the place
  CHECK_FALSE(policy.may_change("http://h/a/../x/" + kName));         // dot segments
  CHECK_FALSE(policy.may_change("http://h/a/notes.txt"));             // not an object's name
  CHECK_FALSE(policy.may_change("http://h/a/0123456789ABCDEF0123456789ABCDEF.png"));
  CHECK_FALSE(policy.may_change("file:///home/u/" + kName));
  CHECK_FALSE(policy.may_change("file:///s/store/../../home/u/" + kName));
  CHECK(engine::is_sxengine_object_name(kName));
  CHECK_FALSE(engine::is_sxengine_object_name("x" + kName));
}

TEST_CASE("key policy: credentials only for keys whose manifest is on the endpoint") {
  CHECK(policy_of({"http://s3.invalid:9000/bucket/p/" + kName}).may_sign());
  CHECK_FALSE(policy_of({"http://elsewhere/p/" + kName}).may_sign());
  CHECK_FALSE(policy_of({"file:///s/store/ab/" + kName}).may_sign());
}

TEST_CASE("backend identity: one place however it is written") {
  CHECK(net::backend_identity("dir:/tmp/x", "") == net::backend_identity("file:///tmp/x", ""));
  CHECK(net::backend_identity("dir:/tmp/x/", "") == net::backend_identity("dir:/tmp/./x", ""));
  CHECK(net::backend_identity("http://H:80/p/", "") == net::backend_identity("http://h/p", ""));
  CHECK(net::backend_identity("https://h/p/", "") != net::backend_identity("http://h/p/", ""));
  CHECK(net::backend_identity("http://h/p/", "") != net::backend_identity("http://h/q/", ""));
  CHECK(net::backend_host("http://h/p/", "") == net::backend_host("http://h:80/q/", ""));
}

TEST_CASE("journal records: sealed lines, torn lines, and the two record kinds") {
  const std::string text = engine::sealed_line("header x") + engine::sealed_line("3 00112233445566778899aabbccddeeff");
  auto lines = engine::intact_lines(text + "4 0011 torn");
  REQUIRE(lines.size() == 2);
  auto pull = engine::parse_pull_record(lines[1]);
  REQUIRE(pull);
  CHECK(pull->first == 3);
  CHECK_FALSE(engine::parse_pull_record("3"));
  CHECK_FALSE(engine::parse_pull_record("3 xyz"));
  std::string damaged = text;
  damaged[2] ^= 1;
  CHECK(engine::intact_lines(damaged).empty());
  engine::ResumedPiece piece;
  piece.entry = {7, "http://h/p/" + kName, 0, 1000, 0xdeadbeef};
  piece.digest = "00112233445566778899aabbccddeeff";
  auto push = engine::parse_push_record(engine::format_push_record(piece));
  REQUIRE(push);
  CHECK(push->entry.index == 7);
  CHECK(push->entry.crc32 == 0xdeadbeef);
  CHECK(push->entry.key == piece.entry.key);
  CHECK_FALSE(engine::parse_push_record("7 1000 deadbeef http://h/p/x.png"));  // a journal 1 record: no digest
}
