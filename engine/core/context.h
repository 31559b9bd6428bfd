// What a push or pull needs, passed down (mold's ctx): no globals.
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "codec/manifest.h"
#include "codec/piece_format.h"
#include "engine/core/cancel_token.h"
#include "sx/error.h"
#include "sx/options.h"
#include "sx/progress.h"

namespace sx::engine {

class ThreadPool;

// A piece whose body arrives corrupt after a 200 (a flaky proxy) is fetched
// this many times in all before the operation fails naming it.
inline constexpr int kMaxCorruptRefetches = 3;

struct Context {
  const Options& options;
  ThreadPool& pool;
  CancelToken& cancel;  // the user's Ctrl-C, or a sibling piece's failure
  codec::DecodeLimits limits;
  codec::ManifestLimits manifest_limits;
  std::function<long()> retries;  // request retries so far (network backends)
  std::atomic<long> refetches{0};  // pieces fetched again after a corrupt body
  // Caps the retries of GETs from now on (-1: --retries); set by Storage for
  // key operations, whose pieces of a striped key can be rebuilt instead.
  std::function<void(int)> limit_get_retries;
  // The key's further manifest copies (its &m= parts), tried in order when
  // the first fails (fetch_manifest_copies).
  std::vector<std::string> manifest_alternates;
  // Ends every request of this operation still in flight (EventLoop::cancel):
  // a piece that fails for good stops the others at once instead of the
  // operation waiting for each of them (FirstError calls it). May be empty.
  std::function<void()> stop_requests;

  bool cancelled() const { return cancel.requested(); }
  long all_retries() const { return retries() + refetches.load(); }
};

// The first failure of a set of concurrent pieces; later ones are dropped
// (they are usually consequences). Setting it cancels the rest: the token
// stops new work, and the operation's requests in flight are ended at once.
class FirstError {
 public:
  explicit FirstError(Context& ctx) : cancel_(ctx.cancel), stop_requests_(ctx.stop_requests) {}
  void set(Error error) {
    bool first = false;
    {
      std::lock_guard lock(mutex_);
      first = !error_;
      if (first) error_ = std::move(error);
      cancel_.request();
    }
    if (first && stop_requests_) stop_requests_();  // outside the lock: it may complete requests inline
  }
  std::optional<Error> take() {
    std::lock_guard lock(mutex_);
    return std::move(error_);
  }

 private:
  CancelToken& cancel_;
  std::function<void()> stop_requests_;
  std::mutex mutex_;  // guards error_
  std::optional<Error> error_;
};

// The error of a buffer that could not be had (the window's slots).
inline Error out_of_memory(std::size_t bytes) {
  return Error{Errc::kLimit, "out of memory: cannot allocate " + std::to_string(bytes >> 20) +
                                 " MiB for a piece buffer (lower --parallel or --piece-size)"};
}

inline void report(ProgressSink* sink, auto&& call) {
  if (sink) call(*sink);
}

}  // namespace sx::engine
