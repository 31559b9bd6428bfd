#include "engine/tree/tree_source.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace sx::engine {
namespace {

std::int64_t mtime_ns(const struct stat& st) {
  return static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
}

Error changed(const std::string& path) {
  return Error{Errc::kIo, path + " changed while it was pushed (push again when it is quiet)"};
}

}  // namespace

bool still_as_walked(int fd, const WalkedTree::Source& file) {
  struct stat st {};
  return ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && static_cast<std::uint64_t>(st.st_size) == file.size &&
         mtime_ns(st) == file.mtime_ns;
}

Result<UniqueFd> open_walked_file(const WalkedTree::Source& file, bool follow_symlinks) {
  const int flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | (follow_symlinks ? 0 : O_NOFOLLOW);
  UniqueFd fd(::open(file.path.c_str(), flags));
  if (!fd) {
    if (errno == ELOOP) return changed(file.path);  // a file the walk saw is a link now
    return make_error(Errc::kIo, "cannot open " + file.path + ": " + std::strerror(errno));
  }
  if (!still_as_walked(fd.get(), file)) return changed(file.path);
  return fd;
}

Status TreeSource::open_next() {
  const WalkedTree::Source& file = files_[next_file_++];
  auto fd = open_walked_file(file, follow_);
  if (!fd) return std::move(fd).error();
  current_ = std::move(*fd);
  remaining_ = file.size;
  return {};
}

// After the file's last byte: it must not have grown or been touched since.
Status TreeSource::close_current() {
  const WalkedTree::Source& file = files_[next_file_ - 1];
  if (!still_as_walked(current_.get(), file)) return changed(file.path);
  current_ = UniqueFd();
  if (on_read_) on_read_(next_file_ - 1);
  return {};
}

Result<std::optional<std::span<const std::byte>>> TreeSource::next(std::span<std::byte> scratch) {
  const std::size_t want = std::min(piece_bytes_, scratch.size());
  std::size_t filled = 0;
  while (filled < want) {
    if (!current_) {
      if (cancel_.requested()) return make_error(Errc::kCancelled, "cancelled");
      if (next_file_ == files_.size()) break;
      if (files_[next_file_].size == 0) {  // nothing to read: its entry says all
        if (on_read_) on_read_(next_file_);
        ++next_file_;
        continue;
      }
      if (auto opened = open_next(); !opened) return std::move(opened).error();
    }
    const std::size_t ask = static_cast<std::size_t>(std::min<std::uint64_t>(want - filled, remaining_));
    const ssize_t n = ::read(current_.get(), scratch.data() + filled, ask);
    if (n < 0) {
      if (errno == EINTR) continue;
      return make_error(Errc::kIo, "cannot read " + files_[next_file_ - 1].path + ": " + std::strerror(errno));
    }
    if (n == 0) return changed(files_[next_file_ - 1].path);  // shorter than it was
    filled += static_cast<std::size_t>(n);
    remaining_ -= static_cast<std::uint64_t>(n);
    if (remaining_ == 0)
      if (auto closed = close_current(); !closed) return std::move(closed).error();
  }
  if (filled == 0) return std::optional<std::span<const std::byte>>{};
  return std::optional(std::span<const std::byte>(scratch.first(filled)));
}

}  // namespace sx::engine
