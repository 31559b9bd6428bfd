// The local store's one lock: an exclusive flock() on an object's shard
// directory (ROOT/ab/), held while an object is created or referenced and
// while a reference is dropped, so that concurrent pushes and rms (other
// processes too, and other machines where the file system carries flock,
// as NFS does) never lose a reference count. Reads take no lock: objects
// appear by rename, whole.
#pragma once

#include <filesystem>

#include "sx/error.h"

namespace sx::net {

class ShardLock {
 public:
  // Blocks until the lock is held. kNotFound when `dir` does not exist.
  static Result<ShardLock> take(const std::filesystem::path& dir);
  ShardLock(ShardLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  ShardLock& operator=(ShardLock&&) = delete;
  ~ShardLock();  // closing the descriptor releases the lock

 private:
  explicit ShardLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace sx::net
