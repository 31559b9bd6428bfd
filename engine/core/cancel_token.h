// Asks one operation to stop: a flag the pipeline polls, and a descriptor
// that a thread blocked on input (a FIFO with no writer, a terminal) can
// poll() beside its own, so Ctrl-C is never stuck behind a read.
#pragma once

#include <atomic>

namespace sx::engine {

class CancelToken {
 public:
  CancelToken();   // an eventfd; without one (fd limit) cancellation still
  ~CancelToken();  // works, only blocking reads wake no sooner than their data
  CancelToken(const CancelToken&) = delete;
  CancelToken& operator=(const CancelToken&) = delete;

  void request();  // any thread, async-signal-safe
  bool requested() const { return requested_.load(std::memory_order_relaxed); }
  // Readable once request() ran; -1 without an eventfd.
  int wait_fd() const { return fd_; }
  void reset();  // before the next operation

 private:
  std::atomic<bool> requested_{false};
  int fd_ = -1;
};

}  // namespace sx::engine
