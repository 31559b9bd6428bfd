// The Range header of a GET (RFC 9110 §14.1.2, §14.2), resolved against a
// file's size. Pure: no I/O, unit-tested in test/gateway/byte_range_test.cc.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace sx::gateway {

// A header longer than this is ignored (the whole file is answered): a
// range request has no reason to be long, and nothing is parsed from it.
inline constexpr std::size_t kMaxRangeHeaderBytes = 1024;

// Bytes [first, last] of the file, both inclusive, as Content-Range says.
struct ByteRange {
  std::uint64_t first = 0;
  std::uint64_t last = 0;
  std::uint64_t length() const { return last - first + 1; }
};

enum class RangeKind {
  kWhole,          // no usable Range: 200 with the whole file
  kSingle,         // 206 with `range`
  kUnsatisfiable,  // 416 with Content-Range: bytes */size
};

struct RangeAnswer {
  RangeKind kind = RangeKind::kWhole;
  ByteRange range;
};

// `header` is the Range header's value ("" when absent). Malformed values,
// other units and multi-range requests ("bytes=0-1,5-6") get kWhole: RFC 9110
// lets a server ignore Range, and the gateway does not build
// multipart/byteranges (docs/GATEWAY.md §Ranges). A last-pos past the end is
// clamped; a first-pos at or past the end, "-0", and any range of an empty
// file are kUnsatisfiable.
RangeAnswer parse_range(std::string_view header, std::uint64_t size);

}  // namespace sx::gateway
