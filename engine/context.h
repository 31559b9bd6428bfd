// What a push or pull needs, passed down (mold's ctx): no globals.
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <optional>

#include "codec/manifest.h"
#include "codec/piece_format.h"
#include "sx/error.h"
#include "sx/options.h"
#include "sx/progress.h"

namespace sx::net {
class EventLoop;
}

namespace sx::engine {

class ThreadPool;

struct Context {
  const Options& options;
  ThreadPool& pool;
  std::atomic<bool>& cancelled;
  codec::DecodeLimits limits;
  codec::ManifestLimits manifest_limits;
  std::function<long()> retries;  // request retries so far (network backends)
  std::atomic<long> refetches{0};  // pieces fetched again after a corrupt body

  long all_retries() const { return retries() + refetches.load(); }
};

// The first failure of a set of concurrent pieces; later ones are dropped
// (they are usually consequences). Setting it cancels the rest.
class FirstError {
 public:
  explicit FirstError(std::atomic<bool>& cancelled) : cancelled_(cancelled) {}
  void set(Error error) {
    std::lock_guard lock(mutex_);
    if (!error_) error_ = std::move(error);
    cancelled_ = true;
  }
  std::optional<Error> take() {
    std::lock_guard lock(mutex_);
    return std::move(error_);
  }

 private:
  std::atomic<bool>& cancelled_;
  std::mutex mutex_;  // guards error_
  std::optional<Error> error_;
};

inline void report(ProgressSink* sink, auto&& call) {
  if (sink) call(*sink);
}

}  // namespace sx::engine
