#include "gateway/range_reader.h"

#include <algorithm>
#include <cstring>
#include <string>

namespace sx::gateway {

RangeReader::RangeReader(PieceCache& cache, PieceFetcher& fetcher, std::shared_ptr<const OpenedFile> file,
                         ByteRange range, int read_ahead, std::chrono::seconds wait_limit)
    : cache_(cache), fetcher_(fetcher), file_(std::move(file)), range_(range), read_ahead_(std::max(0, read_ahead)),
      wait_limit_(wait_limit) {
  last_piece_ = piece_of(range_.last);
}

std::uint64_t RangeReader::piece_of(std::uint64_t offset) const {
  const auto& pieces = file_->manifest().pieces;
  // Offsets are contiguous and sorted (parse_manifest checks it).
  auto it = std::upper_bound(pieces.begin(), pieces.end(), offset,
                             [](std::uint64_t value, const codec::PieceEntry& p) { return value < p.offset; });
  return it == pieces.begin() ? 0 : static_cast<std::uint64_t>(it - pieces.begin() - 1);
}

Status RangeReader::want(std::uint64_t index, PieceCache::Want want) {
  if (pins_.count(index)) return {};
  const codec::PieceEntry& piece = file_->manifest().pieces[index];
  const auto deadline = PieceCache::Clock::now() + wait_limit_;
  PieceCache::Acquired got = cache_.acquire(file_->id() + ":" + std::to_string(index), piece.size, want, deadline);
  if (!got.pin) return got.refused ? *got.refused : Error{Errc::kLimit, "no room in the piece cache"};
  if (got.fetch) fetcher_.submit(file_, index, std::move(got.fetch), want == PieceCache::Want::kNow);
  pins_.emplace(index, std::move(got.pin));
  return {};
}

Result<std::size_t> RangeReader::read(std::uint64_t position, std::span<std::byte> out,
                                      const std::function<bool()>& gone) {
  if (position >= range_.length() || out.empty()) return std::size_t{0};
  const std::uint64_t offset = range_.first + position;
  const std::uint64_t index = piece_of(offset);
  // Pieces behind the reader are let go (they stay cached if there is room).
  while (!pins_.empty() && pins_.begin()->first < index) {
    pins_.erase(pins_.begin());
    ++pieces_read_;
  }
  if (auto wanted = want(index, PieceCache::Want::kNow); !wanted) return std::move(wanted).error();
  const std::uint64_t ahead = static_cast<std::uint64_t>(std::min(read_ahead_, pieces_read_ + 1));
  for (std::uint64_t next = index + 1; next <= last_piece_ && next <= index + ahead; ++next)
    if (!want(next, PieceCache::Want::kAhead)) break;  // no room: read-ahead waits for the next call

  const PieceCache::Pin& pin = pins_.at(index);
  const auto deadline = std::chrono::steady_clock::now() + wait_limit_;
  while (!pin.wait_for(std::chrono::milliseconds(100))) {
    if (gone()) return make_error(Errc::kCancelled, "the client went away");
    if (std::chrono::steady_clock::now() > deadline)
      return make_error(Errc::kTransient, "piece " + std::to_string(index) + " took longer than " +
                                              std::to_string(wait_limit_.count()) + " s");
  }
  auto payload = pin.payload();
  if (!payload) return std::move(payload).error();
  const codec::PieceEntry& piece = file_->manifest().pieces[index];
  const std::uint64_t within = offset - piece.offset;
  const std::uint64_t piece_left = payload->size() - within;
  const std::uint64_t range_left = range_.last - offset + 1;
  const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>({out.size(), piece_left, range_left}));
  std::memcpy(out.data(), payload->data() + within, n);
  return n;
}

}  // namespace sx::gateway
