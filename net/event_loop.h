// One thread runs standalone Asio driving one libcurl multi handle
// (DESIGN.md §Transfers). Everything curl lives on that thread.
#pragma once

#include <memory>

#include "net/http.h"

namespace sx::net {

class EventLoop {
 public:
  explicit EventLoop(TransferOptions options);
  ~EventLoop();  // finishes nothing: cancels what is in flight, joins the thread
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Any thread. `done` runs on the loop thread, exactly once, after the
  // request succeeded (2xx) or failed for good (retries spent or not retriable).
  void submit(Request request, Completion done);

  // Any thread. Fails everything in flight with kCancelled and refuses new work.
  void cancel_all();

  void set_retry_observer(RetryObserver observer);  // before the first submit
  long retries() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sx::net
