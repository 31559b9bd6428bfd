// Tests engine/push/push.cc and engine/pull/pull.cc through fakes at the backend seam.
#include <doctest/doctest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <new>
#include <random>
#include <stdexcept>

#include "engine/core/download_key.h"
#include "engine/ops/manifest_tree.h"
#include "engine/keys/checked_manifest.h"
#include "engine/pull/pull.h"
#include "engine/push/push.h"
#include "engine/core/thread_pool.h"

using namespace sx;
namespace fs = std::filesystem;

namespace {

// Objects in memory; keys are "mem:NAME". Synchronous like the local store.
class MemoryBackend : public net::Backend {
 public:
  void put(const std::string& name, std::span<const std::byte> bytes, net::PutDone done) override {
    std::lock_guard lock(mutex_);
    objects_["mem:" + name].assign(bytes.begin(), bytes.end());
    ++puts_;
    done("mem:" + name);
  }
  void get(const std::string& key, std::span<std::byte> into, net::GetDone done) override {
    std::vector<std::byte> bytes;
    if (!lookup(key, bytes)) return done(make_error(Errc::kNotFound, key + " not found"));
    if (bytes.size() > into.size()) return done(make_error(Errc::kLimit, "too large"));
    std::memcpy(into.data(), bytes.data(), bytes.size());
    done(bytes.size());
  }
  void get_whole(const std::string& key, std::size_t, net::WholeDone done) override {
    std::vector<std::byte> bytes;
    if (!lookup(key, bytes)) return done(make_error(Errc::kNotFound, key + " not found"));
    done(std::move(bytes));
  }
  bool synchronous() const override { return true; }
  std::string describe() const override { return "memory"; }

  virtual bool lookup(const std::string& key, std::vector<std::byte>& out) {
    std::lock_guard lock(mutex_);
    auto it = objects_.find(key);
    if (it == objects_.end()) return false;
    out = it->second;
    return true;
  }
  std::map<std::string, std::vector<std::byte>> objects_;
  std::mutex mutex_;
  int puts_ = 0;
};

// Flips a byte in the first `corrupt_first` data-piece reads of each key (or
// in every read), as a flaky proxy would.
class FlakyBackend : public MemoryBackend {
 public:
  bool lookup(const std::string& key, std::vector<std::byte>& out) override {
    if (!MemoryBackend::lookup(key, out)) return false;
    std::lock_guard lock(flaky_mutex_);
    if (key == manifest_key) return true;
    if (reads_[key]++ < corrupt_first) out[out.size() / 2] ^= std::byte{0x40};
    return true;
  }
  std::string manifest_key;
  int corrupt_first = 0;
  std::mutex flaky_mutex_;
  std::map<std::string, int> reads_;
};

struct Fixture {
  Options options;
  engine::ThreadPool pool{2};
  engine::CancelToken cancel;
  engine::Context ctx{options, pool, cancel, codec::kDefaultLimits, codec::ManifestLimits{}, [] { return 0L; }};
  fs::path dir = fs::temp_directory_path() / ("sxengine-test-" + std::to_string(::getpid()));

  Fixture() {
    fs::create_directories(dir);
    options.piece_bytes = 10000;  // small pieces: many of them from small files
    options.encrypt = false;      // keys are plain URLs here; encryption has its own cases
  }
  ~Fixture() { fs::remove_all(dir); }

