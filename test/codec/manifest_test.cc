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
