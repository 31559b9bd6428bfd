// Tests net/backend_local.cc: the local directory store and file:// URLs.
#include <doctest/doctest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "net/backend_local.h"

using namespace sx;
using namespace sx::net;
namespace fs = std::filesystem;

namespace {

// A fresh directory under the system temp dir, removed at the end.
struct TempDir {
  TempDir() {
    static std::atomic<int> counter{0};
    path = fs::temp_directory_path() /
           ("sxlocal-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  fs::path path;
};

std::vector<std::byte> bytes_of(std::string_view text) {
  std::vector<std::byte> out(text.size());
  std::memcpy(out.data(), text.data(), text.size());
  return out;
}

std::string text_of(std::span<const std::byte> bytes) {
  return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

// The local store runs `done` inline; these collect its result.
Result<std::string> put(Backend& backend, const std::string& name, std::span<const std::byte> bytes) {
  std::optional<Result<std::string>> out;
  backend.put(name, bytes, [&](Result<std::string> r) { out.emplace(std::move(r)); });
  REQUIRE(out.has_value());
  return std::move(*out);
}

Result<std::size_t> get(Backend& backend, const std::string& key, std::span<std::byte> into) {
  std::optional<Result<std::size_t>> out;
  backend.get(key, into, [&](Result<std::size_t> r) { out.emplace(std::move(r)); });
  REQUIRE(out.has_value());
  return std::move(*out);
}

Result<std::vector<std::byte>> get_whole(Backend& backend, const std::string& key, std::size_t max_bytes) {
  std::optional<Result<std::vector<std::byte>>> out;
  backend.get_whole(key, max_bytes, [&](Result<std::vector<std::byte>> r) { out.emplace(std::move(r)); });
  REQUIRE(out.has_value());
  return std::move(*out);
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

TEST_CASE("local backend: put then get returns the same bytes under a file:// URL in the root") {
  TempDir dir;
  auto backend = make_local_backend(dir.path);
  CHECK(backend->synchronous());
  const std::string name = "0123456789abcdef.png";
  const std::vector<std::byte> bytes = bytes_of(std::string("\x89PNG\r\n\x1a\n", 8) + std::string(5000, '\0') + "end");

  auto key = put(*backend, name, bytes);
  REQUIRE_MESSAGE(key, key.error().message);
  CHECK(key->rfind("file:///", 0) == 0);
  auto path = path_of_file_url(*key);
  REQUIRE(path);
  CHECK(*path == dir.path / "01" / name);
  CHECK(read_file(*path) == text_of(bytes));

  std::vector<std::byte> into(bytes.size() + 100);
  auto got = get(*backend, *key, into);
  REQUIRE_MESSAGE(got, got.error().message);
  REQUIRE(*got == bytes.size());
  CHECK(std::memcmp(into.data(), bytes.data(), bytes.size()) == 0);

  auto whole = get_whole(*backend, *key, 1 << 20);
  REQUIRE(whole);
  CHECK(*whole == bytes);
  auto too_big = get_whole(*backend, *key, bytes.size() - 1);
  REQUIRE_FALSE(too_big);
  CHECK(too_big.error().code == Errc::kLimit);
}

TEST_CASE("local backend: a second put of the same bytes stores nothing new, a damaged object is replaced") {
  TempDir dir;
  auto backend = make_local_backend(dir.path);
  const std::string name = "ab00ff.png";
  const auto first_bytes = bytes_of("first contents");
  const auto other_bytes = bytes_of("other contents");  // same size: what a damaged object looks like
  REQUIRE(first_bytes.size() == other_bytes.size());

  auto first = put(*backend, name, first_bytes);
  REQUIRE(first);
  const auto path = path_of_file_url(*first);
  REQUIRE(path);
  const auto written_at = fs::last_write_time(*path);
  auto second = put(*backend, name, first_bytes);
  REQUIRE(second);
  CHECK(*second == *first);
  // The same bytes: nothing is rewritten.
  CHECK(read_file(*path) == "first contents");
  CHECK(fs::last_write_time(*path) == written_at);
  // No temp file is left behind; the second push holds a reference (a hard
  // link), so rm of one key keeps what the other uses.
  std::size_t entries = 0, refs = 0;
  for (const auto& entry : fs::directory_iterator(dir.path / "ab")) {
    ++entries;
    if (entry.path().filename().string().rfind("." + name + ".ref-", 0) == 0) ++refs;
  }
  CHECK(entries == 2);
  CHECK(refs == 1);
  CHECK(fs::hard_link_count(*path) == 2);

  // Other bytes under the name (the object was damaged on disk): compared,
  // not trusted for its size; replaced, and counted as a third reference.
  auto third = put(*backend, name, other_bytes);
  REQUIRE(third);
  CHECK(read_file(*path) == "other contents");
  // repair: back in place, no new reference.
  std::optional<Result<std::string>> repaired;
  backend->put_replacing(name, first_bytes, [&](Result<std::string> r) { repaired.emplace(std::move(r)); });
  REQUIRE(repaired);
  REQUIRE(*repaired);
  CHECK(read_file(*path) == "first contents");
  refs = 0;
  for (const auto& entry : fs::directory_iterator(dir.path / "ab"))
    if (entry.path().filename().string().rfind("." + name + ".ref-", 0) == 0) ++refs;
  CHECK(refs == 2);

  const auto remove = [&](const std::string& key) {
    std::optional<Status> result;
    backend->remove(key, [&](Status s) { result = std::move(s); });
    REQUIRE(result);
    return *result;
  };
  CHECK(remove(*first));  // drops a reference: the object stays
  CHECK(remove(*first));  // drops the other
  CHECK(read_file(*path) == "first contents");
  CHECK(fs::hard_link_count(*path) == 1);
  CHECK(remove(*first));  // the last reference: the object goes
  CHECK_FALSE(fs::exists(*path));
  auto again = remove(*first);
  REQUIRE_FALSE(again);
  CHECK(again.error().code == Errc::kNotFound);
}

TEST_CASE("local backend: get fails for a missing key, a small buffer and a directory") {
  TempDir dir;
  auto backend = make_local_backend(dir.path);
  std::vector<std::byte> into(64);

  auto missing = get(*backend, file_url(dir.path / "zz" / "missing.png"), into);
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code == Errc::kNotFound);
  CHECK(missing.error().message.find("missing.png") != std::string::npos);
  auto missing_whole = get_whole(*backend, file_url(dir.path / "zz" / "missing.png"), 1024);
  REQUIRE_FALSE(missing_whole);
  CHECK(missing_whole.error().code == Errc::kNotFound);

  const auto bytes = bytes_of(std::string(100, 'x'));
  auto key = put(*backend, "cd01.png", bytes);
  REQUIRE(key);
  auto small = get(*backend, *key, into);  // 64 bytes for 100
  REQUIRE_FALSE(small);
  CHECK(small.error().code == Errc::kLimit);

  auto directory = get_whole(*backend, file_url(dir.path / "cd"), 1 << 20);
  REQUIRE_FALSE(directory);
  CHECK_MESSAGE(directory.error().message.find("directory") != std::string::npos, directory.error().message);
  auto directory_get = get(*backend, file_url(dir.path / "cd"), into);
  REQUIRE_FALSE(directory_get);

  auto not_a_file_url = get(*backend, "http://example.com/x.png", into);
  REQUIRE_FALSE(not_a_file_url);
  CHECK(not_a_file_url.error().code == Errc::kInvalidArgument);
}

TEST_CASE("file_url and path_of_file_url round-trip spaces, non-ASCII bytes and URL syntax") {
  const fs::path path("/tmp/a dir/na\xc3\xafve \xe2\x98\x83/100%/q?x#y/raw\xff.png");
  const std::string url = file_url(path);
  CHECK(url.rfind("file:///tmp/a%20dir/na%C3%AFve%20%E2%98%83/100%25/q%3Fx%23y/raw%FF.png", 0) == 0);
  CHECK(url == "file:///tmp/a%20dir/na%C3%AFve%20%E2%98%83/100%25/q%3Fx%23y/raw%FF.png");
  for (const char c : url) {
    CHECK(static_cast<unsigned char>(c) < 0x80);
    CHECK(c != ' ');
  }
  auto back = path_of_file_url(url);
  REQUIRE(back);
  CHECK(back->string() == path.string());

  auto local = path_of_file_url("file://localhost/tmp/x%20y");
  REQUIRE(local);
  CHECK(local->string() == "/tmp/x y");
  CHECK_FALSE(path_of_file_url("http://host/tmp/x"));
  CHECK_FALSE(path_of_file_url("file://relative/path"));
  CHECK_FALSE(path_of_file_url("file://"));
  auto nul = path_of_file_url("file:///tmp/a%00b");
  REQUIRE_FALSE(nul);
  CHECK(nul.error().code == Errc::kInvalidArgument);
}

TEST_CASE("local backend: a check_body that refuses makes get fail") {
  TempDir dir;
  std::size_t head_bytes = 0;
  int checks = 0;
  auto backend = make_local_backend(dir.path, [&](std::span<const std::byte> head, std::string_view) -> Result<std::size_t> {
    ++checks;
    head_bytes = head.size();
    if (text_of(head).rfind("GOOD", 0) != 0) return make_error(Errc::kCorrupt, "test check: not a good object");
    return std::size_t{150};
  });
  auto bad_key = put(*backend, "ee01.png", bytes_of("BAD!" + std::string(200, 'b')));
  auto good_key = put(*backend, "ee02.png", bytes_of("GOOD" + std::string(100, 'g')));
  auto long_key = put(*backend, "ee03.png", bytes_of("GOOD" + std::string(200, 'g')));
  REQUIRE(bad_key);
  REQUIRE(good_key);
  REQUIRE(long_key);
  std::vector<std::byte> into(1024);

  auto bad = get(*backend, *bad_key, into);
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code == Errc::kCorrupt);
  CHECK(bad.error().message.find("test check: not a good object") != std::string::npos);
  CHECK(bad.error().message.find("ee01.png") != std::string::npos);
  CHECK(head_bytes == kBodyHeadBytes);
  auto bad_whole = get_whole(*backend, *bad_key, 1024);
  REQUIRE_FALSE(bad_whole);
  CHECK(bad_whole.error().code == Errc::kCorrupt);

  auto good = get(*backend, *good_key, into);
  REQUIRE_MESSAGE(good, good.error().message);
  CHECK(*good == 104);
  auto too_long = get(*backend, *long_key, into);  // head accepted, 204 > 150 allowed
  REQUIRE_FALSE(too_long);
  CHECK(too_long.error().code == Errc::kLimit);
  CHECK(checks == 4);
}

namespace {

// Takes the first `keep` bytes, then declines (keep = SIZE_MAX: takes all).
struct RecordingSink final : BodySink {
  explicit RecordingSink(std::size_t keep) : keep(keep) {}
  Result<Take> offer(std::span<const std::byte> chunk) override {
    if (taken.size() + chunk.size() > keep) return Take::kDeclined;
    taken.insert(taken.end(), chunk.begin(), chunk.end());
    return Take::kTaken;
  }
  std::span<const std::byte> held() const override { return taken; }
  void restart() override { taken.clear(); }
  std::size_t keep;
  std::vector<std::byte> taken;
};

}  // namespace

TEST_CASE("local backend: get_streaming offers the object to a sink, or fills the buffer when it declines") {
  TempDir dir;
  auto backend = make_local_backend(dir.path);
  std::vector<std::byte> object(3 << 20);
  for (std::size_t i = 0; i < object.size(); ++i) object[i] = std::byte(i * 7 % 251);
  auto key = put(*backend, "00aa.png", object);
  REQUIRE(key);
  std::vector<std::byte> into(object.size() + 10, std::byte{0xee});
  const auto streamed = [&](BodySink& sink) {
    std::optional<Result<std::size_t>> out;
    backend->get_streaming(*key, into, sink, [&](Result<std::size_t> r) { out.emplace(std::move(r)); });
    REQUIRE(out.has_value());
    return std::move(*out);
  };

  SUBCASE("a sink that takes it all gets every byte in order; the buffer is untouched") {
    RecordingSink sink(SIZE_MAX);
    auto got = streamed(sink);
    REQUIRE(got);
    CHECK(*got == object.size());
    CHECK(sink.taken == object);
    CHECK(std::all_of(into.begin(), into.end(), [](std::byte b) { return b == std::byte{0xee}; }));
  }
  SUBCASE("a sink that declines after its head: held bytes first, then the rest, in the buffer") {
    RecordingSink sink(1 << 20);  // takes the first 1 MiB chunk, declines the second
    auto got = streamed(sink);
    REQUIRE(got);
    CHECK(*got == object.size());
    CHECK(std::memcmp(into.data(), object.data(), object.size()) == 0);
  }
}

TEST_CASE("local backend: concurrent puts and removes of one object never lose a reference") {
  TempDir dir;
  auto backend = make_local_backend(dir.path);
  const std::string name = "cd0123.png";
  const auto bytes = bytes_of(std::string(100000, 'x'));
  // Rounds of 8 threads putting at once, then 7 removing at once: the
  // object must outlive them for the 8th, and go with its remove.
  for (int round = 0; round < 20; ++round) {
    std::vector<std::string> keys(8);
    {
      std::vector<std::thread> threads;
      for (auto& key : keys)
        threads.emplace_back([&] {
          backend->put(name, bytes, [&](Result<std::string> r) { key = r ? *r : std::string(); });
        });
      for (auto& t : threads) t.join();
    }
    for (const auto& key : keys) REQUIRE_FALSE(key.empty());
    std::atomic<int> removed{0};
    {
      std::vector<std::thread> threads;
      for (int i = 0; i < 7; ++i)
        threads.emplace_back([&] { backend->remove(keys[0], [&](Status s) { removed += s ? 1 : 0; }); });
      for (auto& t : threads) t.join();
    }
    CHECK(removed == 7);
    const auto path = path_of_file_url(keys[0]);
    REQUIRE(path);
    REQUIRE(fs::exists(*path));
    std::optional<Status> last;
    backend->remove(keys[0], [&](Status s) { last = std::move(s); });
    CHECK(*last);
    CHECK_FALSE(fs::exists(*path));
    CHECK(fs::is_empty(path->parent_path()));
  }
}
