// SHA-256 of a file whose pieces land in any order: a piece that arrives in
// order is hashed from memory by the worker that landed it; pieces that came
// early are hashed later by reading them back (from the page cache).
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <span>
#include <vector>

#include "codec/checksum.h"
#include "codec/manifest.h"
#include "sx/error.h"

namespace sx::engine {

class OrderedHasher {
 public:
  // `read_back(offset, out)` fills `out` from the written file.
  using ReadBack = std::function<Status(std::uint64_t offset, std::span<std::byte> out)>;
  OrderedHasher(const std::vector<codec::PieceEntry>& pieces, ReadBack read_back);

  // Any thread, after piece `index` is written; `payload` is its bytes.
  Status landed(std::uint64_t index, std::span<const std::byte> payload);
  // Piece `index` is in the file already (a resumed pull): it is hashed by
  // reading it back when its turn comes.
  Status written(std::uint64_t index);
  // After every piece landed: the digest (hashes any stragglers first).
  Result<codec::Sha256Digest> finish();

 private:
  Status drain(std::unique_lock<std::mutex>& lock);  // hashes written pieces from next_

  const std::vector<codec::PieceEntry>& pieces_;
  ReadBack read_back_;
  std::mutex mutex_;  // guards next_, written_, busy_; sha_ is used only by the busy thread
  std::size_t next_ = 0;
  std::vector<char> written_;
  bool busy_ = false;
  codec::Sha256 sha_;
  std::vector<std::byte> scratch_;
};

}  // namespace sx::engine
