// Fixed worker threads fed by one mutex+condvar queue (leveldb's Schedule).
// Workers run codec functions on buffers handed to them with the task. A
// task that throws never ends the process: its `on_error` gets the error
// (base/exception_error.h) and gives back what the task held, so the
// operation fails with it instead of waiting for a slot forever.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "sx/error.h"

namespace sx::engine {

class ThreadPool {
 public:
  explicit ThreadPool(int threads);  // 0: one per core
  ~ThreadPool();                     // runs what is queued, then joins
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  using OnError = std::function<void(Error)>;
  void post(std::function<void()> task, OnError on_error);  // any thread
  int size() const { return static_cast<int>(threads_.size()); }

 private:
  void run();

  std::mutex mutex_;  // guards queue_ and stopping_
  std::condition_variable wake_;
  struct Task {
    std::function<void()> run;
    OnError on_error;
  };
  std::deque<Task> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace sx::engine
