#include "engine/core/cancel_token.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdint>

namespace sx::engine {

CancelToken::CancelToken() : fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}

CancelToken::~CancelToken() {
  if (fd_ >= 0) ::close(fd_);
}

void CancelToken::request() {
  requested_ = true;
  if (fd_ >= 0) {
    const std::uint64_t one = 1;
    [[maybe_unused]] const ssize_t n = ::write(fd_, &one, sizeof one);  // a full counter is still readable
  }
}

void CancelToken::reset() {
  requested_ = false;
  if (fd_ >= 0) {
    std::uint64_t drained = 0;
    [[maybe_unused]] const ssize_t n = ::read(fd_, &drained, sizeof drained);
  }
}

}  // namespace sx::engine
