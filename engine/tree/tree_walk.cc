#include "engine/tree/tree_walk.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>
#include <utility>

namespace sx::engine {
namespace {

std::int64_t mtime_ns(const struct stat& st) {
  return static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
}

Error io_error(const std::string& what, const std::string& path) {
  return Error{Errc::kIo, what + " " + path + ": " + std::strerror(errno)};
}

// The last component of a PATH as given ("dir/", "./dir", "/abs/dir");
// "." and ".." stand for the directory they name.
Result<std::string> top_name(const std::string& path) {
  std::string trimmed = path;
  while (trimmed.size() > 1 && trimmed.back() == '/') trimmed.pop_back();
  std::string name = trimmed.substr(trimmed.rfind('/') == std::string::npos ? 0 : trimmed.rfind('/') + 1);
  if (name == "." || name == ".." || name.empty()) {
    char* real = ::realpath(path.c_str(), nullptr);
    if (real == nullptr) return io_error("cannot resolve", path);
    std::string resolved(real);
    std::free(real);
    name = resolved.substr(resolved.rfind('/') + 1);
  }
  if (name.empty() || name == "/")
    return make_error(Errc::kInvalidArgument, "cannot push " + path + " as a tree: name a directory below /");
  return name;
}

struct Walker {
  const WalkOptions& options;
  const CancelToken& cancel;
  // Entries with their disk paths, sorted at the end.
  std::vector<std::pair<codec::TreeEntry, std::string>> found;
  std::set<std::pair<dev_t, ino_t>> open_directories;  // -L: the directories being walked (a loop)
  std::uint64_t skipped = 0;
  std::string first_skipped;

  Status add(const std::string& disk, const std::string& tree_path) {
    if (cancel.requested()) return make_error(Errc::kCancelled, "cancelled");
    if (auto valid = codec::check_tree_path(tree_path); !valid)
      return make_error(Errc::kInvalidArgument, "cannot store " + disk + " in a tree: " + valid.error().message);
    struct stat st {};
    const int got = options.follow_symlinks ? ::stat(disk.c_str(), &st) : ::lstat(disk.c_str(), &st);
    if (got != 0) return io_error("cannot read", disk);
    codec::TreeEntry entry;
    entry.path = tree_path;
    entry.mode = st.st_mode & 07777;
    entry.mtime_ns = mtime_ns(st);
    if (S_ISREG(st.st_mode)) {
      entry.type = codec::EntryType::kFile;
      entry.size = static_cast<std::uint64_t>(st.st_size);
      found.emplace_back(std::move(entry), disk);
      return {};
    }
    if (S_ISLNK(st.st_mode)) {
      entry.type = codec::EntryType::kSymlink;
      std::string target(static_cast<std::size_t>(st.st_size) + 1, '\0');
      const ssize_t n = ::readlink(disk.c_str(), target.data(), target.size());
      if (n < 0) return io_error("cannot read the link", disk);
      if (static_cast<std::size_t>(n) >= target.size()) return make_error(Errc::kIo, disk + " changed while it was read");
      target.resize(static_cast<std::size_t>(n));
      if (target.empty() || target.size() > codec::kMaxTreePath)
        return make_error(Errc::kInvalidArgument, "symlink " + disk + " has a target longer than 4096 bytes");
      entry.target = std::move(target);
      found.emplace_back(std::move(entry), disk);
      return {};
    }
    if (!S_ISDIR(st.st_mode)) {
      if (skipped++ == 0) first_skipped = disk;
      return {};
    }
    entry.type = codec::EntryType::kDirectory;
    found.emplace_back(std::move(entry), disk);
    const auto id = std::make_pair(st.st_dev, st.st_ino);
    if (options.follow_symlinks && !open_directories.insert(id).second)
      return make_error(Errc::kInvalidArgument, "-L: " + disk + " leads back into a directory being walked (a loop)");
    DIR* dir = ::opendir(disk.c_str());
    if (dir == nullptr) return io_error("cannot open directory", disk);
    std::vector<std::string> names;
    errno = 0;
    while (dirent* item = ::readdir(dir)) {
      const std::string name = item->d_name;
      if (name != "." && name != "..") names.push_back(name);
    }
    const int read_errno = errno;
    ::closedir(dir);
    if (read_errno != 0) {
      errno = read_errno;
      return io_error("cannot list directory", disk);
    }
    const std::string prefix = disk.back() == '/' ? disk : disk + "/";
    for (const std::string& name : names)
      if (auto added = add(prefix + name, tree_path + "/" + name); !added) return added;
    if (options.follow_symlinks) open_directories.erase(id);
    return {};
  }
};

}  // namespace

Result<WalkedTree> walk_tree(const std::vector<std::string>& paths, const WalkOptions& options,
                             const CancelToken& cancel) {
  if (paths.empty()) return make_error(Errc::kInvalidArgument, "nothing to push");
  Walker walker{options, cancel, {}, {}, 0, {}};
  std::set<std::string> tops;
  for (const std::string& path : paths) {
    auto name = top_name(path);
    if (!name) return std::move(name).error();
    if (!tops.insert(*name).second)
      return make_error(Errc::kInvalidArgument, "two PATHs are named " + *name + ": a tree holds each name once");
    if (auto added = walker.add(path, *name); !added) return std::move(added).error();
  }
  // The format's order: byte order of the paths (a parent sorts before its children).
  std::sort(walker.found.begin(), walker.found.end(),
            [](const auto& a, const auto& b) { return a.first.path < b.first.path; });
  WalkedTree tree;
  tree.entries.reserve(walker.found.size());
  for (auto& [entry, disk] : walker.found) {
    if (entry.type == codec::EntryType::kFile) {
      entry.offset = tree.stream_bytes;
      tree.stream_bytes += entry.size;
      tree.sources.push_back({std::move(disk), entry.size, entry.mtime_ns});
    }
    tree.entries.push_back(std::move(entry));
  }
  tree.skipped = walker.skipped;
  if (walker.skipped > 0 && options.note)
    options.note("skipped " + std::to_string(walker.skipped) + " device, socket or FIFO (" + walker.first_skipped +
                 (walker.skipped > 1 ? " and others" : "") + "): a tree stores files, directories and symlinks");
  return tree;
}

}  // namespace sx::engine
