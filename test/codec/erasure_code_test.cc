// Tests codec/erasure_code.cc: every erasure pattern of up to `parity`
// shards, for small stripes, rebuilds the exact bytes.
#include <doctest/doctest.h>

#include <random>
#include <vector>

#include "codec/erasure_code.h"

using namespace sx;
using namespace sx::codec;

TEST_CASE("erasure code rebuilds every pattern of up to K lost shards") {
  std::minstd_rand rng(15);
  for (int d = 1; d <= 5; ++d) {
    for (int k = 1; k <= 3; ++k) {
      auto code = ErasureCode::create(d, k);
      REQUIRE(code);
      for (std::size_t bytes : {std::size_t{1}, std::size_t{31}, std::size_t{64}, std::size_t{1000}}) {
        const int n = d + k;
        std::vector<std::vector<std::byte>> original(n, std::vector<std::byte>(bytes));
        for (int i = 0; i < d; ++i)
          for (auto& b : original[i]) b = std::byte(rng());
        std::vector<const std::byte*> data;
        std::vector<std::byte*> parity;
        for (int i = 0; i < d; ++i) data.push_back(original[i].data());
        for (int i = d; i < n; ++i) parity.push_back(original[i].data());
        code->encode(data, parity, bytes);
        for (unsigned mask = 1; mask < (1u << n); ++mask) {
          if (__builtin_popcount(mask) > k) continue;
          CAPTURE(d);
          CAPTURE(k);
          CAPTURE(bytes);
          CAPTURE(mask);
          std::vector<std::vector<std::byte>> shards = original;
          std::vector<std::byte*> pointers;
          bool present[kMaxStripeShards];
          for (int i = 0; i < n; ++i) {
            present[i] = !(mask & (1u << i));
            if (!present[i]) std::fill(shards[i].begin(), shards[i].end(), std::byte{0xee});
            pointers.push_back(shards[i].data());
          }
          REQUIRE(code->reconstruct(pointers, std::span<const bool>(present, n), bytes));
          CHECK(shards == original);
        }
      }
    }
  }
}

TEST_CASE("update() shard by shard, short shards zero-padded, equals encode()") {
  auto code = ErasureCode::create(3, 2);
  REQUIRE(code);
  std::vector<std::vector<std::byte>> data(3, std::vector<std::byte>(100));
  for (int i = 0; i < 3; ++i)
    for (std::size_t j = 0; j < 100; ++j) data[i][j] = std::byte((i * 37 + j * 11) & 0xff);
  std::fill(data[2].begin() + 40, data[2].end(), std::byte{0});  // shard 2 is 40 bytes, padded
  std::vector<std::vector<std::byte>> want(2, std::vector<std::byte>(100)), got(2, std::vector<std::byte>(100));
  const std::byte* d[] = {data[0].data(), data[1].data(), data[2].data()};
  std::byte* w[] = {want[0].data(), want[1].data()};
  std::byte* g[] = {got[0].data(), got[1].data()};
  code->encode(d, w, 100);
  code->update(1, data[1], g);
  code->update(0, data[0], g);
  code->update(2, std::span(data[2]).first(40), g);
  CHECK(got == want);
}

TEST_CASE("erasure code refuses more losses than parity, and bad shapes") {
  auto code = ErasureCode::create(2, 1);
  REQUIRE(code);
  std::vector<std::byte> a(8), b(8), c(8);
  std::byte* shards[] = {a.data(), b.data(), c.data()};
  const bool present[] = {true, false, false};
  auto r = code->reconstruct(shards, present, 8);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Errc::kCorrupt);
  CHECK_FALSE(ErasureCode::create(0, 1));
  CHECK_FALSE(ErasureCode::create(2, 0));
  CHECK_FALSE(ErasureCode::create(60, 5));
}
