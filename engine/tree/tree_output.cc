#include "engine/tree/tree_output.h"

#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>  // renameat2, RENAME_NOREPLACE
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "base/text.h"

namespace sx::engine {
namespace {

std::string_view last_component(std::string_view path) {
  const std::size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

std::string temp_name() {
  std::uint8_t random[8];
  randombytes_buf(random, sizeof random);
  return ".sxtree-" + text::to_hex(std::as_bytes(std::span(random)));
}

timespec to_timespec(std::int64_t ns) {
  timespec t{};
  t.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
  t.tv_nsec = static_cast<long>(ns % 1'000'000'000);
  if (t.tv_nsec < 0) t.tv_nsec += 1'000'000'000, --t.tv_sec;
  return t;
}

// Permission bits a pull restores: never setuid or setgid (a stranger's tree).
mode_t safe_mode(std::uint32_t mode) { return static_cast<mode_t>(mode & 01777); }

}  // namespace

Error TreeOutput::failure(const std::string& what, std::string_view path) const {
  std::string shown(path.substr(0, 200));
  for (char& c : shown)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  return Error{Errc::kIo, what + " " + dir_ + "/" + shown + ": " + std::strerror(errno)};
}

Result<TreeOutput> TreeOutput::open(const std::string& dir, bool force, bool fsync) {
  const std::string path = dir.empty() ? "." : dir;
  if (::mkdir(path.c_str(), 0777) != 0 && errno != EEXIST)
    return make_error(Errc::kIo, "cannot make the directory " + path + ": " + std::strerror(errno));
  UniqueFd root(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!root) return make_error(Errc::kIo, "cannot open the directory " + path + ": " + std::strerror(errno));
  return TreeOutput(std::move(root), path, force, fsync);
}

TreeOutput::~TreeOutput() {
  if (committed_ || !root_) return;
  current_ = UniqueFd();
  for (const Written& w : files_)
    if (auto parent = parent_of(w.entry->path)) ::unlinkat(parent->get(), w.temp.c_str(), 0);
  for (auto it = made_dirs_.rbegin(); it != made_dirs_.rend(); ++it)
    if (auto parent = parent_of((*it)->path))
      ::unlinkat(parent->get(), std::string(last_component((*it)->path)).c_str(), AT_REMOVEDIR);  // only if empty
}

Result<UniqueFd> TreeOutput::parent_of(std::string_view path) {
  UniqueFd at(::fcntl(root_.get(), F_DUPFD_CLOEXEC, 0));
  if (!at) return failure("cannot open", "");
  std::size_t start = 0;
  for (std::size_t slash = path.find('/'); slash != std::string_view::npos; slash = path.find('/', start)) {
    const std::string part(path.substr(start, slash - start));
    UniqueFd next(::openat(at.get(), part.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!next) {
      if (errno == ELOOP || errno == ENOTDIR)
        return make_error(Errc::kCorrupt, "the tree leads through " + std::string(path.substr(0, slash)) +
                                              ", which is not a directory here (a symlink is never followed)");
      return failure("cannot open", path.substr(0, slash));
    }
    at = std::move(next);
    start = slash + 1;
  }
  return at;
}

Status TreeOutput::prepare(const std::vector<const codec::TreeEntry*>& entries) {
  for (const codec::TreeEntry* e : entries) {
    auto parent = parent_of(e->path);
    if (!parent) return std::move(parent).error();
    const std::string name(last_component(e->path));
    if (e->type == codec::EntryType::kDirectory) {
      if (::mkdirat(parent->get(), name.c_str(), 0700) == 0) {
        made_dirs_.push_back(e);
        continue;
      }
      if (errno != EEXIST) return failure("cannot make the directory", e->path);
      struct stat st {};
      if (::fstatat(parent->get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(st.st_mode))
        return make_error(Errc::kInvalidArgument, dir_ + "/" + e->path +
                                                      " exists and is not a directory here (a symlink is never followed)");
      continue;
    }
    struct stat st {};
    if (::fstatat(parent->get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
      if (S_ISDIR(st.st_mode))
        return make_error(Errc::kInvalidArgument, dir_ + "/" + e->path + " is a directory here; it is never replaced");
      if (!force_) return make_error(Errc::kInvalidArgument, dir_ + "/" + e->path + " exists (--force replaces it)");
    }
    if (e->type == codec::EntryType::kSymlink) links_.push_back(e);
  }
  return {};
}

Status TreeOutput::begin_file(const codec::TreeEntry& entry) {
  auto parent = parent_of(entry.path);
  if (!parent) return std::move(parent).error();
  std::string temp = temp_name();
  current_ = UniqueFd(::openat(parent->get(), temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!current_) return failure("cannot create a temp file for", entry.path);
  current_parent_ = std::move(*parent);
  files_.push_back({&entry, std::move(temp)});
  return {};
}

Status TreeOutput::write(std::span<const std::byte> bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(current_.get(), bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return failure("cannot write", files_.back().entry->path);
    }
    bytes = bytes.subspan(static_cast<std::size_t>(n));
  }
  return {};
}

Status TreeOutput::end_file() {
  const codec::TreeEntry& e = *files_.back().entry;
  const timespec times[2] = {{0, UTIME_OMIT}, to_timespec(e.mtime_ns)};
  if (::fchmod(current_.get(), safe_mode(e.mode)) != 0 || ::futimens(current_.get(), times) != 0)
    return failure("cannot set the mode or time of", e.path);
  if (fsync_ && ::fsync(current_.get()) != 0) return failure("cannot fsync", e.path);
  current_ = UniqueFd();
  current_parent_ = UniqueFd();
  return {};
}

Status TreeOutput::commit() {
  for (const Written& w : files_) {
    auto parent = parent_of(w.entry->path);
    if (!parent) return std::move(parent).error();
    const std::string name(last_component(w.entry->path));
    const unsigned flags = force_ ? 0 : RENAME_NOREPLACE;
    if (::renameat2(parent->get(), w.temp.c_str(), parent->get(), name.c_str(), flags) != 0) {
      if (errno == EEXIST) return make_error(Errc::kInvalidArgument, dir_ + "/" + w.entry->path + " appeared while the pull ran (--force replaces it)");
      return failure("cannot move into place", w.entry->path);
    }
    if (fsync_ && ::fsync(parent->get()) != 0) return failure("cannot fsync the directory of", w.entry->path);
  }
  files_.clear();  // in place: no longer temp files to remove
  for (const codec::TreeEntry* e : links_) {
    auto parent = parent_of(e->path);
    if (!parent) return std::move(parent).error();
    const std::string name(last_component(e->path));
    const std::string temp = temp_name();
    if (::symlinkat(e->target.c_str(), parent->get(), temp.c_str()) != 0) return failure("cannot make the symlink", e->path);
    const unsigned flags = force_ ? 0 : RENAME_NOREPLACE;
    if (::renameat2(parent->get(), temp.c_str(), parent->get(), name.c_str(), flags) != 0) {
      ::unlinkat(parent->get(), temp.c_str(), 0);
      return failure("cannot move the symlink into place", e->path);
    }
    const timespec times[2] = {{0, UTIME_OMIT}, to_timespec(e->mtime_ns)};
    ::utimensat(parent->get(), name.c_str(), times, AT_SYMLINK_NOFOLLOW);  // some filesystems refuse: not fatal
  }
  for (auto it = made_dirs_.rbegin(); it != made_dirs_.rend(); ++it) {
    auto parent = parent_of((*it)->path);
    if (!parent) return std::move(parent).error();
    const std::string name(last_component((*it)->path));
    UniqueFd dir(::openat(parent->get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    const timespec times[2] = {{0, UTIME_OMIT}, to_timespec((*it)->mtime_ns)};
    if (!dir || ::fchmod(dir.get(), safe_mode((*it)->mode)) != 0 || ::futimens(dir.get(), times) != 0)
      return failure("cannot set the mode or time of", (*it)->path);
  }
  committed_ = true;
  return {};
}

}  // namespace sx::engine
