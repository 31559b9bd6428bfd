#include "net/backend_local.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <random>

#include "base/text.h"
#include "net/shard_lock.h"

namespace sx::net {
namespace {

Error io_error(const std::string& what, const std::filesystem::path& path) {
  return Error{errno == ENOENT ? Errc::kNotFound : Errc::kIo,
               what + " " + path.string() + ": " + std::strerror(errno)};
}

Status write_all(int fd, std::span<const std::byte> bytes, const std::filesystem::path& path) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return io_error("cannot write", path);
    bytes = bytes.subspan(static_cast<std::size_t>(n));
  }
  return {};
}

// True when the file at `path` holds exactly `bytes` (read in chunks).
bool holds_exactly(const std::filesystem::path& path, std::span<const std::byte> bytes) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) return false;
  constexpr std::size_t kChunk = std::size_t{1} << 20;
  thread_local std::unique_ptr<std::byte[]> chunk(new (std::nothrow) std::byte[kChunk]);
  bool same = chunk != nullptr;
  std::size_t done = 0;
  while (same && done < bytes.size()) {
    const ssize_t n = ::read(fd, chunk.get(), std::min(kChunk, bytes.size() - done));
    if (n < 0 && errno == EINTR) continue;
    same = n > 0 && std::memcmp(chunk.get(), bytes.data() + done, static_cast<std::size_t>(n)) == 0;
    done += n > 0 ? static_cast<std::size_t>(n) : 0;
  }
  char extra;
  same = same && ::read(fd, &extra, 1) == 0;  // not longer than `bytes`
  ::close(fd);
  return same;
}

class LocalBackend final : public Backend {
 public:
  LocalBackend(std::filesystem::path root, BodyCheck check_body)
      : root_(std::move(root)), check_body_(std::move(check_body)) {}

  void put(const std::string& name, std::span<const std::byte> bytes, PutDone done) override {
    done(store(name, bytes, Reference::kAdd));
  }
  void put_replacing(const std::string& name, std::span<const std::byte> bytes, PutDone done) override {
    done(store(name, bytes, Reference::kKeep));
  }

  void get(const std::string& key, std::span<std::byte> into, GetDone done) override {
    done(load(key, into));
  }
  void get_streaming(const std::string& key, std::span<std::byte> into, BodySink& sink, GetDone done) override {
    done(load(key, into, &sink));
  }

  void get_whole(const std::string& key, std::size_t max_bytes, WholeDone done) override {
    auto path = path_of_file_url(key);
    if (!path) return done(std::move(path).error());
    struct stat st {};
    if (::stat(path->c_str(), &st) != 0) return done(io_error("cannot open", *path));
    if (!S_ISREG(st.st_mode))
      return done(make_error(Errc::kNotFound, path->string() + (S_ISDIR(st.st_mode) ? " is a directory, not a key"
                                                                                          : " is not a regular file")));
    const auto size = static_cast<std::uint64_t>(st.st_size);
    if (size > max_bytes) return done(make_error(Errc::kLimit, path->string() + " is larger than a piece can be"));
    std::vector<std::byte> bytes(size);
    auto got = load(key, bytes);
    if (!got) return done(std::move(got).error());
    bytes.resize(*got);
    done(std::move(bytes));
  }

  void remove(const std::string& key, RemoveDone done) override { done(unlink_reference(key)); }
  bool synchronous() const override { return true; }
  std::string describe() const override { return "dir:" + root_.string(); }

 private:
  enum class Reference { kAdd, kKeep };

  // Content-addressed: an object already stored under `name` should hold the
  // same bytes. Each further push of it adds a reference (a hard link
  // ".NAME.ref-…"), so rm of one key never deletes what another still uses.
  // The whole check-and-create runs under the shard's lock (shard_lock.h),
  // so concurrent pushes and rms never lose a count, and an object whose
  // bytes differ (damaged on disk) is replaced rather than trusted: dedup
  // compares content, not sizes. kKeep (repair) puts the object back
  // without counting another reference.
  Result<std::string> store(const std::string& name, std::span<const std::byte> bytes, Reference reference) {
    const std::filesystem::path dir = root_ / name.substr(0, 2);
    const std::filesystem::path path = dir / name;
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return make_error(Errc::kIo, "cannot create " + dir.string() + ": " + ec.message());
    auto lock = ShardLock::take(dir);
    if (!lock) return std::move(lock).error();
    thread_local std::minstd_rand rng(std::random_device{}());
    struct stat st {};
    const bool exists = ::lstat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
    const bool same = exists && static_cast<std::size_t>(st.st_size) == bytes.size() && holds_exactly(path, bytes);
    if (!same) {
      const std::filesystem::path temp =
          dir / ("." + name + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(rng()));
      const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
      if (fd < 0) return io_error("cannot create", temp);
      Status written = write_all(fd, bytes, temp);
      ::close(fd);
      // Over a damaged object too: its reference links keep counting keys.
      if (written && ::rename(temp.c_str(), path.c_str()) != 0) written = io_error("cannot rename", temp);
      if (!written) {
        ::unlink(temp.c_str());
        return std::move(written).error();
      }
    }
    if (exists && reference == Reference::kAdd) {
      std::string ref_name = ".";  // built in steps: GCC 12 warns falsely on "." + std::string
      ref_name += name;
      ref_name += ".ref-" + std::to_string(::getpid()) + "-" + std::to_string(rng());
      const std::filesystem::path ref = dir / ref_name;
      if (::link(path.c_str(), ref.c_str()) != 0) return io_error("cannot add a reference to", path);
    }
    return file_url(path);
  }

