#include "engine/output_file.h"

#include <fcntl.h>
#include <stdio.h>  // renameat2
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
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

void remove_stale_temp_files(const std::filesystem::path& dir, const std::string& name) {
  const std::string prefix = temp_prefix(name);
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string file = entry.path().filename().string();
    if (file.rfind(prefix, 0) != 0) continue;
    const std::string rest = file.substr(prefix.size());
    const auto dash = rest.find('-');
    if (dash == std::string::npos || dash == 0 || rest.find_first_not_of("0123456789-") != std::string::npos)
      continue;
    // Anyone may write here: a number that does not fit a pid is not ours.
    pid_t pid = 0;
    const auto [end, parsed] = std::from_chars(rest.data(), rest.data() + dash, pid);
    if (parsed != std::errc() || end != rest.data() + dash) continue;
    if (pid > 0 && ::kill(pid, 0) != 0 && errno == ESRCH) std::filesystem::remove(entry.path(), ec);
  }
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
  bool resumed = false;
  UniqueFd fd;
  std::string temp;
  if (resume_tag.empty()) {
    std::random_device random;
    temp_name += std::to_string(::getpid()) + "-" + std::to_string(random());
    temp = (dir / temp_name).string();
    fd = UniqueFd(::open(temp.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  } else {
    temp_name += "r" + resume_tag;
    temp = (dir / temp_name).string();
    fd = UniqueFd(::open(temp.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
    struct stat existing {};
    resumed = fd && ::fstat(fd.get(), &existing) == 0 && static_cast<std::uint64_t>(existing.st_size) == size && size > 0;
  }
  if (!fd) return make_error(Errc::kIo, "cannot create " + temp + ": " + std::strerror(errno));
  OutputFile file(std::move(fd), temp, final_path);
  file.resumed_ = resumed;
  if (!resume_tag.empty()) {
    std::string journal_name = temp_name;
    journal_name.replace(journal_name.rfind(".sxpart-"), 8, ".sxjournal-");
    file.journal_path_ = (dir / journal_name).string();
  }
  if (::ftruncate(file.fd(), static_cast<off_t>(size)) != 0)
    return make_error(Errc::kIo, "cannot size " + temp + ": " + std::strerror(errno));
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

// Moves `from` to `to` unless `to` exists, atomically: renameat2 with
// RENAME_NOREPLACE, or link + unlink where the file system lacks it.
int rename_no_replace(const char* from, const char* to) {
  if (::renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0) return 0;
  if (errno != EINVAL && errno != ENOSYS) return -1;
  if (::link(from, to) != 0) return -1;
  ::unlink(from);
  return 0;
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
