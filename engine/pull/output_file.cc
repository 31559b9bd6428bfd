#include "engine/pull/output_file.h"

#include <fcntl.h>
#include <stdio.h>  // renameat2
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <random>

namespace sx::engine {

std::string sanitize_file_name(std::string_view name) {
  // Keep only the last path component, then drop control characters.
  const auto slash = name.find_last_of("/\\");
  if (slash != std::string_view::npos) name = name.substr(slash + 1);
  std::string clean;
  for (const char c : name)
    if (static_cast<unsigned char>(c) >= 0x20 && c != 0x7f) clean.push_back(c);
  while (!clean.empty() && (clean.front() == ' ' || clean.front() == '.' || clean.front() == '-'))
    clean.erase(clean.begin());  // no hidden files, no "..", no option-like names
  if (clean.size() > 255) clean.resize(255);
  if (clean.empty()) return "sxengine-download";
  return clean;
}

std::string resolve_output_path(const std::string& out, std::string_view name) {
  if (out.empty()) return sanitize_file_name(name);
  std::error_code ec;
  if (std::filesystem::is_directory(out, ec))
    return (std::filesystem::path(out) / sanitize_file_name(name)).string();
  return out;
}

namespace {

// Removes temp files an earlier pull of the same name left when it was
// killed (SIGKILL, power loss): ".NAME.sxpart-PID-N" whose PID is gone.
// A file name of at most 255 bytes (NAME_MAX) holds the temp name's ".",
// ".sxpart-", a pid and a random number (or a resume tag, and the journal's
// longer ".sxjournal-"): the stored name is cut to fit.
constexpr std::size_t kTempNameRoom = 224;  // ".NAME.sxjournal-r" + 16 hex digits fits too

std::string temp_prefix(const std::string& name) {
  std::string prefix = ".";  // built in steps: GCC 12 warns falsely on "." + std::string
  prefix += name.substr(0, kTempNameRoom);
  prefix += ".sxpart-";
  return prefix;
}

// Moves `from` to `to` unless `to` exists, atomically: renameat2 with
// RENAME_NOREPLACE, or link + unlink where the file system lacks it.
int rename_no_replace(const char* from, const char* to) {
  if (::renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0) return 0;
  if (errno != EINVAL && errno != ENOSYS) return -1;
  if (::link(from, to) != 0) return -1;
  ::unlink(from);
  return 0;
}

// A regular file of ours: what a temp file another run (or anyone with
// write access to the directory) left must be before it is reused.
bool ours(const struct stat& st) { return S_ISREG(st.st_mode) && st.st_uid == ::geteuid() && st.st_nlink == 1; }

// Every temp file is held under flock() for as long as its run lives, so a
// temp file whose lock can be taken is one a dead run left: removed, unless
// another user's or a resume's (kept for the same pull to continue). This
// works for runs on other machines sharing the directory, where a pid tells
// nothing.
void remove_stale_temp_files(const std::filesystem::path& dir, const std::string& name) {
  const std::string prefix = temp_prefix(name);
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string file = entry.path().filename().string();
    if (file.rfind(prefix, 0) != 0) continue;
    const std::string rest = file.substr(prefix.size());
    if (rest.empty() || rest.find_first_not_of("0123456789-") != std::string::npos) continue;  // not a random temp
    UniqueFd fd(::open(entry.path().c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
    struct stat held {}, named {};
    if (!fd || ::fstat(fd.get(), &held) != 0 || !ours(held) || ::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) continue;
    // Still the file we locked (not one renamed into its place meanwhile).
    if (::lstat(entry.path().c_str(), &named) == 0 && named.st_ino == held.st_ino && named.st_dev == held.st_dev)
      ::unlink(entry.path().c_str());
  }
}

// Creates `dir/name` locked from its first moment: made under a private
// name, locked, then renamed into place without replacing anything, so no
// other run ever sees it unlocked (and takes it for a dead run's).
Result<UniqueFd> create_locked(const std::filesystem::path& dir, const std::string& name) {
  const std::string fresh =
      (dir / (".sxnew-" + std::to_string(::getpid()) + "-" + std::to_string(std::random_device{}()))).string();
  UniqueFd fd(::open(fresh.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
  if (!fd) return make_error(Errc::kIo, "cannot create a temp file in " + dir.string() + ": " + std::strerror(errno));
  const std::string target = (dir / name).string();
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0 || rename_no_replace(fresh.c_str(), target.c_str()) != 0) {
    const int error = errno;
    ::unlink(fresh.c_str());
    errno = error;
    return make_error(error == EEXIST ? Errc::kInvalidArgument : Errc::kIo,
                      "cannot create " + target + ": " + std::strerror(error));
  }
  return fd;
}

// Opens the resumable temp file `dir/name` of an earlier run (or creates it),
// locked. A symbolic link there, another user's file, or a file with other
// names (hard links) is never written through: refused, left as it is.
Result<UniqueFd> open_resumable(const std::filesystem::path& dir, const std::string& name,
                                const std::string& final_path) {
  const std::string path = (dir / name).string();
  for (int attempt = 0; attempt < 3; ++attempt) {
    UniqueFd fd(::open(path.c_str(), O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
    if (!fd && errno == ENOENT) {
      auto created = create_locked(dir, name);
      if (created || created.error().code != Errc::kInvalidArgument) return created;
      continue;  // another run created it just now: open that one
    }
    if (!fd && errno == ELOOP)
      return make_error(Errc::kInvalidArgument, path + " is a symbolic link, not a temp file of sxengine's: it was "
                                                       "left alone (remove it, or use --no-resume)");
    if (!fd) return make_error(Errc::kIo, "cannot open " + path + ": " + std::strerror(errno));
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0 || !ours(st))
      return make_error(Errc::kInvalidArgument, path + " is not a temp file of this user's (another owner, type or "
                                                       "link count): it was left alone (remove it, or use --no-resume)");
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0)
      return make_error(Errc::kInvalidArgument, "another sxengine run is pulling into " + final_path + " (it holds " +
                                                    path + ")");
    return fd;
  }
  return make_error(Errc::kIo, "cannot open " + path + ": it keeps changing");
}

}  // namespace

Result<OutputFile> OutputFile::create(const std::string& final_path, std::uint64_t size, bool force,
                                      const std::string& resume_tag) {
  struct stat st {};
  if (::stat(final_path.c_str(), &st) == 0) {
    if (!force) return make_error(Errc::kInvalidArgument, final_path + " exists (use --force to replace it)");
    if (!S_ISREG(st.st_mode)) return make_error(Errc::kInvalidArgument, final_path + " is not a regular file");
  }
  const std::filesystem::path target(final_path);
  const std::filesystem::path dir = target.has_parent_path() ? target.parent_path() : ".";
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec))
    return make_error(Errc::kNotFound, std::filesystem::exists(dir, ec)
                                           ? dir.string() + " is not a directory"
                                           : "output directory " + dir.string() + " does not exist");
  remove_stale_temp_files(dir, target.filename().string());
  std::string temp_name = temp_prefix(target.filename().string());
  Result<UniqueFd> fd = UniqueFd();
  if (resume_tag.empty()) {
    std::random_device random;
    temp_name += std::to_string(::getpid()) + "-" + std::to_string(random());
    fd = create_locked(dir, temp_name);
  } else {
    temp_name += "r" + resume_tag;
    fd = open_resumable(dir, temp_name, final_path);
  }
  if (!fd) return std::move(fd).error();
  struct stat existing {};
  const bool resumed = !resume_tag.empty() && ::fstat(fd->get(), &existing) == 0 &&
                       static_cast<std::uint64_t>(existing.st_size) == size && size > 0;
  OutputFile file(std::move(*fd), (dir / temp_name).string(), final_path);
  file.resumed_ = resumed;
  if (!resume_tag.empty()) {
    std::string journal_name = temp_name;
    journal_name.replace(journal_name.rfind(".sxpart-"), 8, ".sxjournal-");
    file.journal_path_ = (dir / journal_name).string();
  }
  if (::ftruncate(file.fd(), static_cast<off_t>(size)) != 0)
    return make_error(Errc::kIo, "cannot size " + file.temp_path_ + ": " + std::strerror(errno));
  return file;
}

OutputFile::OutputFile(OutputFile&& other) noexcept
    : fd_(std::move(other.fd_)),
      temp_path_(std::move(other.temp_path_)),
      final_path_(std::move(other.final_path_)),
      journal_path_(std::move(other.journal_path_)),
      resumed_(other.resumed_),
      kept_(other.kept_),
      committed_(other.committed_) {
  other.committed_ = true;  // the moved-from object owns nothing
}

OutputFile::~OutputFile() {
  if (committed_ || kept_ || temp_path_.empty()) return;
  ::unlink(temp_path_.c_str());
  if (!journal_path_.empty()) ::unlink(journal_path_.c_str());
}

Status OutputFile::write_at(std::span<const std::byte> bytes, std::uint64_t offset) const {
  while (!bytes.empty()) {
    const ssize_t n = ::pwrite(fd_.get(), bytes.data(), bytes.size(), static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return make_error(Errc::kIo, "cannot write " + temp_path_ + ": " + std::strerror(errno));
    bytes = bytes.subspan(static_cast<std::size_t>(n));
    offset += static_cast<std::uint64_t>(n);
  }
  return {};
}

Status OutputFile::read_at(std::span<std::byte> out, std::uint64_t offset) const {
  while (!out.empty()) {
    const ssize_t n = ::pread(fd_.get(), out.data(), out.size(), static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return make_error(Errc::kIo, "cannot read back " + temp_path_ + ": " + std::strerror(errno));
    out = out.subspan(static_cast<std::size_t>(n));
    offset += static_cast<std::uint64_t>(n);
  }
  return {};
}

Status OutputFile::commit(bool replace, bool durable) {
  if (durable && ::fsync(fd_.get()) != 0)
    return make_error(Errc::kIo, "cannot fsync " + temp_path_ + ": " + std::strerror(errno));
  // The target was checked when the pull began; a file that appeared since
  // (another pull, another program) is still not ours to replace.
  const int moved = replace ? ::rename(temp_path_.c_str(), final_path_.c_str())
                            : rename_no_replace(temp_path_.c_str(), final_path_.c_str());
  if (moved != 0 && errno == EEXIST)
    return make_error(Errc::kInvalidArgument, final_path_ + " appeared while the pull ran; it was left as it is "
                                                            "(use --force to replace it)");
  if (moved != 0)
    return make_error(Errc::kIo, "cannot rename to " + final_path_ + ": " + std::strerror(errno));
  committed_ = true;
  if (!durable) return {};
  const std::filesystem::path target(final_path_);
  const std::string dir = target.has_parent_path() ? target.parent_path().string() : ".";
  UniqueFd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir_fd) ::fsync(dir_fd.get());
  return {};
}

}  // namespace sx::engine