  std::string write_input(std::size_t size) {
    std::mt19937 rng(static_cast<unsigned>(size));
    std::string bytes(size, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    std::ofstream(dir / "input.bin", std::ios::binary) << bytes;
    return bytes;
  }
  std::string read(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
};

// pull of a key's URL as Storage does it: the manifest opened through the
// one checked boundary first (the memory backend's keys are this test's own).
Result<std::string> pull_url(engine::Context& ctx, net::Backend& backend, const std::string& url,
                             const std::optional<codec::ContentKey>& content_key, const std::string& out) {
  auto checked = engine::open_manifest(ctx, backend, engine::KeyPolicy::trusting(), url, content_key);
  if (!checked) return std::move(checked).error();
  return engine::pull(ctx, backend, *checked, content_key, out);
}

}  // namespace

TEST_CASE_FIXTURE(Fixture, "push then pull through a memory backend gives the same bytes") {
  MemoryBackend backend;
  const std::string bytes = write_input(123457);
  auto pushed = engine::push(ctx, backend, (dir / "input.bin").string(), "");
  REQUIRE(pushed);
  const std::string& key = pushed->key;
  CHECK(backend.puts_ == 13 + 1);  // 13 data pieces and the manifest
  CHECK(pushed->name == "input.bin");
  CHECK(pushed->size == 123457);
  auto path = pull_url(ctx, backend, key, std::nullopt, (dir / "out.bin").string());
  REQUIRE(path);
  CHECK(read(*path) == bytes);
  auto manifest = engine::fetch_manifest_tree(ctx, backend, key, std::nullopt);
  REQUIRE(manifest);
  CHECK(manifest->manifest.name == "input.bin");
  CHECK(manifest->manifest.pieces.size() == 13);
}

TEST_CASE_FIXTURE(Fixture, "a corrupted body is fetched again, and the pull still succeeds") {
  FlakyBackend backend;
  const std::string bytes = write_input(50000);
  auto pushed = engine::push(ctx, backend, (dir / "input.bin").string(), "");
  REQUIRE(pushed);
  const std::string& key = pushed->key;
  backend.manifest_key = key;
  backend.corrupt_first = 1;
  auto path = pull_url(ctx, backend, key, std::nullopt, (dir / "out.bin").string());
  REQUIRE(path);
  CHECK(read(*path) == bytes);
}

TEST_CASE_FIXTURE(Fixture, "a piece corrupted every time fails the pull naming it, leaving nothing") {
  FlakyBackend backend;
  write_input(50000);
  auto pushed = engine::push(ctx, backend, (dir / "input.bin").string(), "");
  REQUIRE(pushed);
  const std::string& key = pushed->key;
  backend.manifest_key = key;
  backend.corrupt_first = 1000;
  auto path = pull_url(ctx, backend, key, std::nullopt, (dir / "out.bin").string());
  REQUIRE_FALSE(path);
  CHECK(path.error().code == Errc::kCorrupt);
  CHECK(path.error().message.find("piece ") == 0);
  CHECK_FALSE(fs::exists(dir / "out.bin"));
  for (const auto& entry : fs::directory_iterator(dir))
    CHECK(entry.path().filename().string().find("sxpart") == std::string::npos);
}

TEST_CASE_FIXTURE(Fixture, "a piece swapped for another is detected") {
  MemoryBackend backend;
  write_input(30000);
  auto pushed = engine::push(ctx, backend, (dir / "input.bin").string(), "");
  REQUIRE(pushed);
  const std::string& key = pushed->key;
  auto manifest = engine::fetch_manifest_tree(ctx, backend, key, std::nullopt);
  REQUIRE(manifest);
  const auto& pieces = manifest->manifest.pieces;
  backend.objects_[pieces[0].key] = backend.objects_[pieces[1].key];
  auto path = pull_url(ctx, backend, key, std::nullopt, (dir / "out.bin").string());
  REQUIRE_FALSE(path);
  CHECK(path.error().message.find("different piece") != std::string::npos);
}

TEST_CASE_FIXTURE(Fixture, "a missing piece fails with kNotFound naming it") {
  MemoryBackend backend;
  write_input(30000);
  auto pushed = engine::push(ctx, backend, (dir / "input.bin").string(), "");
  REQUIRE(pushed);
  const std::string& key = pushed->key;
  auto manifest = engine::fetch_manifest_tree(ctx, backend, key, std::nullopt);
  backend.objects_.erase(manifest->manifest.pieces[2].key);
  auto path = pull_url(ctx, backend, key, std::nullopt, (dir / "out.bin").string());
  REQUIRE_FALSE(path);
  CHECK(path.error().code == Errc::kNotFound);
  CHECK(path.error().message.find("piece 2") == 0);
}

TEST_CASE_FIXTURE(Fixture, "thousands of pieces spill the manifest over an index tree") {
  MemoryBackend backend;
  options.piece_bytes = 1024;
  const std::string bytes = write_input(2048000);
  auto key = engine::push(ctx, backend, (dir / "input.bin").string(), "");
  if (!key) MESSAGE(key.error().message);
  REQUIRE(key);
  auto manifest = engine::fetch_manifest_tree(ctx, backend, key->key, std::nullopt);
  if (!manifest) MESSAGE(manifest.error().message);
  REQUIRE(manifest);
  CHECK(manifest->levels >= 3);
  CHECK(manifest->manifest.pieces.size() == 2000);
  options.piece_bytes = 1023;
  auto refused = engine::push(ctx, backend, (dir / "input.bin").string(), "");
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == Errc::kInvalidArgument);
  auto path = pull_url(ctx, backend, key->key, std::nullopt, (dir / "out.bin").string());
  REQUIRE(path);
  CHECK(read(*path) == bytes);
}

TEST_CASE_FIXTURE(Fixture, "an encrypted push pulls back with its key and not without it") {
  MemoryBackend backend;
  options.encrypt = true;
  const std::string bytes = write_input(45000);
  auto text = engine::push(ctx, backend, (dir / "input.bin").string(), "");
  REQUIRE(text);
  auto key = engine::parse_download_key(text->key);
  REQUIRE(key);
  REQUIRE(key->key);
  for (const auto& [name, object] : backend.objects_)  // no plaintext in any stored object
    CHECK(std::search(object.begin(), object.end(), reinterpret_cast<const std::byte*>(bytes.data()),
                      reinterpret_cast<const std::byte*>(bytes.data()) + 64) == object.end());
  auto path = pull_url(ctx, backend, key->url, key->key, (dir / "out.bin").string());
  REQUIRE(path);
  CHECK(read(*path) == bytes);
  auto refused = pull_url(ctx, backend, key->url, std::nullopt, (dir / "other.bin").string());
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == Errc::kDenied);
  CHECK_FALSE(fs::exists(dir / "other.bin"));
}

