// Tests codec/manifest.cc.
#include <doctest/doctest.h>

#include "codec/manifest.h"

using namespace sx;
using namespace sx::codec;

namespace {
Manifest sample() {
  Manifest m;
  m.name = "a \"quoted\" name\twith ünïcode.bin";
  m.size = 25;
  m.sha256 = std::string(64, 'a');
  m.piece_size = 10;
  m.width = 4;
  m.height = 4;
  for (std::uint64_t i = 0; i < 3; ++i)
    m.pieces.push_back({i, "file:///store/" + std::to_string(i) + ".png", i * 10,
                        i == 2 ? 5u : 10u, 0xdeadbeef});
  return m;
}
}  // namespace

TEST_CASE("manifest JSON round-trips") {
  const std::string json = to_json(sample());
  CHECK(*document_kind(json) == DocumentKind::kManifest);
  auto m = parse_manifest(json, ManifestLimits{});
  REQUIRE(m);
  CHECK(m->name == sample().name);
  CHECK(m->size == 25);
  REQUIRE(m->pieces.size() == 3);
  CHECK(m->pieces[2].key == "file:///store/2.png");
  CHECK(m->pieces[1].crc32 == 0xdeadbeef);
}

TEST_CASE("manifests whose pieces do not add up are refused") {
  auto check_refused = [](Manifest m, const char* what) {
    CAPTURE(what);
    auto r = parse_manifest(to_json(m), ManifestLimits{});
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::kCorrupt);
  };
  auto m = sample();
  m.pieces[1].index = 0;
  check_refused(m, "duplicate index");
  m = sample();
  m.pieces[1].offset = 5;
  check_refused(m, "overlapping offset");
  m = sample();
  m.size = 1000;
  check_refused(m, "sizes do not add up");
  m = sample();
  m.pieces[0].size = 11;
  check_refused(m, "piece larger than the piece size");
  m = sample();
  m.sha256 = "zz";
  check_refused(m, "bad sha256");
}

TEST_CASE("garbage and absurd manifests are refused") {
  CHECK_FALSE(parse_manifest("not json", ManifestLimits{}));
  CHECK_FALSE(parse_manifest("[]", ManifestLimits{}));
  CHECK_FALSE(document_kind("{\"format\":\"other\"}"));
  ManifestLimits tight;
  tight.max_pieces = 2;
  auto r = parse_manifest(to_json(sample()), tight);
  REQUIRE_FALSE(r);
  CHECK(r.error().message.find("too many pieces") != std::string::npos);
}

TEST_CASE("storagex v1 meta info parses") {
  const std::string json =
      R"({"piece_width": 4, "protocol_version": 1.0, "pieces": [{"seq": 0, "key": "http://h/0.png", "offset": 0, "size": 44, "checksum": ""}, {"seq": 1, "key": "http://h/1.png", "offset": 44, "size": 3, "checksum": ""}], "piece_height": 4, "filename": "x.txt"})";
  CHECK(*document_kind(json) == DocumentKind::kStoragexV1);
  auto m = parse_storagex_v1(json, ManifestLimits{});
  REQUIRE(m);
  CHECK(m->version == 1);
  CHECK(m->size == 47);
  CHECK(m->piece_size == 44);
  CHECK(m->name == "x.txt");
  // An empty file: no pieces.
  auto empty = parse_storagex_v1(
      R"({"piece_width": 1024, "protocol_version": 1.0, "pieces": [], "piece_height": 768, "filename": "sz000001"})",
      ManifestLimits{});
  REQUIRE(empty);
  CHECK(empty->size == 0);
}

TEST_CASE("manifest index round-trips and checks its sums") {
  ManifestIndex index{30, {{"k1", 10, 1}, {"k2", 20, 2}}};
  auto json = to_json(index);
  CHECK(*document_kind(json) == DocumentKind::kIndex);
  auto r = parse_index(json, ManifestLimits{});
  REQUIRE(r);
  CHECK(r->slices[1].key == "k2");
  index.total_bytes = 31;
  CHECK_FALSE(parse_index(to_json(index), ManifestLimits{}));
}

