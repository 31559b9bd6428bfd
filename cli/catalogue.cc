#include "cli/catalogue.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <simdjson.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "base/text.h"
#include "engine/core/unique_fd.h"
#include "engine/push/orphans.h"

namespace sx::cli {
namespace {

constexpr std::size_t kMaxCatalogueBytes = std::size_t{1} << 30;  // read at most this much

Error io(const std::string& what) { return Error{Errc::kIo, what + " " + catalogue_path() + ": " + std::strerror(errno)}; }

}  // namespace

std::string catalogue_path() { return engine::state_dir() + "/catalogue.jsonl"; }

Status add_to_catalogue(const CatalogueEntry& e) {
  std::error_code ec;
  std::filesystem::create_directories(engine::state_dir(), ec);
  ::chmod(engine::state_dir().c_str(), 0700);
  engine::UniqueFd fd(::open(catalogue_path().c_str(), O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd) return io("cannot open the keys catalogue");
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode))
    return make_error(Errc::kIo, "the keys catalogue " + catalogue_path() + " is not a regular file");
  if (st.st_uid == ::geteuid()) ::fchmod(fd.get(), 0600);
  std::string line = "{\"time\":" + std::to_string(e.time) + ",\"name\":" + text::json_string(e.name) +
                     ",\"size\":" + std::to_string(e.size) + ",\"files\":" + std::to_string(e.files) +
                     ",\"key\":" + text::json_string(e.key) + "}\n";
  if (::flock(fd.get(), LOCK_EX) != 0) return io("cannot lock the keys catalogue");
  const ssize_t n = ::write(fd.get(), line.data(), line.size());
  if (n != static_cast<ssize_t>(line.size())) return io("cannot write the keys catalogue");
  return {};
}

Result<Catalogue> read_catalogue() {
  Catalogue catalogue;
  engine::UniqueFd fd(::open(catalogue_path().c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT) return catalogue;
    return io("cannot open the keys catalogue");
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode))
    return make_error(Errc::kIo, "the keys catalogue " + catalogue_path() + " is not a regular file");
  if (static_cast<std::uint64_t>(st.st_size) > kMaxCatalogueBytes)
    return make_error(Errc::kLimit, "the keys catalogue " + catalogue_path() + " is larger than 1 GiB");
  std::string text(static_cast<std::size_t>(st.st_size), '\0');
  std::size_t got = 0;
  while (got < text.size()) {
    const ssize_t n = ::read(fd.get(), text.data() + got, text.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return io("cannot read the keys catalogue");
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  text.resize(got);
  simdjson::dom::parser parser;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    const std::string_view line(text.data() + start, end - start);
    start = end + 1;
    if (line.empty()) continue;
    simdjson::dom::object object;
    CatalogueEntry e;
    std::string_view name, key;
    if (parser.parse(line.data(), line.size()).get(object) || object["time"].get(e.time) ||
        object["name"].get(name) || object["size"].get(e.size) || object["files"].get(e.files) ||
        object["key"].get(key) || key.empty()) {
      ++catalogue.unreadable;
      continue;
    }
    e.name = std::string(name);
    e.key = std::string(key);
    catalogue.entries.push_back(std::move(e));
  }
  return catalogue;
}

}  // namespace sx::cli