  // Drops one reference: a ".NAME.ref-…" link if another push holds one, else the object.
  Status unlink_reference(const std::string& key) {
    auto path = path_of_file_url(key);
    if (!path) return std::move(path).error();
    auto lock = ShardLock::take(path->parent_path());
    if (!lock) return std::move(lock).error();
    struct stat st {};
    if (::lstat(path->c_str(), &st) != 0) return io_error("cannot delete", *path);
    if (!S_ISREG(st.st_mode)) return make_error(Errc::kInvalidArgument, path->string() + " is not a stored object");
    std::string prefix = ".";
    prefix += path->filename().string();
    prefix += ".ref-";
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(path->parent_path(), ec)) {
      if (entry.path().filename().string().rfind(prefix, 0) != 0) continue;
      if (::unlink(entry.path().c_str()) == 0) return {};
    }
    if (::unlink(path->c_str()) != 0) return io_error("cannot delete", *path);
    return {};
  }

  // Reads the object into `into`, or, with a sink, offers it in chunks of a
  // small per-thread buffer that stays in cache (what the sink declines
  // lands in `into` after its held bytes).
  Result<std::size_t> load(const std::string& key, std::span<std::byte> into, BodySink* sink = nullptr) {
    auto path = path_of_file_url(key);
    if (!path) return std::move(path).error();
    const int fd = ::open(path->c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);  // a FIFO must not block
    if (fd < 0) return io_error("cannot open", *path);
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      ::close(fd);
      return make_error(Errc::kNotFound, path->string() + " is not a regular file (no object there)");
    }
    if (static_cast<std::uint64_t>(st.st_size) > into.size()) {
      ::close(fd);
      return make_error(Errc::kLimit, path->string() + " is larger than a piece can be");
    }
    constexpr std::size_t kChunk = std::size_t{1} << 20;
    thread_local std::unique_ptr<std::byte[]> chunk;
    if (sink && !chunk) chunk.reset(new (std::nothrow) std::byte[kChunk]);
    bool streaming = sink && chunk;
    const auto size = static_cast<std::size_t>(st.st_size);
    std::size_t done = 0;
    while (done < size) {
      std::byte* to = streaming ? chunk.get() : into.data() + done;
      const ssize_t n = ::read(fd, to, streaming ? std::min(kChunk, size - done) : size - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        const Error error = n == 0 ? Error{Errc::kIo, "cannot read " + path->string() + ": it shrank while read"}
                                   : io_error("cannot read", *path);
        ::close(fd);
        return error;
      }
      if (streaming) {
        const std::span<const std::byte> got(chunk.get(), static_cast<std::size_t>(n));
        auto took = sink->offer(got);
        if (!took) {
          ::close(fd);
          return make_error(took.error().code, path->string() + ": " + took.error().message);
        }
        if (*took == BodySink::Take::kDeclined) {  // held() are the bytes before this chunk
          streaming = false;
          const auto held = sink->held();
          std::memmove(into.data(), held.data(), held.size());
          std::memcpy(into.data() + held.size(), got.data(), got.size());
        }
      }
      done += static_cast<std::size_t>(n);
    }
    ::close(fd);
    if (streaming) return done;  // the sink judges what it took
    if (check_body_) {
      auto allowed = check_body_(into.first(std::min(done, kBodyHeadBytes)), {});
      if (!allowed) return make_error(allowed.error().code, path->string() + ": " + allowed.error().message);
      if (done > *allowed) return make_error(Errc::kLimit, path->string() + " is larger than its image can be");
    }
    return done;
  }

  std::filesystem::path root_;
  BodyCheck check_body_;
};

}  // namespace

std::filesystem::path default_store_dir() {
  // Relative values are ignored, as the XDG spec says: keys must be absolute file:// URLs.
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg && *xdg == '/')
    return std::filesystem::path(xdg) / "sxengine" / "store";
  const char* home = std::getenv("HOME");
  return std::filesystem::path(home && *home == '/' ? home : "/tmp") / ".local" / "share" / "sxengine" /
         "store";
}

std::string file_url(const std::filesystem::path& path) {
  return "file://" + text::percent_encode(path.string(), "/-._~");
}

Result<std::filesystem::path> path_of_file_url(std::string_view url) {
  constexpr std::string_view kScheme = "file://";
  if (url.substr(0, kScheme.size()) != kScheme)
    return make_error(Errc::kInvalidArgument, "not a file:// URL: " + std::string(url));
  std::string_view rest = url.substr(kScheme.size());
  if (rest.substr(0, 9) == "localhost") rest.remove_prefix(9);
  if (rest.empty() || rest[0] != '/')
    return make_error(Errc::kInvalidArgument, "file:// URL must hold an absolute path");
  std::string path;
  for (std::size_t i = 0; i < rest.size(); ++i) {
    if (rest[i] == '%' && i + 2 < rest.size() && std::isxdigit(static_cast<unsigned char>(rest[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(rest[i + 2]))) {
      path.push_back(static_cast<char>(std::stoi(std::string(rest.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      path.push_back(rest[i]);
    }
  }
  if (path.find('\0') != std::string::npos)
    return make_error(Errc::kInvalidArgument, "file:// URL holds a NUL byte");
  return std::filesystem::path(path);
}

std::unique_ptr<Backend> make_local_backend(std::filesystem::path root, BodyCheck check_body) {
  return std::make_unique<LocalBackend>(std::move(root), std::move(check_body));
}

}  // namespace sx::net
