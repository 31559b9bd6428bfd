// Writes the seed corpora for the fuzz targets into DIR/<target>/, made by the
// project's own writers (and, for the PNG readers, by stb_image_write as an
// outside encoder), so the fuzzers start from valid inputs.
//
//   make_corpus DIR

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "codec/byte_order.h"
#include "codec/manifest.h"
#include "codec/piece_format.h"
#include "codec/piece_writer.h"
#include "test/stb_png.h"

namespace {

namespace codec = sx::codec;
namespace fs = std::filesystem;

class Corpus {
 public:
  Corpus(const fs::path& dir, std::string_view target) : dir_(dir / target) {
    fs::create_directories(dir_);
  }
  void add(std::string_view name, std::span<const std::byte> bytes) {
    std::ofstream out(dir_ / std::string(name), std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    if (!out) {
      std::fprintf(stderr, "make_corpus: cannot write %s\n", (dir_ / std::string(name)).c_str());
      ok_ = false;
    }
    ++count_;
  }
  void add(std::string_view name, std::string_view text) {
    add(name, std::as_bytes(std::span(text.data(), text.size())));
  }
  bool ok() const { return ok_; }
  int count() const { return count_; }

 private:
  fs::path dir_;
  bool ok_ = true;
  int count_ = 0;
};

// Payload bytes with some structure (compressible) and some noise.
std::vector<std::byte> payload(std::size_t n, std::uint32_t seed) {
  std::vector<std::byte> out(n);
  std::uint32_t x = seed * 2654435761u + 1;
  for (std::size_t i = 0; i < n; ++i) {
    x ^= x << 13, x ^= x >> 17, x ^= x << 5;
    out[i] = std::byte(i % 64 < 48 ? static_cast<std::uint8_t>(i / 64) : static_cast<std::uint8_t>(x));
  }
  return out;
}

struct PieceSpec {
  const char* name;
  std::uint32_t width, height;  // geometry
  std::size_t payload_bytes;
  std::uint8_t flags;
  std::uint64_t index;
  int level;  // 0: stored (write_piece), else CompressingPieceWriter level
};

bool write_pieces(Corpus& reader, Corpus& header) {
  // Small geometries keep the fuzzer fast; "blocks" spans two stored blocks
  // (raw stream > 65535 bytes), "tall" has rows shorter than the header.
  const PieceSpec specs[] = {
      {"empty", 16, 16, 0, 0, 0, 0},
      {"tiny", 4, 4, 10, 0, 1, 0},
      {"tall", 1, 64, 100, codec::kFlagManifest, 2, 0},
      {"square", 32, 32, 3000, codec::kFlagCompressed, 3, 0},
      {"partial", 40, 40, 1000, codec::kFlagEncrypted, 4, 0},
      {"blocks", 160, 140, 66000, 0, 5, 0},
      {"deflate1", 32, 32, 3000, 0, 6, 1},
      {"deflate6", 64, 20, 2000, codec::kFlagManifest | codec::kFlagCompressed, 7, 6},
      {"deflate12", 16, 64, 3000, codec::kFlagEncrypted, 8, 12},
  };
  for (const PieceSpec& spec : specs) {
    auto geometry = codec::geometry_for_dimensions(spec.width, spec.height, codec::kDefaultLimits);
    if (!geometry) {
      std::fprintf(stderr, "make_corpus: %s: %s\n", spec.name, geometry.error().message.c_str());
      return false;
    }
    const std::vector<std::byte> data = payload(spec.payload_bytes, static_cast<std::uint32_t>(spec.index));
    std::vector<std::byte> png(codec::max_png_bytes(*geometry));
    codec::PieceHeader h{spec.flags, spec.index, 0, 0};
    auto written = spec.level == 0 ? codec::write_piece(h, data, *geometry, png)
                                   : codec::CompressingPieceWriter(spec.level, *geometry).write(h, data, png);
    if (!written) {
      std::fprintf(stderr, "make_corpus: %s: %s\n", spec.name, written.error().message.c_str());
      return false;
    }
    png.resize(*written);
    reader.add(std::string("piece_") + spec.name + ".png", png);

    // The header target sees pixel bytes: header ‖ payload (‖ padding).
    std::vector<std::byte> pixels(codec::kHeaderBytes + std::min<std::size_t>(data.size(), 4096));
    codec::encode_header(h, std::span<std::byte, codec::kHeaderBytes>(pixels.data(), codec::kHeaderBytes));
    std::copy(data.begin(), data.begin() + static_cast<std::ptrdiff_t>(pixels.size() - codec::kHeaderBytes),
              pixels.begin() + codec::kHeaderBytes);
    if (h.payload_bytes <= pixels.size() - codec::kHeaderBytes)
      header.add(std::string("header_") + spec.name, pixels);
  }
  // A header whose payload fills the bytes after it exactly.
  std::vector<std::byte> exact(codec::kHeaderBytes + 7, std::byte{0x5a});
  codec::encode_header(codec::PieceHeader{codec::kFlagManifest, ~std::uint64_t{0}, 7, 0xdeadbeef},
                       std::span<std::byte, codec::kHeaderBytes>(exact.data(), codec::kHeaderBytes));
  header.add("header_exact", exact);
  return true;
}

// PNGs from another encoder (filters, zlib): the libspng path, and storagex
// v1 pieces (u32 length, payload, zero padding).
void write_stb_pngs(Corpus& reader) {
  const int w = 16, h = 8;
  std::vector<unsigned char> rgb(w * h * 3, 0);
  const std::string_view text = "hello storagex";
  codec::store_le32(reinterpret_cast<std::byte*>(rgb.data()), static_cast<std::uint32_t>(text.size()));
  std::copy(text.begin(), text.end(), rgb.begin() + 4);
  reader.add("storagex_v1.png", sx::testing::stb_png(rgb.data(), w, h));

  const std::vector<std::byte> noise = payload(24 * 24 * 3, 99);
  reader.add("stb_noise.png", sx::testing::stb_png(noise.data(), 24, 24));

  // A v2 piece re-encoded by stb (what an image host that recompresses does).
  std::vector<std::byte> pixels(20 * 10 * 3, std::byte{0});
  const std::vector<std::byte> data = payload(200, 7);
  codec::PieceHeader header{0, 9, data.size(), 0};
  auto geometry = codec::geometry_for_dimensions(20, 10, codec::kDefaultLimits);
  std::vector<std::byte> png(codec::max_png_bytes(*geometry));
  if (codec::write_piece(header, data, *geometry, png)) {  // sets the CRC in header
    codec::encode_header(header, std::span<std::byte, codec::kHeaderBytes>(pixels.data(), codec::kHeaderBytes));
    std::copy(data.begin(), data.end(), pixels.begin() + codec::kHeaderBytes);
    reader.add("stb_piece.png", sx::testing::stb_png(pixels.data(), 20, 10));
  }
}

void write_manifests(Corpus& corpus) {
  codec::Manifest m;
  m.name = "photo \"holiday\"\\2024\n.tar";
  m.size = 2500;
  m.sha256 = std::string(64, 'a');
  m.piece_size = 1000;
  m.width = 20;
  m.height = 17;
  m.pieces = {{0, "https://i.example/a.png", 0, 1000, 0x01234567},
              {1, "https://i.example/b.png", 1000, 1000, 0x89abcdef},
              {2, "file:///tmp/c.png", 2000, 500, 0}};
  corpus.add("manifest", codec::to_json(m));
  codec::Manifest striped = m;  // docs/FORMAT.md §10: 2 stripes of 2 data + 1 parity
  striped.stripe_data = 2;
  striped.stripe_parity = 1;
  striped.parity_pieces = {{0, "http://h3/p0.png", 0, 1000, 0x11111111}, {1, "http://h3/p1.png", 0, 500, 0x22222222}};
  corpus.add("manifest_striped", codec::to_json(striped));
  codec::Manifest tree = m;  // docs/FORMAT.md §11: a tree over the same 2500 bytes
  tree.tree = {{"top", codec::EntryType::kDirectory, 0755, 1, 0, 0, {}},
               {"top/a", codec::EntryType::kFile, 0644, 2, 2000, 0, {}},
               {"top/b\xff", codec::EntryType::kFile, 0600, 3, 500, 2000, {}},
               {"top/l", codec::EntryType::kSymlink, 0777, 4, 0, 0, "../a"}};
  corpus.add("manifest_tree", codec::to_json(tree));
  m.encryption = "aes-256-gcm";
  m.pieces.resize(1);
  m.size = 1000;
  corpus.add("manifest_encrypted", codec::to_json(m));
  m.pieces.clear();
  m.size = 0;
  m.name.clear();
  corpus.add("manifest_empty", codec::to_json(m));

  codec::ManifestIndex index{30, {{"https://i.example/s0.png", 10, 1}, {"https://i.example/s1.png", 20, 2}}};
  corpus.add("index", codec::to_json(index));

  corpus.add("storagex_v1",
             R"({"piece_width": 4, "protocol_version": 1.0, "pieces": [{"seq": 0, "key": "http://h/0.png", )"
             R"("offset": 0, "size": 44, "checksum": ""}, {"seq": 1, "key": "http://h/1.png", "offset": 44, )"
             R"("size": 3, "checksum": ""}], "piece_height": 4, "filename": "x.txt"})");
  corpus.add("storagex_v1_empty",
             R"({"piece_width": 1024, "protocol_version": 1.0, "pieces": [], "piece_height": 768, "filename": "sz000001"})");
}

void write_host_profiles(Corpus& corpus) {
  using namespace std::string_view_literals;
  // PROFILE '\0' ANSWER, as host_profile_fuzzer splits its input.
  corpus.add("profile_pointer",
             R"({"url": "https://img.example/upload", "field": "file", "fields": {"album": "sx"},)"
             R"( "headers": {"X-API-Key": "${SX_IMGHOST_KEY}"}, "response_url": "/data/url",)"
             R"( "max_bytes": 300000, "max_width": 400, "max_height": 400})"
             "\0"
             R"({"data": {"url": "https://img.example/i/abc.png", "id": 7}})"sv);
  corpus.add("profile_pattern",
             R"j({"url": "http://img.example/upload-text", "response_pattern": "(http://[^ ]+[.]png)"})j"
             "\0"
             R"(ok: http://img.example/i/abc.png "url": "https://img.example/x.png")"sv);
  corpus.add("sxcu_json",
             R"({"Version": "14.1.0", "Name": "curly", "DestinationType": "ImageUploader, FileUploader",)"
             R"( "RequestMethod": "POST", "RequestURL": "https://img.example/upload", "Body": "MultipartFormData",)"
             R"( "FileFormName": "file", "Arguments": {"title": "piece"}, "Headers": {"X-Client": "sx"},)"
             R"( "URL": "{json:data.files[0].url}"})"
             "\0"
             R"({"data": {"files": [{"url": "https://img.example/0.png"}], "url": "https://img.example/1.png"}})"sv);
  corpus.add("sxcu_dollar",
             R"({"RequestMethod": "POST", "RequestURL": "https://img.example/upload", "Body": "MultipartFormData",)"
             R"( "URL": "$json:data.url$"})"sv);
  corpus.add("sxcu_regex",
             R"({"RequestURL": "http://img.example/upload-text", "Body": "MultipartFormData",)"
             R"( "URL": "{regex:(http://[^ ]+[.]png)}"})"sv);
  corpus.add("sxcu_response",
             R"({"RequestURL": "http://img.example/upload-text", "URL": "{response}"})"
             "\0"
             "https://img.example/i/plain.png\n"sv);
}

// Keys as pushes print them, then '\0' and a piece URL the policy judges.
void write_keys(Corpus& corpus) {
  using namespace std::string_view_literals;
  corpus.add("http_key", "http://127.0.0.1:8080/p/0123456789abcdef0123456789abcdef.png"
                         "#k=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"
                         "\0http://127.0.0.1:8080/p/fedcba9876543210fedcba9876543210.png"sv);
  corpus.add("file_key", "file:///home/u/.local/share/sxengine/store/ab/0123456789abcdef0123456789abcdef.png"
                         "#s=AAECAwQFBgcICQoLDA0ODw"
                         "\0file:///home/u/.local/share/sxengine/store/cd/../../../etc/passwd"sv);
  corpus.add("copies", "https://a.example/p/0123456789abcdef0123456789abcdef.png#k=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"
                       "&m=https%3A%2F%2Fb.example%2Fq%2F0123456789abcdef0123456789abcdef.png"
                       "\0http://[::1]:80/x.png"sv);
  corpus.add("plain", "http://h/x.png");
}

void write_journals(Corpus& corpus) {
  corpus.add("push", "sxengine push journal 2 0123 x#k=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8 9a6f5b2c\n"
                     "0 1048576 1a2b3c4d http://h/p/0123456789abcdef0123456789abcdef.png "
                     "00112233445566778899aabbccddeeff 5e9f1a2b\n");
  corpus.add("pull", "sxengine pull journal 2 abc - 01234567\n3 00112233445566778899aabbccddeeff 89abcdef\n"
                     "4 00112233445566778899aabbccddeeff 7654321\n");
}

void write_s3_errors(Corpus& corpus) {
  corpus.add("no_such_key", "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>NoSuchKey</Code>"
                            "<Message>The specified key does not exist.</Message><Key>x</Key></Error>");
  corpus.add("json", "{\"error\": \"rate limited\", \"code\": 429}");
  corpus.add("html", "<html><body><h1>502 Bad Gateway</h1></body></html>");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_corpus DIR\n");
    return 2;
  }
  const fs::path dir(argv[1]);
  Corpus reader(dir, "piece_reader"), header(dir, "piece_header"), manifest(dir, "manifest"),
      host(dir, "host_profile"), keys(dir, "download_key"), journals(dir, "journal"), s3(dir, "s3_error");
  if (!write_pieces(reader, header)) return 1;
  write_stb_pngs(reader);
  write_manifests(manifest);
  write_host_profiles(host);
  write_keys(keys);
  write_journals(journals);
  write_s3_errors(s3);
  for (const Corpus* c : {&reader, &header, &manifest, &host, &keys, &journals, &s3})
    if (!c->ok()) return 1;
  std::printf("make_corpus: %d piece_reader, %d piece_header, %d manifest, %d host_profile seeds in %s\n",
              reader.count(), header.count(), manifest.count(), host.count(), dir.c_str());
  return 0;
}
