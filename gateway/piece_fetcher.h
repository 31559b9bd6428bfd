// The gateway's side of the engine: one engine::PieceSource for every request
// (thread-safe by contract), a few fetch threads that run it for the pieces
// the responses ask for, urgent ones first, each fetch cancellable alone
// (docs/GATEWAY.md §Threads).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "engine/piece_source.h"
#include "gateway/piece_cache.h"
#include "sx/error.h"
#include "sx/options.h"

namespace sx::gateway {

// A key opened once (engine/piece_source.h): its checked manifest, its id in
// the caches, what deciphers its pieces.
using OpenedFile = engine::OpenedKey;

class PieceFetcher {
 public:
  // `options.parallel` fetch threads (pieces in flight, all clients
  // together); `options.workers` decode threads. `reach` is what every key
  // is held to: a gateway off loopback reads no file:// object and reaches
  // no internal address unless told to.
  static Result<std::unique_ptr<PieceFetcher>> create(const Options& options, PieceCache& cache,
                                                      const engine::PieceSource::Reach& reach);
  ~PieceFetcher();  // stop()s
  PieceFetcher(const PieceFetcher&) = delete;
  PieceFetcher& operator=(const PieceFetcher&) = delete;

  // Any thread; blocks. The key's manifest, fetched and checked.
  Result<std::shared_ptr<const OpenedFile>> open(const engine::KeyRef& key) { return source_->open(key); }

  // Any thread. Queues the fetch of `entry` (piece `index` of `file`): urgent
  // ones (a response waits) go before read-ahead.
  void submit(std::shared_ptr<const OpenedFile> file, std::uint64_t index, std::shared_ptr<PieceCache::Entry> entry,
              bool urgent);

  // Cancels what is in flight, drops what is queued, joins the threads.
  void stop();

  std::uint64_t pieces_fetched() const { return fetched_.load(); }

 private:
  struct Job {
    std::shared_ptr<const OpenedFile> file;
    std::uint64_t index = 0;
    std::shared_ptr<PieceCache::Entry> entry;
  };
  PieceFetcher(PieceCache& cache, std::unique_ptr<engine::PieceSource> source);
  void run();
  void fetch(const Job& job);

  PieceCache& cache_;
  std::unique_ptr<engine::PieceSource> source_;
  std::atomic<std::uint64_t> fetched_{0};

  std::mutex mutex_;  // guards urgent_, ahead_, stopping_
  std::condition_variable wake_;
  std::deque<Job> urgent_;
  std::deque<Job> ahead_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace sx::gateway
