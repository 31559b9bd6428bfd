#include "cli/standard_output.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "engine/push/orphans.h"
#include "engine/core/unique_fd.h"

namespace sx::cli {
namespace {

bool g_stdout_closed = false;  // set once at start-up, before any thread

}  // namespace

void guard_standard_descriptors() {
  for (int fd = 0; fd <= 2; ++fd) {
    if (::fcntl(fd, F_GETFD) != -1 || errno != EBADF) continue;
    if (fd == STDOUT_FILENO) g_stdout_closed = true;
    const int null_fd = ::open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
    if (null_fd >= 0 && null_fd != fd) {
      ::dup2(null_fd, fd);
      ::close(null_fd);
    }
  }
}

bool stdout_was_closed() { return g_stdout_closed; }

Status write_stdout(std::string_view text) {
  if (g_stdout_closed) return make_error(Errc::kIo, "standard output is closed");
  if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size() || std::fflush(stdout) != 0)
    return make_error(Errc::kIo, std::string("cannot write to standard output: ") + std::strerror(errno));
  return {};
}

std::string save_key(std::string_view key) {
  const std::filesystem::path dir = std::filesystem::path(engine::state_dir()) / "keys";
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return {};
  ::chmod(dir.c_str(), 0700);  // keys are bearer secrets
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::system_clock::now().time_since_epoch()).count();
  const std::filesystem::path path = dir / ("push-" + std::to_string(seconds) + "-" + std::to_string(::getpid()) + ".key");
  engine::UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!fd) return {};
  const std::string line = std::string(key) + "\n";
  if (::write(fd.get(), line.data(), line.size()) != static_cast<ssize_t>(line.size()) || ::fsync(fd.get()) != 0)
    return {};
  return path.string();
}

}  // namespace sx::cli
