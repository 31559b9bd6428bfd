// --bwlimit: a token bucket shared by every transfer of a direction, all
// connections together. A transfer that finds the bucket empty is paused
// (curl's CURL_READFUNC_PAUSE / CURL_WRITEFUNC_PAUSE) and resumed by the
// loop once tokens are back. Loop thread only, like everything curl.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace sx::net {

class RateLimiter {
 public:
  // `bytes_per_second` 0: no limit. The bucket holds a quarter second of
  // traffic (at least 64 KiB), so a cap holds over a few seconds without
  // starving curl's 256 KiB chunks.
  explicit RateLimiter(std::uint64_t bytes_per_second);

  bool limited() const { return rate_ > 0; }
  // Takes `n` bytes if any tokens are left (the bucket may go into debt by
  // one chunk); false: pause until wait() has passed.
  bool take(std::size_t n);
  // How long until take() can succeed again.
  std::chrono::milliseconds wait() const;

 private:
  void refill();

  double rate_;
  double capacity_;
  double tokens_;
  std::chrono::steady_clock::time_point last_;
};

}  // namespace sx::net
