// Tests engine/core/progress_queue.h: events in order on one thread, piece
// reports held back by a sink that blocks once the queue is full, retries
// (the event loop's) never.
#include <doctest/doctest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "engine/core/progress_queue.h"

using namespace sx;

namespace {

// Blocks in its first on_piece until open() is called.
struct GatedSink final : ProgressSink {
  std::mutex mutex;  // guards open_, pieces, retries
  std::condition_variable changed;
  bool open_ = false;
  std::vector<std::uint64_t> pieces;
  int retries = 0;

  void open() {
    {
      std::lock_guard lock(mutex);
      open_ = true;
    }
    changed.notify_all();
  }
  void on_start(std::string_view, std::uint64_t, std::uint64_t) override {}
  void on_piece(std::uint64_t index, std::uint64_t) override {
    std::unique_lock lock(mutex);
    changed.wait(lock, [this] { return open_; });
    pieces.push_back(index);
  }
  void on_retry(std::string_view, int, std::string_view) override {
    std::lock_guard lock(mutex);
    ++retries;
  }
  void on_finish(std::uint64_t, double, long) override {}
};

}  // namespace

TEST_CASE("progress queue: a blocked sink holds piece reports at the bound, never retries") {
  GatedSink sink;
  {
    engine::ProgressQueue queue(sink);
    std::atomic<std::uint64_t> posted{0};
    const std::uint64_t total = engine::ProgressQueue::kMaxQueued + 20;
    std::thread reporter([&] {
      for (std::uint64_t i = 0; i < total; ++i) {
        queue.on_piece(i, 1);
        ++posted;
      }
    });
    // The reporter stops at the bound (one piece being delivered, kMaxQueued queued)...
    while (posted.load() < engine::ProgressQueue::kMaxQueued + 1) std::this_thread::yield();
    // ...while a retry, reported as the event loop's thread would, goes through at once.
    queue.on_retry("http://x/", 1, "HTTP 503");
    CHECK(posted.load() <= engine::ProgressQueue::kMaxQueued + 1);
    sink.open();
    reporter.join();
    queue.drain();
    CHECK(posted.load() == total);
  }
  std::lock_guard lock(sink.mutex);
  CHECK(sink.retries == 1);
  REQUIRE(sink.pieces.size() == engine::ProgressQueue::kMaxQueued + 20);
  for (std::size_t i = 0; i < sink.pieces.size(); ++i) CHECK(sink.pieces[i] == i);
}
