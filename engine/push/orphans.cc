#include "engine/push/orphans.h"

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>

#include "base/text.h"
#include "engine/core/unique_fd.h"
#include "engine/push/uploader.h"

namespace sx::engine {

std::string state_dir() {
  const std::string xdg = text::env("XDG_STATE_HOME");
  if (!xdg.empty()) return xdg + "/sxengine";
  const std::string home = text::env("HOME");
  return (home.empty() ? std::string("/tmp") : home) + "/.local/state/sxengine";
}

namespace {

// Writes one URL a line; returns the file's path, or "" when it could not.
std::string write_list(const std::vector<std::string>& keys) {
  const std::filesystem::path dir = std::filesystem::path(state_dir()) / "orphans";
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return {};
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const std::filesystem::path path =
      dir / ("push-" + std::to_string(std::chrono::duration_cast<std::chrono::seconds>(now).count()) + "-" +
             std::to_string(::getpid()) + ".txt");
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!fd) return {};
  std::string text;
  for (const std::string& key : keys) text += key + "\n";
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd.get(), text.data() + done, text.size() - done);
    if (n <= 0) return {};
    done += static_cast<std::size_t>(n);
  }
  return path.string();
}

}  // namespace

Error with_orphans(Error error, const Uploader& uploader, const net::Backend& backend) {
  const std::vector<std::string> keys = uploader.stored_keys();
  if (keys.empty()) return error;
  char size[32];
  std::snprintf(size, sizeof size, "%.1f MiB", static_cast<double>(uploader.stored_bytes()) / (1 << 20));
  error.message += "; " + std::to_string(keys.size()) + " piece" + (keys.size() == 1 ? "" : "s") + " (" + size +
                   ") stored before the failure remain at " + backend.describe() + " and no key refers to them";
  const std::string list = write_list(keys);
  if (!list.empty()) error.message += ": their URLs are listed in " + list;
  return error;
}

}  // namespace sx::engine
