// Tests gateway/key_path.cc and gateway/key_listing.cc: the path form of a
// key, what a path names in a manifest, and the listing a client follows.
#include <doctest/doctest.h>

#include "gateway/key_listing.h"
#include "gateway/key_path.h"

using namespace sx::gateway;
using sx::codec::EntryType;
using sx::codec::TreeEntry;

namespace {

sx::codec::Manifest tree_manifest() {
  sx::codec::Manifest m;
  m.name = "set";
  m.size = 30;
  m.tree = {
      TreeEntry{"a", EntryType::kDirectory, 0755, 0, 0, 0, ""},
      TreeEntry{"a/b c&<.txt", EntryType::kFile, 0644, 1'000'000'000, 10, 0, ""},
      TreeEntry{"a/link", EntryType::kSymlink, 0777, 0, 0, 0, "b c&<.txt"},
      TreeEntry{"a/sub", EntryType::kDirectory, 0755, 0, 0, 0, ""},
      TreeEntry{"a/sub/deep.bin", EntryType::kFile, 0644, 0, 20, 10, ""},
  };
  // Byte order: '-' sorts before '/'.
  m.tree.insert(m.tree.begin() + 1, TreeEntry{"a-b", EntryType::kDirectory, 0755, 0, 0, 0, ""});
  return m;
}

}  // namespace

TEST_CASE("the path form: a key in base64url, then a path in it") {
  const std::string key = "http://h/x/m.png#k=abc-_/+%";
  const std::string p = key_path(key);
  CHECK(p.rfind("/k/", 0) == 0);
  CHECK(p.find_first_of("#%+", 3) == std::string::npos);
  auto root = parse_key_path(p);
  REQUIRE(root);
  CHECK(root->key == key);
  CHECK(root->rest.empty());
  CHECK(root->directory);
  auto bare = parse_key_path(p.substr(0, p.size() - 1));  // "/k/KEY": redirected
  REQUIRE(bare);
  CHECK_FALSE(bare->directory);
  auto file = parse_key_path(p + "a/sub/deep.bin");
  REQUIRE(file);
  CHECK(file->rest == "a/sub/deep.bin");
  CHECK_FALSE(file->directory);
  auto dir = parse_key_path(p + "a/sub//");
  REQUIRE(dir);
  CHECK(dir->rest == "a/sub");
  CHECK(dir->directory);
  CHECK(parse_key_path("/k//").error().code == sx::Errc::kInvalidArgument);
  CHECK(parse_key_path("/k/a*b/").error().code == sx::Errc::kInvalidArgument);
  CHECK(parse_key_path("/k/" + std::string(20000, 'A') + "/").error().message.find("too long") != std::string::npos);
  CHECK(redact_key_path(p + "a/x") == "/k/…/a/x");
  CHECK(redact_key_path(p.substr(0, p.size() - 1)) == "/k/…");
  CHECK(redact_key_path("/file/x") == "/file/x");
}

TEST_CASE("find_node: a tree's directories and files; links and strangers find nothing") {
  const auto m = tree_manifest();
  REQUIRE(sx::codec::check_tree_entries(m.tree, m.size));  // as a reader has checked it
  CHECK(find_node(m, "").kind == KeyNode::Kind::kDirectory);
  CHECK(find_node(m, "a/sub").kind == KeyNode::Kind::kDirectory);
  const KeyNode deep = find_node(m, "a/sub/deep.bin");
  CHECK(deep.kind == KeyNode::Kind::kFile);
  CHECK(deep.name == "deep.bin");
  CHECK(deep.offset == 10);
  CHECK(deep.size == 20);
  CHECK(find_node(m, "a/link").kind == KeyNode::Kind::kMissing);
  CHECK(find_node(m, "a/../a").kind == KeyNode::Kind::kMissing);
  CHECK(find_node(m, "a/sub/deep.bin/x").kind == KeyNode::Kind::kMissing);
  CHECK(find_node(m, "b").kind == KeyNode::Kind::kMissing);

  sx::codec::Manifest single;
  single.name = "notes/../x.txt";  // a stored name is sanitized as the headers show it
  single.size = 5;
  CHECK(find_node(single, "notes_.._x.txt").kind == KeyNode::Kind::kFile);
  CHECK(find_node(single, "notes/../x.txt").kind == KeyNode::Kind::kMissing);
}

TEST_CASE("listing_html: the directory's own children, encoded in links and escaped in text") {
  const auto m = tree_manifest();
  const std::string a = listing_html(m, "a");
  CHECK(a.find("<title>Index of /a/</title>") != std::string::npos);
  CHECK(a.find("<a href=\"../\">../</a>") != std::string::npos);
  CHECK(a.find("<a href=\"b%20c%26%3C.txt\">b c&amp;&lt;.txt</a>") != std::string::npos);
  CHECK(a.find("01-Jan-1970 00:00") != std::string::npos);
  CHECK(a.find("<a href=\"sub/\">sub/</a>") != std::string::npos);
  CHECK(a.find("deep.bin") == std::string::npos);  // a grandchild
  CHECK(a.find("link") == std::string::npos);      // links have no bytes to serve
  const std::string root = listing_html(m, "");
  CHECK(root.find("../") == std::string::npos);
  CHECK(root.find("<a href=\"a/\">a/</a>") != std::string::npos);
  CHECK(root.find("<a href=\"a-b/\">a-b/</a>") != std::string::npos);
  CHECK(root.find("sub") == std::string::npos);
  sx::codec::Manifest single;
  single.name = "notes.txt";
  single.size = 5;
  CHECK(listing_html(single, "").find("<a href=\"notes.txt\">notes.txt</a>") != std::string::npos);
}

TEST_CASE("http_date: RFC 9110's IMF-fixdate, whatever the locale") {
  CHECK(http_date(0) == "Thu, 01 Jan 1970 00:00:00 GMT");
  CHECK(http_date(1'796'000'000) == "Mon, 30 Nov 2026 00:53:20 GMT");
}
