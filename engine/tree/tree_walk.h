// A tree push's first stage: the PATHs walked into the tree's entries
// (docs/FORMAT.md §11), in the one order the format requires (byte order of
// the paths, so a parent before its children), each file given its place in
// the stream. Symlinks are stored as links, not followed (unless asked);
// devices, sockets and FIFOs are skipped with a note; a hard link is stored
// as the file it is, once per name.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "codec/tree_entries.h"
#include "engine/core/cancel_token.h"
#include "sx/error.h"

namespace sx::engine {

struct WalkedTree {
  std::vector<codec::TreeEntry> entries;
  // Where each file entry's bytes are read from, in stream order.
  struct Source {
    std::string path;  // on disk
    std::uint64_t size = 0;
    std::int64_t mtime_ns = 0;
  };
  std::vector<Source> sources;
  std::vector<Source> duplicate_sources;  // files stored once already (tree_dedup.h)
  std::uint64_t stream_bytes = 0;
  std::uint64_t skipped = 0;  // special files left out
};

struct WalkOptions {
  bool follow_symlinks = false;  // -L: store what links point to (a loop is an error)
  std::function<void(const std::string&)> note;
};

// Each PATH (a file, a directory, a symlink) becomes a top-level entry named
// by its last component; two PATHs of one name are refused.
Result<WalkedTree> walk_tree(const std::vector<std::string>& paths, const WalkOptions& options,
                             const CancelToken& cancel);

}  // namespace sx::engine
