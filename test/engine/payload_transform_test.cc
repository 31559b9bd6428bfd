// Tests engine/core/payload_transform.cc: the hot path of --level > 0 builds its
// deflating writer once per transform, not once per piece.
#include <doctest/doctest.h>

#include <cstdlib>
#include <new>
#include <vector>

#include "codec/piece_writer.h"
#include "engine/core/payload_transform.h"

// Counting operator new for this binary (not under ASan, which owns it).
#if !defined(__SANITIZE_ADDRESS__)
namespace {
thread_local bool t_counting = false;
thread_local long t_allocations = 0;
}  // namespace
void* operator new(std::size_t n) {
  if (t_counting) ++t_allocations;
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return operator new(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
#define SX_COUNTS_ALLOCATIONS 1
#endif

using namespace sx;

TEST_CASE("a deflating piece writer is built once per transform, not per piece") {
  const codec::Geometry geometry{512, 64};
  std::vector<std::byte> payload(20000, std::byte{7});  // compressible
  std::vector<std::byte> png(codec::max_png_bytes(geometry));
  engine::PayloadTransform transform(std::nullopt);
  for (int round = 0; round < 3; ++round) {
#ifdef SX_COUNTS_ALLOCATIONS
    t_allocations = 0;
    t_counting = true;
#endif
    codec::PieceHeader header;
    header.piece_index = static_cast<std::uint64_t>(round);
    auto written = transform.write_deflated_piece(6, header, {0, header.piece_index}, payload, false, geometry, png);
#ifdef SX_COUNTS_ALLOCATIONS
    t_counting = false;
    if (round > 0) CHECK(t_allocations == 0);  // the first piece builds the writer; later ones reuse it
#endif
    REQUIRE(written);
    CHECK(*written < payload.size());  // really deflated
  }
}
