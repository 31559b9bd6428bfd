#include "gateway/upload.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

namespace sx::gateway {

Result<std::unique_ptr<Upload>> Upload::start(const Options& options, const std::string& name) {
  Options o = options;
  o.progress = nullptr;
  o.resume = false;  // a body cannot be read again
  std::unique_ptr<Upload> upload(new Upload(o));
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return make_error(Errc::kIo, std::string("cannot make a pipe: ") + std::strerror(errno));
  upload->read_fd_ = fds[0];
  upload->write_fd_ = fds[1];
  // The push opens the read end again by its /dev/fd name, as it opens any FIFO.
  const std::string path = "/dev/fd/" + std::to_string(fds[0]);
  upload->joined_ = false;
  upload->thread_ = std::thread([u = upload.get(), path, name] {
    u->result_ = u->storage_.upload(path, name);
    ::close(u->read_fd_);
    u->done_ = true;
  });
  return upload;
}

Upload::~Upload() {
  if (!joined_) abort();
}

Status Upload::write(std::span<const char> bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(write_fd_, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return make_error(Errc::kIo, "the push stopped reading the body");
    bytes = bytes.subspan(static_cast<std::size_t>(n));
  }
  return {};
}

void Upload::join() {
  if (write_fd_ >= 0) ::close(write_fd_);
  write_fd_ = -1;
  if (thread_.joinable()) thread_.join();
  joined_ = true;
}

Result<std::string> Upload::finish() {
  join();
  return std::move(result_);
}

void Upload::abort() {
  // The write end stays open until the push has stopped, so it can never
  // see EOF and store a cut body; cancel() is repeated because one sent
  // before the push began its operation is dropped (Storage::cancel).
  while (!done_) {
    storage_.cancel();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  join();
}

}  // namespace sx::gateway
