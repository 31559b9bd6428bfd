// Tests engine/pull/ordered_hasher.cc: the SHA-256 of a file whose pieces land in
// any order equals the SHA-256 of the whole file.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <numeric>
#include <random>
#include <thread>
#include <vector>

#include "codec/checksum.h"
#include "engine/pull/ordered_hasher.h"

using namespace sx;
using namespace sx::engine;

namespace {

// A file in memory cut into pieces of uneven sizes; one is larger than the
// hasher's 4 MiB read-back scratch, so it is read back in more than one go.
struct PiecedFile {
  PiecedFile() {
    const std::vector<std::uint64_t> sizes = {1, 4096, 1000, (5u << 20) + 3, 77, 65536, 12345, 1};
    std::uint64_t offset = 0;
    for (std::uint64_t i = 0; i < sizes.size(); ++i) {
      codec::PieceEntry entry;
      entry.index = i;
      entry.key = "mem:" + std::to_string(i);
      entry.offset = offset;
      entry.size = sizes[i];
      pieces.push_back(entry);
      offset += sizes[i];
    }
    bytes.resize(offset);
    std::mt19937 rng(42);
    for (std::byte& b : bytes) b = static_cast<std::byte>(rng());
  }

  std::span<const std::byte> payload(std::uint64_t index) const {
    return std::span<const std::byte>(bytes).subspan(pieces[index].offset, pieces[index].size);
  }

  OrderedHasher::ReadBack read_back() {
    return [this](std::uint64_t offset, std::span<std::byte> out) -> Status {
      ++reads;
      if (offset + out.size() > bytes.size()) return make_error(Errc::kIo, "read past the end");
      std::memcpy(out.data(), bytes.data() + offset, out.size());
      return {};
    };
  }

  std::vector<codec::PieceEntry> pieces;
  std::vector<std::byte> bytes;
  std::atomic<int> reads{0};
};

codec::Sha256Digest hash_in_order(PiecedFile& file, const std::vector<std::uint64_t>& order) {
  OrderedHasher hasher(file.pieces, file.read_back());
  for (const std::uint64_t index : order) REQUIRE(hasher.landed(index, file.payload(index)));
  auto digest = hasher.finish();
  REQUIRE_MESSAGE(digest, digest.error().message);
  return *digest;
}

std::vector<std::uint64_t> indices(const PiecedFile& file) {
  std::vector<std::uint64_t> order(file.pieces.size());
  std::iota(order.begin(), order.end(), 0);
  return order;
}

}  // namespace

TEST_CASE("ordered hasher: pieces in order are hashed from memory") {
  PiecedFile file;
  const codec::Sha256Digest expected = codec::sha256(file.bytes);
  CHECK(hash_in_order(file, indices(file)) == expected);
  CHECK(file.reads == 0);
}

TEST_CASE("ordered hasher: pieces in reverse order give the whole file's SHA-256") {
  PiecedFile file;
  auto order = indices(file);
  std::reverse(order.begin(), order.end());
  CHECK(hash_in_order(file, order) == codec::sha256(file.bytes));
  CHECK(file.reads > 0);  // the early pieces were read back
}

TEST_CASE("ordered hasher: shuffled orders give the whole file's SHA-256") {
  PiecedFile file;
  const codec::Sha256Digest expected = codec::sha256(file.bytes);
  std::mt19937 rng(7);
  for (int round = 0; round < 10; ++round) {
    auto order = indices(file);
    std::shuffle(order.begin(), order.end(), rng);
    CAPTURE(round);
    CHECK(hash_in_order(file, order) == expected);
  }
}

TEST_CASE("ordered hasher: pieces landing from several threads at once") {
  PiecedFile file;
  const codec::Sha256Digest expected = codec::sha256(file.bytes);
  std::mt19937 rng(11);
  for (int round = 0; round < 20; ++round) {
    auto order = indices(file);
    std::shuffle(order.begin(), order.end(), rng);
    OrderedHasher hasher(file.pieces, file.read_back());
    std::atomic<std::size_t> next{0};
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
      threads.emplace_back([&] {
        for (std::size_t i = next++; i < order.size(); i = next++)
          if (!hasher.landed(order[i], file.payload(order[i]))) ++failures;
      });
    for (std::thread& t : threads) t.join();
    CHECK(failures == 0);
    auto digest = hasher.finish();
    REQUIRE(digest);
    CAPTURE(round);
    CHECK(*digest == expected);
  }
}

TEST_CASE("ordered hasher: a missing piece or a failed read-back is an error") {
  PiecedFile file;
  {
    OrderedHasher hasher(file.pieces, file.read_back());
    for (std::uint64_t i = 0; i < file.pieces.size(); ++i)
      if (i != 2) REQUIRE(hasher.landed(i, file.payload(i)));
    auto digest = hasher.finish();
    REQUIRE_FALSE(digest);
    CHECK(digest.error().code == Errc::kIo);
  }
  {
    OrderedHasher hasher(file.pieces, [](std::uint64_t, std::span<std::byte>) -> Status {
      return make_error(Errc::kIo, "test: disk gone");
    });
    REQUIRE(hasher.landed(1, file.payload(1)));  // early: kept for read-back
    auto landed = hasher.landed(0, file.payload(0));
    REQUIRE_FALSE(landed);
    CHECK(landed.error().message == "test: disk gone");
  }
}
