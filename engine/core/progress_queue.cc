#include "engine/core/progress_queue.h"

#include <string>

namespace sx::engine {

ProgressQueue::ProgressQueue(ProgressSink& target) : target_(target), thread_([this] { run(); }) {}

ProgressQueue::~ProgressQueue() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void ProgressQueue::drain() {
  std::unique_lock lock(mutex_);
  idle_.wait(lock, [this] { return queue_.empty() && !delivering_; });
}

void ProgressQueue::post(std::function<void(ProgressSink&)> event, bool may_wait) {
  {
    std::unique_lock lock(mutex_);
    // Backpressure, never from the delivering thread itself (it would wait for itself).
    if (may_wait && std::this_thread::get_id() != thread_.get_id())
      room_.wait(lock, [this] { return queue_.size() < kMaxQueued || stopping_; });
    queue_.push_back(std::move(event));
  }
  wake_.notify_one();
}

void ProgressQueue::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, and all delivered
    auto event = std::move(queue_.front());
    queue_.pop_front();
    room_.notify_all();
    delivering_ = true;
    lock.unlock();
    try {
      event(target_);
    } catch (...) {  // a sink that throws loses that event, never the process
    }
    lock.lock();
    delivering_ = false;
    if (queue_.empty()) idle_.notify_all();
  }
}

void ProgressQueue::on_start(std::string_view operation, std::uint64_t total_bytes, std::uint64_t pieces) {
  post([op = std::string(operation), total_bytes, pieces](ProgressSink& s) { s.on_start(op, total_bytes, pieces); });
}
void ProgressQueue::on_piece(std::uint64_t index, std::uint64_t bytes) {
  post([index, bytes](ProgressSink& s) { s.on_piece(index, bytes); });
}
void ProgressQueue::on_retry(std::string_view url, int attempt, std::string_view reason) {
  post([u = std::string(url), attempt, r = std::string(reason)](ProgressSink& s) { s.on_retry(u, attempt, r); },
       false);
}
void ProgressQueue::on_finish(std::uint64_t bytes, double seconds, long retries) {
  post([bytes, seconds, retries](ProgressSink& s) { s.on_finish(bytes, seconds, retries); });
}
void ProgressQueue::on_resume(std::string_view operation, std::uint64_t done, std::uint64_t total) {
  post([op = std::string(operation), done, total](ProgressSink& s) { s.on_resume(op, done, total); });
}
void ProgressQueue::on_file(std::string_view path, std::uint64_t bytes, std::uint64_t done, std::uint64_t total) {
  post([p = std::string(path), bytes, done, total](ProgressSink& s) { s.on_file(p, bytes, done, total); });
}
void ProgressQueue::on_note(std::string_view text) {
  post([t = std::string(text)](ProgressSink& s) { s.on_note(t); }, false);
}

}  // namespace sx::engine
