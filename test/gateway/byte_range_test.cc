#include "gateway/byte_range.h"

#include <doctest/doctest.h>

#include <string>

using sx::gateway::parse_range;
using sx::gateway::RangeKind;

namespace {

void check_single(const char* header, std::uint64_t size, std::uint64_t first, std::uint64_t last) {
  CAPTURE(header);
  const auto a = parse_range(header, size);
  REQUIRE(a.kind == RangeKind::kSingle);
  CHECK(a.range.first == first);
  CHECK(a.range.last == last);
}

}  // namespace

// The examples of RFC 9110 §14.1.2, on its 10000-byte representation.
TEST_CASE("parse_range follows RFC 9110's examples") {
  check_single("bytes=0-499", 10000, 0, 499);
  check_single("bytes=500-999", 10000, 500, 999);
  check_single("bytes=-500", 10000, 9500, 9999);
  check_single("bytes=9500-", 10000, 9500, 9999);
  check_single("bytes=0-0", 10000, 0, 0);
  check_single("bytes=-1", 10000, 9999, 9999);
}

TEST_CASE("parse_range clamps and tolerates what RFC 9110 allows") {
  check_single("bytes=100-999999", 1000, 100, 999);       // last-pos past the end
  check_single("bytes=-5000", 1000, 0, 999);              // suffix longer than the file
  check_single("BYTES = 1-2", 10, 1, 2);                  // unit case, whitespace
  check_single("bytes=0-99999999999999999999999", 10, 0, 9);  // a last-pos past 2^64
}

TEST_CASE("parse_range: unsatisfiable ranges get 416") {
  CHECK(parse_range("bytes=1000-", 1000).kind == RangeKind::kUnsatisfiable);
  CHECK(parse_range("bytes=1000-2000", 1000).kind == RangeKind::kUnsatisfiable);
  CHECK(parse_range("bytes=-0", 1000).kind == RangeKind::kUnsatisfiable);
  CHECK(parse_range("bytes=0-", 0).kind == RangeKind::kUnsatisfiable);
  CHECK(parse_range("bytes=-1", 0).kind == RangeKind::kUnsatisfiable);
  CHECK(parse_range("bytes=99999999999999999999999-", 10).kind == RangeKind::kUnsatisfiable);
}

TEST_CASE("parse_range ignores what it does not serve: the whole file") {
  for (const char* h : {"", "bytes", "bytes=", "bytes=-", "bytes=5-3", "bytes=a-b", "bytes=1-2x", "items=0-1",
                        "bytes=0-1,5-6", "bytes=+1-2", "bytes=1--2", "bytes=- 1x"}) {
    CAPTURE(h);
    CHECK(parse_range(h, 1000).kind == RangeKind::kWhole);
  }
  CHECK(parse_range(std::string(sx::gateway::kMaxRangeHeaderBytes + 1, ' '), 1000).kind == RangeKind::kWhole);
}
