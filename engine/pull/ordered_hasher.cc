#include "engine/pull/ordered_hasher.h"

namespace sx::engine {

OrderedHasher::OrderedHasher(const std::vector<codec::PieceEntry>& pieces, ReadBack read_back)
    : pieces_(pieces), read_back_(std::move(read_back)), written_(pieces.size(), 0) {}

Status OrderedHasher::landed(std::uint64_t index, std::span<const std::byte> payload) {
  std::unique_lock lock(mutex_);
  written_[index] = 1;
  if (busy_ || index != next_) return {};
  busy_ = true;
  lock.unlock();
  sha_.update(payload);
  lock.lock();
  ++next_;
  return drain(lock);
}

Status OrderedHasher::written(std::uint64_t index) {
  std::unique_lock lock(mutex_);
  written_[index] = 1;
  if (busy_) return {};
  busy_ = true;
  return drain(lock);
}

Status OrderedHasher::drain(std::unique_lock<std::mutex>& lock) {
  while (next_ < pieces_.size() && written_[next_]) {
    const codec::PieceEntry& piece = pieces_[next_];
    lock.unlock();
    if (scratch_.empty()) scratch_.resize(std::size_t{4} << 20);
    for (std::uint64_t at = 0; at < piece.size;) {
      const std::size_t n = std::min<std::uint64_t>(scratch_.size(), piece.size - at);
      if (auto read = read_back_(piece.offset + at, std::span(scratch_).first(n)); !read) {
        lock.lock();
        busy_ = false;
        return read;
      }
      sha_.update(std::span<const std::byte>(scratch_).first(n));
      at += n;
    }
    lock.lock();
    ++next_;
  }
  busy_ = false;
  return {};
}

Result<codec::Sha256Digest> OrderedHasher::finish() {
  std::unique_lock lock(mutex_);
  busy_ = true;
  if (auto drained = drain(lock); !drained) return std::move(drained).error();
  if (next_ != pieces_.size()) return make_error(Errc::kIo, "not every piece was written");
  return sha_.finish();
}

}  // namespace sx::engine
