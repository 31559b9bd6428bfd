#include "gateway/piece_cache.h"

#include <doctest/doctest.h>

#include <atomic>
#include <thread>

using sx::gateway::PieceCache;
using namespace std::chrono_literals;

namespace {

auto soon() { return PieceCache::Clock::now() + 50ms; }

// What the fetcher does: start, fill, complete.
void fetch(PieceCache& cache, PieceCache::Entry& entry, std::byte value) {
  auto buffer = cache.start(entry, [] {});
  REQUIRE(buffer);
  for (std::byte& b : *buffer) b = value;
  cache.complete(entry);
}

}  // namespace

TEST_CASE("PieceCache shares one fetch between readers and keeps the piece") {
  PieceCache cache(1000);
  auto a = cache.acquire("f:0", 100, PieceCache::Want::kNow, soon());
  REQUIRE(a.pin);
  REQUIRE(a.fetch);
  auto b = cache.acquire("f:0", 100, PieceCache::Want::kNow, soon());
  REQUIRE(b.pin);
  CHECK_FALSE(b.fetch);  // the second reader waits on the first one's fetch
  fetch(cache, *a.fetch, std::byte{7});
  REQUIRE(b.pin.wait_for(0ms));
  auto payload = b.pin.payload();
  REQUIRE(payload);
  CHECK(payload->size() == 100);
  CHECK((*payload)[99] == std::byte{7});
  a.pin.reset();
  b.pin.reset();
  CHECK(cache.entries() == 1);  // kept for the next reader
  auto c = cache.acquire("f:0", 100, PieceCache::Want::kNow, soon());
  CHECK_FALSE(c.fetch);
  CHECK(cache.hits() == 2);
}

TEST_CASE("PieceCache never holds more than its capacity and evicts the least recently used") {
  PieceCache cache(1000);
  for (int i = 0; i < 10; ++i) {
    auto got = cache.acquire("f:" + std::to_string(i), 300, PieceCache::Want::kNow, soon());
    REQUIRE(got.pin);
    REQUIRE(got.fetch);
    fetch(cache, *got.fetch, std::byte{1});
    CHECK(cache.used_bytes() + cache.spare_bytes() <= 1000);
  }
  CHECK(cache.entries() == 3);
  CHECK(cache.acquire("f:9", 300, PieceCache::Want::kNow, soon()).fetch == nullptr);  // the newest stayed
  CHECK(cache.acquire("f:0", 300, PieceCache::Want::kNow, soon()).fetch != nullptr);  // the oldest went
}

TEST_CASE("PieceCache: pinned pieces are never evicted; kNow waits, then gives up") {
  PieceCache cache(1000);
  auto a = cache.acquire("f:0", 600, PieceCache::Want::kNow, soon());
  fetch(cache, *a.fetch, std::byte{1});
  auto b = cache.acquire("f:1", 600, PieceCache::Want::kNow, PieceCache::Clock::now() + 30ms);
  CHECK_FALSE(b.pin);  // a is held: no room
  REQUIRE(b.refused);
  CHECK(b.refused->code == sx::Errc::kTransient);
  // Room freed while a reader waits: it gets it.
  std::thread release([&] {
    std::this_thread::sleep_for(20ms);
    a.pin.reset();
  });
  auto c = cache.acquire("f:1", 600, PieceCache::Want::kNow, PieceCache::Clock::now() + 5s);
  release.join();
  CHECK(c.pin);
  CHECK(cache.used_bytes() == 600);
}

TEST_CASE("PieceCache: read-ahead keeps a quarter free for readers that wait") {
  PieceCache cache(1000);
  auto a = cache.acquire("f:0", 500, PieceCache::Want::kAhead, soon());
  REQUIRE(a.pin);
  auto b = cache.acquire("f:1", 300, PieceCache::Want::kAhead, soon());
  CHECK_FALSE(b.pin);  // 800 > 750
  auto c = cache.acquire("f:1", 300, PieceCache::Want::kNow, soon());
  CHECK(c.pin);
}

TEST_CASE("PieceCache: the last pin of a piece being fetched cancels the fetch and frees its room") {
  PieceCache cache(1000);
  std::atomic<int> cancelled{0};
  auto a = cache.acquire("f:0", 400, PieceCache::Want::kNow, soon());
  auto b = cache.acquire("f:0", 400, PieceCache::Want::kNow, soon());
  REQUIRE(cache.start(*a.fetch, [&] { ++cancelled; }));
  a.pin.reset();
  CHECK(cancelled == 0);  // b still wants it
  b.pin.reset();
  CHECK(cancelled == 1);
  CHECK(cache.entries() == 0);
  CHECK(cache.used_bytes() == 400);  // the fetch still writes into its buffer
  cache.fail(*a.fetch, sx::Error{sx::Errc::kCancelled, "cancelled"});
  CHECK(cache.used_bytes() == 0);
  CHECK(cache.spare_bytes() == 400);  // its buffer, kept for the next piece of that size
  // A piece abandoned before its fetch began is skipped by the fetcher.
  auto d = cache.acquire("f:1", 400, PieceCache::Want::kNow, soon());
  auto entry = d.fetch;
  d.pin.reset();
  CHECK(cache.used_bytes() == 0);
  CHECK_FALSE(cache.start(*entry, [] {}));
}

TEST_CASE("PieceCache: a failed piece is reported to its readers and not kept") {
  PieceCache cache(1000);
  auto a = cache.acquire("f:0", 100, PieceCache::Want::kNow, soon());
  REQUIRE(cache.start(*a.fetch, [] {}));
  cache.fail(*a.fetch, sx::Error{sx::Errc::kNotFound, "piece 0: 404"});
  REQUIRE(a.pin.wait_for(0ms));
  auto payload = a.pin.payload();
  REQUIRE_FALSE(payload);
  CHECK(payload.error().code == sx::Errc::kNotFound);
  a.pin.reset();
  CHECK(cache.acquire("f:0", 100, PieceCache::Want::kNow, soon()).fetch != nullptr);  // tried again
}

TEST_CASE("PieceCache refuses a piece larger than the whole cache") {
  PieceCache cache(1000);
  auto a = cache.acquire("f:0", 1001, PieceCache::Want::kNow, soon());
  CHECK_FALSE(a.pin);
  REQUIRE(a.refused);
  CHECK(a.refused->code == sx::Errc::kLimit);
}

TEST_CASE("PieceCache reuses the buffer of an evicted piece of the same size") {
  PieceCache cache(1000);
  auto a = cache.acquire("f:0", 600, PieceCache::Want::kNow, soon());
  fetch(cache, *a.fetch, std::byte{9});
  a.pin.reset();
  auto b = cache.acquire("f:1", 600, PieceCache::Want::kNow, soon());  // evicts f:0
  REQUIRE(b.fetch);
  CHECK(cache.spare_bytes() == 0);  // f:0's buffer went to f:1, not to a spare
  CHECK(cache.used_bytes() == 600);
  fetch(cache, *b.fetch, std::byte{3});
  REQUIRE(b.pin.wait_for(0ms));
  CHECK((*b.pin.payload())[0] == std::byte{3});
  // A piece of another size frees spares until it fits.
  b.pin.reset();
  auto c = cache.acquire("f:2", 900, PieceCache::Want::kNow, soon());
  REQUIRE(c.pin);
  CHECK(cache.used_bytes() + cache.spare_bytes() <= 1000);
}
