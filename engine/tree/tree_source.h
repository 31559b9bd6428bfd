// A tree push's payloads: every file of the walk read in stream order, back
// to back, cut into pieces of the plan's size (small files share a piece).
// Each file is opened when its turn comes (no link followed unless the walk
// followed them) and must still be the file the walk saw: a regular file of
// the same size and modification time, yielding exactly its size.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "engine/core/cancel_token.h"
#include "engine/core/unique_fd.h"
#include "engine/push/uploader.h"
#include "engine/tree/tree_walk.h"

namespace sx::engine {

// A file of the walk opened (no link followed unless `follow_symlinks`) and
// checked to be what the walk saw: kIo "changed while it was pushed" else.
Result<UniqueFd> open_walked_file(const WalkedTree::Source& file, bool follow_symlinks);
// `fd` is still a regular file of the walked size and modification time.
bool still_as_walked(int fd, const WalkedTree::Source& file);

class TreeSource final : public PayloadSource {
 public:
  // `on_read(i)`: file i (in stream order) was read to its end (progress).
  TreeSource(const std::vector<WalkedTree::Source>& files, std::size_t piece_bytes, bool follow_symlinks,
             const CancelToken& cancel, std::function<void(std::size_t)> on_read)
      : files_(files), piece_bytes_(piece_bytes), follow_(follow_symlinks), cancel_(cancel), on_read_(std::move(on_read)) {}
  Result<std::optional<std::span<const std::byte>>> next(std::span<std::byte> scratch) override;
  bool needs_scratch() const override { return true; }
  std::uint64_t files_read() const { return next_file_; }

 private:
  Status open_next();
  Status close_current();

  const std::vector<WalkedTree::Source>& files_;
  std::size_t piece_bytes_;
  bool follow_;
  const CancelToken& cancel_;
  std::function<void(std::size_t)> on_read_;
  std::size_t next_file_ = 0;  // the one after the open one
  UniqueFd current_;
  std::uint64_t remaining_ = 0;  // of the open file
};

}  // namespace sx::engine
