#include "net/rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace sx::net {

RateLimiter::RateLimiter(std::uint64_t bytes_per_second)
    : rate_(static_cast<double>(bytes_per_second)),
      capacity_(std::max(rate_ / 4, 65536.0)),
      tokens_(capacity_),
      last_(std::chrono::steady_clock::now()) {}

void RateLimiter::refill() {
  const auto now = std::chrono::steady_clock::now();
  tokens_ = std::min(capacity_, tokens_ + rate_ * std::chrono::duration<double>(now - last_).count());
  last_ = now;
}

bool RateLimiter::take(std::size_t n) {
  if (!limited()) return true;
  refill();
  if (tokens_ <= 0) return false;
  tokens_ -= static_cast<double>(n);
  return true;
}

std::chrono::milliseconds RateLimiter::wait() const {
  if (!limited() || tokens_ > 0) return std::chrono::milliseconds(0);
  const double seconds = -tokens_ / rate_;
  return std::chrono::milliseconds(std::max<long>(5, static_cast<long>(std::ceil(seconds * 1000))));
}

}  // namespace sx::net
