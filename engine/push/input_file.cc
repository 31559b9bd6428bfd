#include "engine/push/input_file.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "base/text.h"
#include "codec/checksum.h"

namespace sx::engine {
namespace {

std::int64_t mtime_ns(const struct stat& st) {
  return std::int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec;
}

Error cancelled() { return Error{Errc::kCancelled, "push cancelled while waiting for input"}; }

}  // namespace

Result<InputFile> InputFile::open(const std::string& path, const CancelToken& cancel) {
  if (path == "-") return InputFile(UniqueFd(STDIN_FILENO), false, "standard input", cancel);
  // O_NONBLOCK: opening a FIFO must not block before we can poll; cleared below.
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (!fd)
    return make_error(errno == ENOENT ? Errc::kNotFound : Errc::kIo,
                      "cannot open " + path + ": " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return make_error(Errc::kIo, "cannot stat " + path + ": " + std::strerror(errno));
  if (S_ISDIR(st.st_mode)) return make_error(Errc::kInvalidArgument, path + " is a directory");
  const int flags = ::fcntl(fd.get(), F_GETFL);
  if (flags < 0 || ::fcntl(fd.get(), F_SETFL, flags & ~O_NONBLOCK) != 0)
    return make_error(Errc::kIo, "cannot read " + path + ": " + std::strerror(errno));
  InputFile file(std::move(fd), true, path, cancel);
  if (S_ISREG(st.st_mode)) {
    file.regular_ = true;
    file.mtime_ns_ = mtime_ns(st);
    if (st.st_size > 0) file.expected_size_ = static_cast<std::uint64_t>(st.st_size);
  }
  return file;
}

// Waits until the input has data (or EOF) or the push is cancelled. A FIFO
// with no writer yet reports nothing, so this also waits for its writer.
Status InputFile::wait_readable() {
  if (regular_) return cancel_->requested() ? Status(cancelled()) : Status{};
  pollfd fds[2] = {{fd_.get(), POLLIN, 0}, {cancel_->wait_fd(), POLLIN, 0}};
  const nfds_t count = cancel_->wait_fd() >= 0 ? 2 : 1;
  for (;;) {
    if (cancel_->requested()) return cancelled();
    const int n = ::poll(fds, count, count == 2 ? -1 : 200);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return make_error(Errc::kIo, "cannot wait for " + path_ + ": " + std::strerror(errno));
    if (count == 2 && fds[1].revents) return cancelled();
    if (fds[0].revents) return {};
  }
}

Result<std::size_t> InputFile::read(std::span<std::byte> into) {
  std::size_t filled = 0;
  while (filled < into.size()) {
    if (auto ready = wait_readable(); !ready) return std::move(ready).error();
    const ssize_t n = ::read(fd_.get(), into.data() + filled, into.size() - filled);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n < 0) return make_error(Errc::kIo, "cannot read " + path_ + ": " + std::strerror(errno));
    if (n == 0) break;
    filled += static_cast<std::size_t>(n);
  }
  read_bytes_ += filled;
  return filled;
}

std::optional<std::string> InputFile::identity() const {
  if (!regular_ || !expected_size_) return std::nullopt;
  std::error_code ec;
  const auto absolute = std::filesystem::canonical(path_, ec);
  if (ec) return std::nullopt;
  constexpr std::size_t kSample = 64 << 10;
  std::string sample(std::min<std::uint64_t>(*expected_size_, 2 * kSample), '\0');
  const std::size_t head = std::min(sample.size(), kSample);
  const std::uint64_t tail_at = *expected_size_ - (sample.size() - head);
  if (::pread(fd_.get(), sample.data(), head, 0) != static_cast<ssize_t>(head) ||
      ::pread(fd_.get(), sample.data() + head, sample.size() - head, static_cast<off_t>(tail_at)) !=
          static_cast<ssize_t>(sample.size() - head))
    return std::nullopt;
  const auto digest = codec::sha256(std::as_bytes(std::span<const char>(sample.data(), sample.size())));
  return absolute.string() + "\n" + std::to_string(*expected_size_) + "\n" + std::to_string(mtime_ns_) + "\n" +
         text::to_hex(digest);
}

Status InputFile::check_unchanged() const {
  if (!regular_) return {};
  struct stat st {};
  if (::fstat(fd_.get(), &st) != 0) return make_error(Errc::kIo, "cannot stat " + path_ + ": " + std::strerror(errno));
  const bool same_size = !expected_size_ || (static_cast<std::uint64_t>(st.st_size) == *expected_size_ &&
                                             read_bytes_ == *expected_size_);
  if (!same_size || mtime_ns(st) != mtime_ns_)
    return make_error(Errc::kIo, path_ + " changed while it was pushed (size or modification time differ); "
                                         "nothing refers to what was stored: push it again once it is stable");
  return {};
}

}  // namespace sx::engine
