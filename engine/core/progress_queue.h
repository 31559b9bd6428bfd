// Delivers an operation's progress events to the user's sink on one thread
// of its own, in the order they were reported: no user code (a Python
// callback that takes the GIL, a terminal that blocks) ever runs on the
// event loop's thread or on a worker, and a sink that is a little slow never
// holds up a transfer. Reporting costs an enqueue; the queue is bounded
// (kMaxQueued events): a sink that falls that far behind makes the threads
// reporting pieces wait for it rather than memory grow (so a sink that
// blocks, as a Ctrl-C handler does, pauses the transfer). Retries and notes
// never wait: the event loop's thread reports retries, and must not stall
// every request behind a slow sink (they are few: one per failed attempt).
// drain() waits for delivery.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "sx/progress.h"

namespace sx::engine {

class ProgressQueue final : public ProgressSink {
 public:
  static constexpr std::size_t kMaxQueued = 64;

  explicit ProgressQueue(ProgressSink& target);
  ~ProgressQueue() override;  // delivers what is queued, then joins
  ProgressQueue(const ProgressQueue&) = delete;
  ProgressQueue& operator=(const ProgressQueue&) = delete;

  // Returns once every event reported before the call was delivered. Not
  // from the delivering thread (a sink's own callback).
  void drain();

  void on_start(std::string_view operation, std::uint64_t total_bytes, std::uint64_t pieces) override;
  void on_piece(std::uint64_t index, std::uint64_t bytes) override;
  void on_retry(std::string_view url, int attempt, std::string_view reason) override;
  void on_finish(std::uint64_t bytes, double seconds, long retries) override;
  void on_resume(std::string_view operation, std::uint64_t done, std::uint64_t total) override;
  void on_note(std::string_view text) override;
  void on_file(std::string_view path, std::uint64_t bytes, std::uint64_t done, std::uint64_t total) override;

 private:
  void post(std::function<void(ProgressSink&)> event, bool may_wait = true);
  void run();

  ProgressSink& target_;
  std::mutex mutex_;  // guards queue_, delivering_, stopping_
  std::condition_variable wake_;
  std::condition_variable idle_;
  std::condition_variable room_;  // the queue fell below kMaxQueued
  std::deque<std::function<void(ProgressSink&)>> queue_;
  bool delivering_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace sx::engine