TEST_CASE("striped manifests: stripe and parity pieces round-trip and are validated") {
  Manifest m = sample();  // 3 pieces of 10, 10, 5
  m.stripe_data = 2;
  m.stripe_parity = 1;
  m.parity_pieces = {{0, "file:///store/p0.png", 0, 10, 0x01020304}, {1, "file:///store/p1.png", 0, 5, 0xa0b0c0d0}};
  auto parsed = parse_manifest(to_json(m), ManifestLimits{});
  REQUIRE(parsed);
  CHECK(parsed->stripe_data == 2);
  CHECK(parsed->stripe_parity == 1);
  REQUIRE(parsed->parity_pieces.size() == 2);
  CHECK(parsed->parity_pieces[1].crc32 == 0xa0b0c0d0);
  CHECK(parsed->stripes() == 2);
  // A manifest without the fields (every one before them) reads as one backend.
  auto plain = parse_manifest(to_json(sample()), ManifestLimits{});
  REQUIRE(plain);
  CHECK(plain->stripe_data == 0);
  auto refused = [](Manifest bad, const char* what) {
    CAPTURE(what);
    auto r = parse_manifest(to_json(bad), ManifestLimits{});
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::kCorrupt);
  };
  Manifest b = m;
  b.parity_pieces.pop_back();
  refused(b, "a stripe without its parity piece");
  b = m;
  b.parity_pieces[1].size = 10;
  refused(b, "parity longer than its stripe's longest piece");
  b = m;
  b.parity_pieces[1].index = 0;
  refused(b, "parity index twice");
  b = m;
  b.stripe_data = 16;
  refused(b, "more than 16 backends");
  b = m;
  b.stripe_data = 1;
  b.stripe_parity = 0;
  refused(b, "one backend is no stripe");
  std::string json = to_json(m);
  json.replace(json.find(R"("stripe":{"data":2)"), 18, R"("stripe":{"data":-2)");
  CHECK_FALSE(parse_manifest(json, ManifestLimits{}));
}

namespace {
// sample()'s 25 bytes as a tree: top/, top/a (20 bytes), top/b (5), top/l -> a.
Manifest tree_sample() {
  Manifest m = sample();
  m.tree = {{"top", EntryType::kDirectory, 0755, 1'700'000'000'123'456'789, 0, 0, {}},
            {"top/a", EntryType::kFile, 0644, 2, 20, 0, {}},
            {"top/b\xff", EntryType::kFile, 0600, 3, 5, 20, {}},
            {"top/l", EntryType::kSymlink, 0777, 4, 0, 0, "a\xfe"}};
  return m;
}
}  // namespace

TEST_CASE("a tree manifest round-trips, non-UTF-8 paths and targets byte for byte") {
  auto m = parse_manifest(to_json(tree_sample()), ManifestLimits{});
  REQUIRE(m);
  REQUIRE(m->is_tree());
  REQUIRE(m->tree.size() == 4);
  CHECK(m->tree[0].mtime_ns == 1'700'000'000'123'456'789);
  CHECK(m->tree[2].path == "top/b\xff");
  CHECK(m->tree[2].offset == 20);
  CHECK(m->tree[3].type == EntryType::kSymlink);
  CHECK(m->tree[3].target == "a\xfe");
  CHECK_FALSE(parse_manifest(to_json(sample()), ManifestLimits{})->is_tree());
}

TEST_CASE("tree paths that could leave the pull's directory are refused") {
  for (const char* bad : {"", "/etc/x", "a//b", "a/", "./a", "a/./b", "..", "a/../../b", "a/.."}) {
    CAPTURE(bad);
    CHECK_FALSE(check_tree_path(bad));
  }
  CHECK_FALSE(check_tree_path(std::string("x\0y", 3)));
  CHECK_FALSE(check_tree_path(std::string(256, 'n')));
  CHECK_FALSE(check_tree_path(std::string(kMaxTreePath + 1, 'n')));
  for (const char* good : {"a", "a/b", "...", "a/..b/.c", "\xff\xfe"}) {
    CAPTURE(good);
    CHECK(check_tree_path(good));
  }
}

TEST_CASE("tree entries out of order, twice, under a non-directory or outside the stream are refused") {
  const auto refused = [](Manifest m, const char* why) {
    CAPTURE(why);
    auto parsed = parse_manifest(to_json(m), ManifestLimits{});
    REQUIRE_FALSE(parsed);
    CHECK(parsed.error().code == Errc::kCorrupt);
  };
  Manifest m = tree_sample();
  std::swap(m.tree[1], m.tree[2]);
  refused(m, "out of byte order");
  m = tree_sample();
  m.tree.insert(m.tree.begin() + 2, m.tree[1]);
  refused(m, "a path twice");
  m = tree_sample();
  m.tree[0].type = EntryType::kFile;  // top is a file, yet holds top/a
  refused(m, "a parent that is not a directory");
  m = tree_sample();
  m.tree.erase(m.tree.begin());
  refused(m, "a parent that is not in the tree");
  m = tree_sample();
  m.tree[0].type = EntryType::kSymlink;
  m.tree[0].target = "/";
  refused(m, "children under a symlink");
  m = tree_sample();
  m.tree[2].size = 6;
  refused(m, "a file past the stream");
  m = tree_sample();
  m.tree[2].offset = 19;
  refused(m, "files overlapping");
  m = tree_sample();
  m.tree[2].size = 4;
  refused(m, "bytes no file holds");
  m = tree_sample();
  m.tree[1].mode = 010000;
  refused(m, "a mode past 07777");
  m = tree_sample();
  m.tree[3].target.clear();
  refused(m, "a symlink without a target");
  ManifestLimits few;
  few.max_tree_entries = 3;
  CHECK_FALSE(parse_manifest(to_json(tree_sample()), few));
}
