#include "cli/key_argument.h"

#include <CLI/CLI.hpp>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace sx::cli {
namespace {

constexpr std::size_t kMaxKeyFileBytes = 64 << 10;  // a key is a URL and a fragment: far less

// The first non-empty line of `path` ("-": stdin), trimmed.
Result<std::string> read_key_file(const std::string& path) {
  const bool stdin_key = path == "-";  // never closed: it is the process's
  const int fd = stdin_key ? STDIN_FILENO : ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return make_error(Errc::kInvalidArgument, "cannot open --key-file " + path + ": " + std::strerror(errno));
  std::string text;
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buffer, static_cast<std::size_t>(n));
    if (text.size() > kMaxKeyFileBytes) break;
  }
  if (!stdin_key) ::close(fd);
  if (text.size() > kMaxKeyFileBytes)
    return make_error(Errc::kInvalidArgument, "--key-file " + path + " is larger than a key can be");
  std::size_t at = 0;
  while (at < text.size()) {
    std::size_t end = text.find('\n', at);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(at, end - at);
    const auto first = line.find_first_not_of(" \t\r");
    if (first != std::string::npos) return line.substr(first, line.find_last_not_of(" \t\r") - first + 1);
    at = end + 1;
  }
  return make_error(Errc::kInvalidArgument, "--key-file " + path + " holds no key");
}

}  // namespace

std::shared_ptr<KeyArgument> add_key_argument(CLI::App* command, const char* description) {
  auto argument = std::make_shared<KeyArgument>();
  command->add_option("KEY", argument->positional, description);
  command->add_option("--key-file", argument->file,
                      "read the key from this file's first line (- for stdin), so it is not in argv; "
                      "else KEY, else SXENGINE_KEY");
  return argument;
}

Result<std::string> resolve_key(KeyArgument& argument, std::string* out_after_key) {
  const char* env = std::getenv("SXENGINE_KEY");
  const bool elsewhere = !argument.file.empty() || (env && *env);
  // A key is a URL: a lone positional without "://" beside a key from
  // elsewhere is pull's OUT (`pull --key-file FILE OUT`).
  if (elsewhere && out_after_key && out_after_key->empty() && !argument.positional.empty() &&
      argument.positional.find("://") == std::string::npos) {
    *out_after_key = argument.positional;
    argument.positional.clear();
  }
  if (!argument.file.empty() && !argument.positional.empty())
    return make_error(Errc::kInvalidArgument, "give the key either as KEY or with --key-file, not both");
  if (!argument.positional.empty()) return argument.positional;
  if (!argument.file.empty()) return read_key_file(argument.file);
  if (env && *env) return std::string(env);
  return make_error(Errc::kInvalidArgument, "a download key is required: KEY, --key-file FILE or SXENGINE_KEY");
}

}  // namespace sx::cli
