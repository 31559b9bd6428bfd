// Where a tree pull writes: under DIR and never outside it, whatever the
// tree says. Every path is resolved from DIR's descriptor one component at a
// time with O_NOFOLLOW (a symlink anywhere on the way, one the tree made
// included, is an error, never followed); files are written to temp files
// beside their final name and renamed into place only when the whole pull
// is verified; symlinks are made last. Nothing existing is replaced unless
// `force` (and a directory never is). What a failed pull made is removed.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "codec/tree_entries.h"
#include "engine/core/unique_fd.h"
#include "sx/error.h"

namespace sx::engine {

class TreeOutput {
 public:
  // DIR is made when missing (its parent must exist).
  static Result<TreeOutput> open(const std::string& dir, bool force, bool fsync);
  TreeOutput(TreeOutput&&) noexcept = default;
  ~TreeOutput();  // not committed: removes its temp files and the directories it made

  // Before any byte is fetched: the directories made (mode 0700 while the
  // pull runs), each file's and link's name checked free (unless force).
  // `entries` in tree order.
  Status prepare(const std::vector<const codec::TreeEntry*>& entries);

  // One file at a time, its bytes in order.
  Status begin_file(const codec::TreeEntry& entry);
  Status write(std::span<const std::byte> bytes);
  Status end_file();

  // Files renamed into place (mode without setuid/setgid, mtime), then the
  // symlinks made, then the directories this pull made given their mode and
  // mtime, deepest first.
  Status commit();

  const std::string& dir() const { return dir_; }

 private:
  TreeOutput(UniqueFd root, std::string dir, bool force, bool fsync)
      : root_(std::move(root)), dir_(std::move(dir)), force_(force), fsync_(fsync) {}
  // The directory holding `path` (its last component excluded), opened from
  // the root with O_NOFOLLOW at every step.
  Result<UniqueFd> parent_of(std::string_view path);
  Error failure(const std::string& what, std::string_view path) const;

  struct Written {
    const codec::TreeEntry* entry;
    std::string temp;  // its name in the entry's directory
  };
  UniqueFd root_;
  std::string dir_;
  bool force_ = false;
  bool fsync_ = false;
  bool committed_ = false;
  std::vector<const codec::TreeEntry*> made_dirs_;  // in tree order
  std::vector<const codec::TreeEntry*> links_;
  std::vector<Written> files_;
  UniqueFd current_;  // the file being written
  UniqueFd current_parent_;
};

}  // namespace sx::engine
