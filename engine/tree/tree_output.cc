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
#include "codec/checksum.h"

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

// How a journal record names a path: a digest, so a record is one short
// line whatever bytes the path holds.
std::string path_id(std::string_view path) {
  return codec::sha256_hex(path).substr(0, 32);
}

bool ours(const struct stat& st) { return S_ISREG(st.st_mode) && st.st_uid == ::geteuid() && st.st_nlink == 1; }

// Permission bits a pull restores: never setuid or setgid (a stranger's tree).
mode_t safe_mode(std::uint32_t mode) { return static_cast<mode_t>(mode & 01777); }

}  // namespace

Error TreeOutput::failure(const std::string& what, std::string_view path) const {
  std::string shown(path.substr(0, 200));
  for (char& c : shown)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  return Error{Errc::kIo, what + " " + dir_ + "/" + shown + ": " + std::strerror(errno)};
}

Result<TreeOutput> TreeOutput::open(const std::string& dir, bool force, bool fsync, const std::string& tag,
                                    const std::string& identity) {
  const std::string path = dir.empty() ? "." : dir;
  if (::mkdir(path.c_str(), 0777) != 0 && errno != EEXIST)
    return make_error(Errc::kIo, "cannot make the directory " + path + ": " + std::strerror(errno));
  UniqueFd root(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!root) return make_error(Errc::kIo, "cannot open the directory " + path + ": " + std::strerror(errno));
  TreeOutput output(std::move(root), path, force, fsync, tag);
  if (tag.empty()) return output;
  std::string payload;
  std::vector<std::string> records;
  auto journal = JournalFile::open(path + "/.sxtree-" + tag + ".journal", identity, payload, records);
  if (!journal) return std::move(journal).error();
  // Evidence, not proof: a file recorded here counts only once resume_file
  // has read it back and its bytes match.
  for (const std::string& line : records) {
    if (line.size() == 34 && line.rfind("D ", 0) == 0) output.made_earlier_.insert(line.substr(2));
    else if (line.size() == 67 && line.rfind("F ", 0) == 0) output.finished_[line.substr(2, 32)] = line.substr(35);
  }
  output.journal_ = std::move(*journal);
  return output;
}

TreeOutput::~TreeOutput() {
  if (committed_ || !root_ || kept_) return;
  current_ = UniqueFd();
  for (const Written& w : files_)
    if (auto parent = parent_of(w.entry->path)) ::unlinkat(parent->get(), w.temp.c_str(), 0);
  for (auto it = made_dirs_.rbegin(); it != made_dirs_.rend(); ++it)
    if (auto parent = parent_of((*it)->path))
      ::unlinkat(parent->get(), std::string(last_component((*it)->path)).c_str(), AT_REMOVEDIR);  // only if empty
  if (journal_) journal_->remove();
}

std::string TreeOutput::temp_name_for(std::string_view path) const {
  return tag_.empty() ? temp_name() : ".sxtree-" + tag_ + "-" + path_id(path).substr(0, 16);
}

