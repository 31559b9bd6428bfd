// One response's reader of a byte range: the pieces that cover it, taken from
// the shared cache or fetched, in order, with a read-ahead window that grows
// while the reader keeps reading sequentially. Pieces outside the range are
// never asked for. Dropping the reader drops its pins, which cancels the
// fetches nobody else wants.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>

#include "gateway/byte_range.h"
#include "gateway/piece_cache.h"
#include "gateway/piece_fetcher.h"
#include "sx/error.h"

namespace sx::gateway {

class RangeReader {
 public:
  // `read_ahead`: pieces beyond the current one fetched early, at most.
  // `wait_limit`: how long a piece may take before the response fails.
  RangeReader(PieceCache& cache, PieceFetcher& fetcher, std::shared_ptr<const OpenedFile> file, ByteRange range,
              int read_ahead, std::chrono::seconds wait_limit);

  // Copies bytes from `position` (counted from the range's first byte) into
  // `out`, at most to the end of the piece that holds them; blocks until that
  // piece is here. 0 past the range's end. `gone` is asked every 100 ms while
  // waiting: true (the client left, the gateway stops) fails with kCancelled.
  Result<std::size_t> read(std::uint64_t position, std::span<std::byte> out, const std::function<bool()>& gone);

  // The index of the piece holding byte `offset` of the file.
  std::uint64_t piece_of(std::uint64_t offset) const;

 private:
  Status want(std::uint64_t index, PieceCache::Want want);

  PieceCache& cache_;
  PieceFetcher& fetcher_;
  std::shared_ptr<const OpenedFile> file_;
  ByteRange range_;
  std::uint64_t last_piece_ = 0;
  int read_ahead_;
  std::chrono::seconds wait_limit_;
  int pieces_read_ = 0;  // finished in order: widens the read-ahead up to read_ahead_
  std::map<std::uint64_t, PieceCache::Pin> pins_;  // by piece index: the current piece and those ahead
};

}  // namespace sx::gateway
