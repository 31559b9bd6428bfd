#include "engine/core/journal_file.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>

#include "codec/checksum.h"
#include "codec/manifest.h"
#include "engine/core/journal_records.h"

namespace sx::engine {
namespace {

Status write_all(int fd, const std::string& text, const std::string& path) {
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return make_error(Errc::kIo, "cannot write journal " + path + ": " + std::strerror(errno));
    done += static_cast<std::size_t>(n);
  }
  return {};
}

std::vector<std::string> read_intact_lines(int fd) {
  std::string all;
  char buffer[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    all.append(buffer, static_cast<std::size_t>(n));
  }
  return sx::engine::intact_lines(std::string_view(all));
}

}  // namespace

std::string JournalFile::read_header(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return {};
  auto lines = read_intact_lines(fd.get());
  return lines.empty() ? std::string() : lines[0];
}

Result<JournalFile> JournalFile::open(const std::string& path, const std::string& identity, std::string& payload,
                                      std::vector<std::string>& records) {
  records.clear();
  const std::filesystem::path target(path);
  std::error_code ec;
  std::filesystem::create_directories(target.parent_path(), ec);
  // Never through a symbolic link, never another user's file: such a file
  // is not resumed from, and the new journal's rename replaces the name.
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_APPEND | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  struct stat st {};
  if (fd && (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != ::geteuid())) fd = UniqueFd();
  if (fd) {
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0)
      return make_error(Errc::kInvalidArgument, "another sxengine run is using " + path);
    auto lines = read_intact_lines(fd.get());
    if (!lines.empty() && lines[0].rfind(identity + " ", 0) == 0) {
      payload = lines[0].substr(identity.size() + 1);
      records.assign(lines.begin() + 1, lines.end());
      return JournalFile(std::move(fd), path, true);
    }
  }
  // A new journal, whole or not at all: header in a temp file, renamed.
  // A short temp name beside it: the journal's own name may be near NAME_MAX.
  const std::string temp = (target.parent_path() / (".sxjournal-new-" + std::to_string(::getpid()) + "-" +
                                                    std::to_string(std::random_device{}()))).string();
  UniqueFd fresh(::open(temp.c_str(), O_RDWR | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600));
  if (!fresh) return make_error(Errc::kIo, "cannot create journal " + temp + ": " + std::strerror(errno));
  if (::flock(fresh.get(), LOCK_EX | LOCK_NB) != 0) return make_error(Errc::kIo, "cannot lock journal " + temp);
  Status written = write_all(fresh.get(), sealed_line(identity + " " + payload), temp);
  if (written && ::fsync(fresh.get()) != 0) written = make_error(Errc::kIo, "cannot fsync journal " + temp);
  if (written && ::rename(temp.c_str(), path.c_str()) != 0)
    written = make_error(Errc::kIo, "cannot rename journal to " + path + ": " + std::strerror(errno));
  if (!written) {
    ::unlink(temp.c_str());
    return std::move(written).error();
  }
  return JournalFile(std::move(fresh), path, false);
}

Status JournalFile::append(const std::string& record) {
  return write_all(fd_.get(), sealed_line(record), path_);  // one write(): whole lines with O_APPEND
}

void JournalFile::remove() {
  if (!path_.empty()) ::unlink(path_.c_str());
  path_.clear();
}

}  // namespace sx::engine
