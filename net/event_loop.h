// One thread runs standalone Asio driving one libcurl multi handle
// (DESIGN.md §Transfers). Everything curl lives on that thread.
#pragma once

#include <memory>

#include "net/http.h"

namespace sx::net {

class EventLoop {
 public:
  // Fails (kIo) when libcurl cannot make a multi handle.
  static Result<std::unique_ptr<EventLoop>> create(TransferOptions options);
  ~EventLoop();  // finishes nothing: cancels what is in flight, joins the thread
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Any thread. `done` runs on the loop thread, exactly once, after the
  // request succeeded (2xx) or failed for good (retries spent, not retriable,
  // cancelled, or refused by curl).
  void submit(Request request, Completion done);

  // Any thread. Fails the operation's requests, in flight or waiting, with
  // kCancelled, and any it submits later; other operations go on.
  void cancel(OperationId operation);
  // Forgets a finished operation's marks (cancelled, public only).
  void end_operation(OperationId operation);
  // Requests of `operation` may not connect to internal addresses
  // (net/address_class.h), checked on every connection curl opens, after
  // DNS and on every redirect; call before its first request. Not applied
  // through a proxy (which then decides what it reaches).
  void restrict_to_public(OperationId operation);

  void set_retry_observer(RetryObserver observer);  // before the first submit
  long retries() const;

 private:
  explicit EventLoop(TransferOptions options);
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sx::net
