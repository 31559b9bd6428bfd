// Tests the async discipline of engine/core/context.h's FirstError with an async
// fake backend: requests complete on another thread, out of order, after a
// delay; one piece fails for good at once. The failure must end every
// request still in flight through Context::stop_requests, so the push ends
// in well under the slow requests' time instead of waiting for each.
#include <doctest/doctest.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <thread>

#include "engine/core/cancel_token.h"
#include "engine/core/context.h"
#include "engine/push/push.h"
#include "engine/core/thread_pool.h"
#include "net/backend.h"

using namespace sx;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

// PUTs complete on the backend's own thread after `delay` (in any order);
// the `fail_at`-th PUT fails with kDenied at once; stop() completes every
// pending PUT with kCancelled and refuses later ones of the operation, as
// EventLoop::cancel does.
class AsyncFakeBackend final : public net::Backend {
 public:
  AsyncFakeBackend(std::chrono::milliseconds delay, int fail_at) : delay_(delay), fail_at_(fail_at) {
    thread_ = std::thread([this] { run(); });
  }
  ~AsyncFakeBackend() override {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }
  void put(const std::string& name, std::span<const std::byte>, net::PutDone done) override {
    std::unique_lock lock(mutex_);
    if (stopped_) {
      lock.unlock();
      return done(make_error(Errc::kCancelled, "cancelled"));
    }
    if (++puts_ == fail_at_) {
      lock.unlock();
      return done(make_error(Errc::kDenied, "PUT " + name + ": HTTP 403"));
    }
    pending_.push_back({Clock::now() + delay_ + std::chrono::milliseconds(rng_() % 50), name, std::move(done)});
    wake_.notify_all();
  }
  void get(const std::string& key, std::span<std::byte>, net::GetDone done) override {
    done(make_error(Errc::kNotFound, key));
  }
  void get_whole(const std::string& key, std::size_t, net::WholeDone done) override {
    done(make_error(Errc::kNotFound, key));
  }
  bool synchronous() const override { return false; }
  std::string describe() const override { return "async fake"; }

  void stop() {
    std::deque<Pending> cancelled;
    {
      std::lock_guard lock(mutex_);
      stopped_ = true;
      cancelled.swap(pending_);
    }
    for (Pending& p : cancelled) p.done(make_error(Errc::kCancelled, "cancelled"));
  }

 private:
  struct Pending {
    Clock::time_point due;
    std::string name;
    net::PutDone done;
  };
  void run() {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
      if (pending_.empty()) {
        wake_.wait(lock);
        continue;
      }
      // The earliest due, wherever it is: completions come out of order.
      auto next = pending_.begin();
      for (auto it = pending_.begin(); it != pending_.end(); ++it)
        if (it->due < next->due) next = it;
      // A copy: stop() may free the element while the wait has the lock released.
      const Clock::time_point due = next->due;
      if (Clock::now() < due) {
        wake_.wait_until(lock, due);
        continue;
      }
      Pending p = std::move(*next);
      pending_.erase(next);
      lock.unlock();
      p.done("fake:" + p.name);
      lock.lock();
    }
  }

  std::chrono::milliseconds delay_;
  int fail_at_;
  std::mutex mutex_;  // guards pending_, puts_, stopping_, stopped_, rng_
  std::condition_variable wake_;
  std::deque<Pending> pending_;
  int puts_ = 0;
  bool stopping_ = false;
  bool stopped_ = false;  // stop() ran: the operation is cancelled
  std::minstd_rand rng_{42};
  std::thread thread_;
};

}  // namespace

TEST_CASE("a piece that fails for good ends the requests in flight at once") {
  const fs::path dir = fs::temp_directory_path() / ("sxfirst-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  {
    std::ofstream out(dir / "in.bin", std::ios::binary);
    std::minstd_rand rng(7);
    for (int i = 0; i < 64 * 10000; ++i) out.put(static_cast<char>(rng()));
  }
  for (const bool stop_in_flight : {true, false}) {
    CAPTURE(stop_in_flight);
    Options options;
    options.piece_bytes = 10000;
    options.parallel = 16;
    options.encrypt = false;
    options.resume = false;
    engine::ThreadPool pool{2};
    engine::CancelToken cancel;
    AsyncFakeBackend backend(std::chrono::milliseconds(stop_in_flight ? 5000 : 600), 3);
    engine::Context ctx{options, pool, cancel, codec::kDefaultLimits, codec::ManifestLimits{}, [] { return 0L; }};
    if (stop_in_flight) ctx.stop_requests = [&backend] { backend.stop(); };
    const auto started = Clock::now();
    auto key = engine::push(ctx, backend, (dir / "in.bin").string(), "in.bin");
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
    REQUIRE_FALSE(key);
    CHECK(key.error().code == Errc::kDenied);  // the first failure, not the cancellations it caused
    if (stop_in_flight) {
      CHECK(took < std::chrono::milliseconds(2500));  // the slow PUTs (5 s) were ended, not waited for
    } else {
      CHECK(took >= std::chrono::milliseconds(550));  // without stop_requests the push waits for them
    }
  }
  fs::remove_all(dir);
}
