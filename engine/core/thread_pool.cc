#include "engine/core/thread_pool.h"

#include <algorithm>

#include "base/exception_error.h"

namespace sx::engine {

ThreadPool::ThreadPool(int threads) {
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  threads_.reserve(static_cast<std::size_t>(threads));
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { run(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (std::thread& t : threads_) t.join();
}

void ThreadPool::post(std::function<void()> task, OnError on_error) {
  {
    std::lock_guard lock(mutex_);
    queue_.push_back({std::move(task), std::move(on_error)});
  }
  wake_.notify_one();
}

void ThreadPool::run() {
  for (;;) {
    Task task;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    try {
      task.run();
    } catch (...) {
      const Error error = error_from_exception(std::current_exception());
      try {
        if (task.on_error) task.on_error(error);
      } catch (...) {  // nothing left to tell: the worker lives on
      }
    }
  }
}

}  // namespace sx::engine
