// Fixed worker threads fed by one mutex+condvar queue (leveldb's Schedule).
// Workers run codec functions on buffers handed to them with the task.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace sx::engine {

class ThreadPool {
 public:
  explicit ThreadPool(int threads);  // 0: one per core
  ~ThreadPool();                     // runs what is queued, then joins
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  void post(std::function<void()> task);  // any thread
  int size() const { return static_cast<int>(threads_.size()); }

 private:
  void run();

  std::mutex mutex_;  // guards queue_ and stopping_
  std::condition_variable wake_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace sx::engine