void TreeOutput::record(const std::string& line) {
  // A record that cannot be written costs the resume of that file, never the pull.
  if (journal_) (void)journal_->append(line);
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
        record("D " + path_id(e->path));
        continue;
      }
      if (errno != EEXIST) return failure("cannot make the directory", e->path);
      struct stat st {};
      if (::fstatat(parent->get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(st.st_mode))
        return make_error(Errc::kInvalidArgument, dir_ + "/" + e->path +
                                                      " exists and is not a directory here (a symlink is never followed)");
      // Made by the interrupted run of this pull: its mode and mtime are still to be set.
      if (made_earlier_.count(path_id(e->path))) made_dirs_.push_back(e), record("D " + path_id(e->path));
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

bool TreeOutput::resume_file(const codec::TreeEntry& entry) {
  const auto record = finished_.find(path_id(entry.path));
  if (record == finished_.end()) return false;
  ++refused_;  // until it passes every check below
  auto parent = parent_of(entry.path);
  if (!parent) return false;
  std::string temp = temp_name_for(entry.path);
  UniqueFd fd(::openat(parent->get(), temp.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  struct stat st {};
  if (!fd || ::fstat(fd.get(), &st) != 0 || !ours(st) || static_cast<std::uint64_t>(st.st_size) != entry.size)
    return false;
  codec::ContentHasher hash;
  std::vector<std::byte> buffer(std::min<std::uint64_t>(entry.size, 1 << 20));
  for (std::uint64_t done = 0; done < entry.size;) {
    const ssize_t n = ::pread(fd.get(), buffer.data(), buffer.size(), static_cast<off_t>(done));
    if (n <= 0) return false;
    hash.update(std::span(buffer.data(), static_cast<std::size_t>(n)));
    done += static_cast<std::uint64_t>(n);
  }
  if (hash.finish() != record->second) return false;
  const timespec times[2] = {{0, UTIME_OMIT}, to_timespec(entry.mtime_ns)};
  if (::fchmod(fd.get(), safe_mode(entry.mode)) != 0 || ::futimens(fd.get(), times) != 0) return false;
  --refused_;
  files_.push_back({&entry, std::move(temp)});
  resumed_.push_back(&entry);
  resumed_sorted_ = false;
  this->record("F " + record->first + " " + record->second);  // this run's journal vouches for it too
  return true;
}

Status TreeOutput::read_back(std::uint64_t offset, std::span<std::byte> out) {
  // Resumed in tree order; a duplicate's offset is its original's, so tree
  // order is not always stream order: sorted once, on the first read.
  if (!resumed_sorted_) {
    std::stable_sort(resumed_.begin(), resumed_.end(),
                     [](const codec::TreeEntry* a, const codec::TreeEntry* b) { return a->offset < b->offset; });
    resumed_sorted_ = true;
  }
  const auto after = [](std::uint64_t value, const codec::TreeEntry* e) { return value < e->offset; };
  auto it = std::upper_bound(resumed_.begin(), resumed_.end(), offset, after);
  if (it != resumed_.begin()) --it;
  while (!out.empty()) {
    while (it != resumed_.end() && (*it)->offset + (*it)->size <= offset) ++it;
    if (it == resumed_.end() || (*it)->offset > offset)
      return make_error(Errc::kCorrupt, "a resumed tree lacks bytes at stream offset " + std::to_string(offset));
    const codec::TreeEntry& e = **it;
    auto parent = parent_of(e.path);
    if (!parent) return std::move(parent).error();
    UniqueFd fd(::openat(parent->get(), temp_name_for(e.path).c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
    const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(out.size(), e.offset + e.size - offset));
    if (!fd || ::pread(fd.get(), out.data(), n, static_cast<off_t>(offset - e.offset)) != static_cast<ssize_t>(n))
      return failure("cannot read back", e.path);
    out = out.subspan(n);
    offset += n;
  }
  return {};
}

Status TreeOutput::begin_file(const codec::TreeEntry& entry) {
  auto parent = parent_of(entry.path);
  if (!parent) return std::move(parent).error();
  std::string temp = temp_name_for(entry.path);
  // A fixed name an interrupted run may have left (or anyone planted): the
  // name is removed (a link itself, never what it points to) and made anew.
  if (!tag_.empty()) ::unlinkat(parent->get(), temp.c_str(), 0);
  current_ = UniqueFd(::openat(parent->get(), temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!current_) return failure("cannot create a temp file for", entry.path);
  current_parent_ = std::move(*parent);
  files_.push_back({&entry, std::move(temp)});
  if (journal_) current_hash_ = std::make_unique<codec::ContentHasher>();
  return {};
}

Status TreeOutput::write(std::span<const std::byte> bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(current_.get(), bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return failure("cannot write", files_.back().entry->path);
    }
    if (current_hash_) current_hash_->update(bytes.first(static_cast<std::size_t>(n)));
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
  // After the bytes, not necessarily durable before them: resume_file
  // re-reads the file before a later run trusts the record.
  if (current_hash_) record("F " + path_id(e.path) + " " + current_hash_->finish()), current_hash_.reset();
  return {};
}

Status TreeOutput::copy_file(const codec::TreeEntry& copy, const codec::TreeEntry& from) {
  const auto source = std::find_if(files_.begin(), files_.end(), [&](const Written& w) { return w.entry == &from; });
  if (source == files_.end()) return make_error(Errc::kCorrupt, "a duplicate's original was not written: " + copy.path);
  auto parent = parent_of(from.path);
  if (!parent) return std::move(parent).error();
  UniqueFd in(::openat(parent->get(), source->temp.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!in) return failure("cannot read back", from.path);
  if (auto begun = begin_file(copy); !begun) return begun;
  std::vector<std::byte> buffer(std::min<std::uint64_t>(copy.size, 1 << 20));
  for (std::uint64_t done = 0; done < copy.size;) {
    const ssize_t n = ::pread(in.get(), buffer.data(), buffer.size(), static_cast<off_t>(done));
    if (n <= 0) return failure("cannot read back", from.path);
    if (auto written = write(std::span(buffer.data(), static_cast<std::size_t>(n))); !written) return written;
    done += static_cast<std::uint64_t>(n);
  }
  return end_file();
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
  if (journal_) journal_->remove();
  return {};
}

}  // namespace sx::engine
