// A tree key's entries (docs/FORMAT.md §11): every file, directory and
// symlink of a pushed tree, with where each file's bytes lie in the tree's
// stream (the files' bytes back to back, cut into the manifest's pieces).
// The rules here are what makes a stranger's tree safe to recreate: relative
// paths of plain components only, each once, in one order, every parent a
// directory of the tree, every file inside the stream.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sx/error.h"

namespace sx::codec {

enum class EntryType : std::uint8_t { kFile, kDirectory, kSymlink };

struct TreeEntry {
  std::string path;  // relative, '/'-separated, bytes as on disk
  EntryType type = EntryType::kFile;
  std::uint32_t mode = 0;     // permission bits (07777)
  std::int64_t mtime_ns = 0;  // since the epoch
  std::uint64_t size = 0;     // a file's bytes
  std::uint64_t offset = 0;   // a file's first byte in the stream
  std::string target;         // a symlink's target, as stored (never followed on push)
  bool duplicate = false;     // a file whose bytes are an earlier file's (same offset and size): none of its own
};

inline constexpr std::size_t kMaxTreePath = 4096;
inline constexpr std::size_t kMaxTreeComponent = 255;

std::string_view entry_type_name(EntryType type);

// The `,"tree":[…]` member of a manifest: paths and targets that are not
// UTF-8 also go byte for byte in hex (path_hex, target_hex), as names do.
std::string tree_json(const std::vector<TreeEntry>& entries);

// A path of the tree: not empty, at most kMaxTreePath bytes, no leading or
// doubled '/', no "." or ".." component, no NUL, components of at most
// kMaxTreeComponent bytes. The error says which rule it breaks.
Status check_tree_path(std::string_view path);

// The whole list: each path valid, strictly increasing in byte order (so
// none twice), every parent an earlier directory entry, the files' bytes
// back to back in entry order filling the stream of `stream_size` bytes
// exactly (a duplicate takes no bytes: its offset and size are those of an
// earlier file that is not one, and it is not empty), modes at most 07777, targets of 1 to kMaxTreePath bytes without NUL.
Status check_tree_entries(const std::vector<TreeEntry>& entries, std::uint64_t stream_size);

}  // namespace sx::codec