namespace {

// Throws from the `throw_at`-th data put or get (what a backend's bug or an
// allocation failure inside it would do), before or after answering.
class ThrowingBackend : public MemoryBackend {
 public:
  void put(const std::string& name, std::span<const std::byte> bytes, net::PutDone done) override {
    if (++put_calls == throw_put_at && !after_answer) throw std::runtime_error("the backend's bug");
    MemoryBackend::put(name, bytes, std::move(done));
    if (put_calls == throw_put_at) throw std::bad_alloc();
  }
  void get(const std::string& key, std::span<std::byte> into, net::GetDone done) override {
    if (++get_calls == throw_get_at) throw std::runtime_error("the backend's bug");
    MemoryBackend::get(key, into, std::move(done));
  }
  std::atomic<int> put_calls{0}, get_calls{0};
  int throw_put_at = 0, throw_get_at = 0;
  bool after_answer = false;
};

}  // namespace

TEST_CASE_FIXTURE(Fixture, "an exception in a backend becomes the operation's error, never a crash or a hang") {
  write_input(123457);  // 13 pieces
  SUBCASE("push: thrown before answering") {
    ThrowingBackend backend;
    backend.throw_put_at = 3;
    auto key = engine::push(ctx, backend, (dir / "input.bin").string(), "");
    REQUIRE_FALSE(key);
    CHECK(key.error().code == Errc::kIo);
    CHECK(key.error().message.find("internal error: the backend's bug") != std::string::npos);
  }
  SUBCASE("push: thrown after answering (the answer stands)") {
    ThrowingBackend backend;
    backend.throw_put_at = 3;
    backend.after_answer = true;
    auto key = engine::push(ctx, backend, (dir / "input.bin").string(), "");
    REQUIRE_MESSAGE(key, key.error().message);
    ThrowingBackend reader;
    reader.objects_ = backend.objects_;
    auto path = pull_url(ctx, reader, key->key, std::nullopt, (dir / "out.bin").string());
    REQUIRE_MESSAGE(path, path.error().message);
    CHECK(read(*path) == read((dir / "input.bin").string()));
  }
  SUBCASE("pull") {
    ThrowingBackend backend;
    auto key = engine::push(ctx, backend, (dir / "input.bin").string(), "");
    REQUIRE(key);
    backend.throw_get_at = 4;
    auto path = pull_url(ctx, backend, key->key, std::nullopt, (dir / "out.bin").string());
    REQUIRE_FALSE(path);
    CHECK(path.error().code == Errc::kIo);
    CHECK(path.error().message.find("internal error: the backend's bug") != std::string::npos);
    CHECK_FALSE(fs::exists(dir / "out.bin"));
  }
}
