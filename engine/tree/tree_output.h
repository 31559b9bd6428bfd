// Where a tree pull writes: under DIR and never outside it, whatever the
// tree says. Every path is resolved from DIR's descriptor one component at a
// time with O_NOFOLLOW (a symlink anywhere on the way, one the tree made
// included, is an error, never followed); files are written to temp files
// beside their final name and renamed into place only when the whole pull
// is verified; symlinks are made last. Nothing existing is replaced unless
// `force` (and a directory never is). What a failed pull made is removed,
// unless kept for a resume: then a resumable output (a tag) has left its
// temp files under fixed names and a journal of the files it finished, and
// the next pull of the same key and selection re-reads each of them and
// uses it only when its bytes hash to the record (docs/CLI.md §Resume).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "codec/checksum.h"
#include "codec/tree_entries.h"
#include "engine/core/journal_file.h"
#include "engine/core/unique_fd.h"
#include "sx/error.h"

namespace sx::engine {

class TreeOutput {
 public:
  // DIR is made when missing (its parent must exist). `tag` non-empty makes
  // it resumable: temp files `.sxtree-TAG-…` named by their paths, and the
  // journal `.sxtree-TAG.journal` in DIR, whose header is `identity`.
  static Result<TreeOutput> open(const std::string& dir, bool force, bool fsync, const std::string& tag = {},
                                 const std::string& identity = {});
  TreeOutput(TreeOutput&&) noexcept = default;
  ~TreeOutput();  // not committed: removes its temp files and the directories it made

  // Before any byte is fetched: the directories made (mode 0700 while the
  // pull runs), each file's and link's name checked free (unless force).
  // `entries` in tree order.
  Status prepare(const std::vector<const codec::TreeEntry*>& entries);

  // A file an earlier run finished (resumable outputs, after prepare): true
  // when its temp file is still ours (a regular file of this user with one
  // link, its size) and its bytes hash to the journal's record; it is then
  // renamed into place with the rest. False: it must be written again.
  bool resume_file(const codec::TreeEntry& entry);
  // Files the journal listed whose temp file failed those checks.
  std::uint64_t refused() const { return refused_; }
  // Bytes [offset, offset + out.size()) of the stream, read back from the
  // resumed files (what a whole tree's digest needs of pieces not fetched).
  Status read_back(std::uint64_t offset, std::span<std::byte> out);

  // One file at a time, its bytes in order.
  Status begin_file(const codec::TreeEntry& entry);
  Status write(std::span<const std::byte> bytes);
  Status end_file();

  // `copy` (a duplicate) made from the temp file of `from`, written or
  // resumed by this pull, as if its bytes had been written.
  Status copy_file(const codec::TreeEntry& copy, const codec::TreeEntry& from);

  // Files renamed into place (mode without setuid/setgid, mtime), then the
  // symlinks made, then the directories this pull made given their mode and
  // mtime, deepest first.
  Status commit();

  const std::string& dir() const { return dir_; }
  bool resumable() const { return journal_.has_value(); }
  // After a failure a rerun can get past: the temp files, the directories
  // made and the journal stay for it.
  void keep() { kept_ = true; }

 private:
  TreeOutput(UniqueFd root, std::string dir, bool force, bool fsync, std::string tag)
      : root_(std::move(root)), dir_(std::move(dir)), force_(force), fsync_(fsync), tag_(std::move(tag)) {}
  std::string temp_name_for(std::string_view path) const;
  void record(const std::string& line);
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
  bool kept_ = false;
  std::uint64_t refused_ = 0;
  std::string tag_;
  std::optional<JournalFile> journal_;
  std::map<std::string, std::string> finished_;  // an earlier run's records: path → digest of its bytes
  std::set<std::string> made_earlier_;            // directories an earlier run made
  std::vector<const codec::TreeEntry*> resumed_;  // files resume_file accepted
  bool resumed_sorted_ = false;                   // by offset, for read_back
  std::unique_ptr<codec::ContentHasher> current_hash_;
  std::vector<const codec::TreeEntry*> made_dirs_;  // in tree order
  std::vector<const codec::TreeEntry*> links_;
  std::vector<Written> files_;
  UniqueFd current_;  // the file being written
  UniqueFd current_parent_;
};

}  // namespace sx::engine
