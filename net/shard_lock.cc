#include "net/shard_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace sx::net {

Result<ShardLock> ShardLock::take(const std::filesystem::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return make_error(errno == ENOENT ? Errc::kNotFound : Errc::kIo,
                      "cannot open " + dir.string() + ": " + std::strerror(errno));
  while (::flock(fd, LOCK_EX) != 0) {
    if (errno == EINTR) continue;
    const int error = errno;
    ::close(fd);
    return make_error(Errc::kIo, "cannot lock " + dir.string() + ": " + std::strerror(error));
  }
  return ShardLock(fd);
}

ShardLock::~ShardLock() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace sx::net
