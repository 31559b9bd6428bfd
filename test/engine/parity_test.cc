// Tests striped pushes with parity through sx::Storage over local stores:
// every single lost backend (and every pair, with K = 2) is rebuilt exactly,
// the short last stripe included; more losses fail naming the stripe; repair
// restores what a backend lost; rm removes parity pieces and manifest copies.
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "sx/storage.h"

using namespace sx;
namespace fs = std::filesystem;

namespace {

struct Stores {
  fs::path root = fs::temp_directory_path() / ("sxengine-parity-" + std::to_string(::getpid()));
  explicit Stores(int n) {
    for (int i = 0; i < n; ++i) fs::create_directories(root / std::to_string(i));
  }
  ~Stores() {
    std::error_code ec;
    fs::remove_all(root, ec);
  }
  fs::path store(int i) const { return root / std::to_string(i); }
  // Takes a store away (and gives it back): the host is gone.
  void hide(int i) const { fs::rename(store(i), root / ("gone" + std::to_string(i))); }
  void show(int i) const { fs::rename(root / ("gone" + std::to_string(i)), store(i)); }
  std::size_t objects() const {
    std::size_t n = 0;
    for (const auto& e : fs::recursive_directory_iterator(root)) n += e.is_regular_file() && e.path().extension() == ".png";
    return n;
  }
};

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

Options striped(const Stores& s, int n, int parity) {
  Options o;
  for (int i = 0; i < n; ++i) o.backends.push_back("dir:" + s.store(i).string());
  o.parity = parity;
  o.piece_bytes = 4096;
  return o;
}

}  // namespace

TEST_CASE("parity: each lost backend (and each pair with K = 2) is rebuilt exactly, short last stripe too") {
  for (const auto [backends, parity] : {std::pair{3, 1}, std::pair{4, 2}, std::pair{2, 1}}) {
    CAPTURE(backends);
    CAPTURE(parity);
    Stores s(backends);
    std::string data(4096 * 7 + 100, '\0');  // 8 pieces: the last stripe is short for D = 3
    std::minstd_rand rng(backends);
    for (char& c : data) c = static_cast<char>(rng());
    std::ofstream(s.root / "in.bin", std::ios::binary) << data;
    Storage storage(striped(s, backends, parity));
    auto key = storage.upload((s.root / "in.bin").string());
    REQUIRE(key);
    for (unsigned mask = 0; mask < (1u << backends); ++mask) {
      if (__builtin_popcount(mask) > parity) continue;
      CAPTURE(mask);
      for (int i = 0; i < backends; ++i)
        if (mask & (1u << i)) s.hide(i);
      const fs::path out = s.root / ("out" + std::to_string(mask));
      auto pulled = storage.download(*key, out.string());
      REQUIRE(pulled);
      CHECK(read(out) == data);
      for (int i = 0; i < backends; ++i)
        if (mask & (1u << i)) s.show(i);
    }
  }
}

TEST_CASE("parity: more losses than parity fail naming the stripe, and nothing is written") {
  Stores s(3);
  std::string data(4096 * 4, 'x');
  std::ofstream(s.root / "in.bin", std::ios::binary) << data;
  Storage storage(striped(s, 3, 1));
  auto key = storage.upload((s.root / "in.bin").string());
  REQUIRE(key);
  s.hide(1);
  s.hide(2);
  auto pulled = storage.download(*key, (s.root / "out").string());
  REQUIRE_FALSE(pulled);
  CHECK(pulled.error().message.find("stripe ") != std::string::npos);
  CHECK_FALSE(fs::exists(s.root / "out"));
  auto report = storage.verify(*key);
  REQUIRE(report);
  CHECK_FALSE(report->recoverable());
  REQUIRE(report->backends.size() == 3);
  CHECK(report->backends[0].missing == 0);
  CHECK(report->backends[1].present == 0);
}

TEST_CASE("parity: repair re-creates a wiped backend's pieces in place; rm removes every object") {
  Stores s(3);
  std::string data(4096 * 9 + 1, 'y');
  std::ofstream(s.root / "in.bin", std::ios::binary) << data;
  Storage storage(striped(s, 3, 1));
  auto key = storage.upload((s.root / "in.bin").string());
  REQUIRE(key);
  const std::size_t stored = s.objects() - 0;
  fs::remove_all(s.store(1));
  fs::create_directories(s.store(1));
  auto repaired = storage.repair(*key);
  REQUIRE(repaired);
  CHECK(repaired->key == *key);
  CHECK_FALSE(repaired->key_changed);
  CHECK(s.objects() == stored);
  auto report = storage.verify(*key);
  REQUIRE(report);
  CHECK(report->ok());
  s.hide(0);
  REQUIRE(storage.download(*key, (s.root / "out").string()));
  CHECK(read(s.root / "out") == data);
  s.show(0);
  auto removed = storage.remove(*key);
  REQUIRE(removed);
  CHECK(removed->removed == stored);
  CHECK(s.objects() == 0);
}

TEST_CASE("parity: bad shapes are refused before anything is stored") {
  Stores s(3);
  std::ofstream(s.root / "in.bin") << "z";
  CHECK_FALSE(Storage(striped(s, 3, 3)).upload((s.root / "in.bin").string()));
  Options one;
  one.backend = "dir:" + s.store(0).string();
  one.parity = 1;
  CHECK_FALSE(Storage(one).upload((s.root / "in.bin").string()));
  Options many = striped(s, 3, 1);
  while (many.backends.size() <= 16) many.backends.push_back(many.backends[0]);
  CHECK_FALSE(Storage(many).upload((s.root / "in.bin").string()));
  CHECK(s.objects() == 0);
}
