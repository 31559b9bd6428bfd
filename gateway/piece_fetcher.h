// The gateway's side of the engine: one worker pool and one event loop for
// every request (both thread-safe by contract), a few fetch threads that run
// the engine's piece-fetching API (engine/pull/downloader.h) for the pieces the
// responses ask for, one piece per Downloader::fetch, each as its own event
// loop operation so that it can be cancelled alone (docs/GATEWAY.md §Threads).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "codec/manifest.h"
#include "codec/piece_crypto.h"
#include "engine/keys/checked_manifest.h"
#include "engine/keys/key_policy.h"
#include "gateway/piece_cache.h"
#include "sx/error.h"
#include "sx/options.h"

namespace sx::net {
class EventLoop;
}
namespace sx::engine {
class ThreadPool;
}

namespace sx::gateway {

// A key opened once: its manifest, checked, and what decrypts its pieces.
struct OpenedFile {
  std::string id;  // names the file in the caches: hex SHA-256 of the URL and the content key
  std::string url;
  std::optional<codec::ContentKey> content_key;
  engine::CheckedManifest manifest;
};

class PieceFetcher {
 public:
  // `options.parallel` fetch threads (pieces in flight, all clients
  // together); `options.workers` decode threads. `policy` is what every
  // key is held to (engine/keys/key_policy.h): a gateway off loopback reads no
  // file:// object and reaches no internal address unless told to.
  static Result<std::unique_ptr<PieceFetcher>> create(const Options& options, PieceCache& cache,
                                                      const engine::KeyPolicyOptions& policy);
  ~PieceFetcher();  // stop()s
  PieceFetcher(const PieceFetcher&) = delete;
  PieceFetcher& operator=(const PieceFetcher&) = delete;

  // Any thread; blocks. Fetches and checks the manifest tree of `url`
  // (the key without its fragment), else of each alternate copy the key
  // names, as an operation of its own, held to the key's policy.
  Result<engine::CheckedManifest> fetch_manifest(const std::string& url, const std::vector<std::string>& alternates,
                                         const std::optional<codec::ContentKey>& content_key);

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
  struct Control;
  PieceFetcher(const Options& options, PieceCache& cache, const engine::KeyPolicyOptions& policy);
  void run();
  void fetch(const Job& job);

  Options options_;
  PieceCache& cache_;
  engine::KeyPolicyOptions policy_;
  std::unique_ptr<engine::ThreadPool> pool_;
  std::unique_ptr<net::EventLoop> loop_;
  std::atomic<std::uint64_t> last_operation_{0};
  std::atomic<std::uint64_t> fetched_{0};

  std::mutex mutex_;  // guards urgent_, ahead_, running_, stopping_
  std::condition_variable wake_;
  std::deque<Job> urgent_;
  std::deque<Job> ahead_;
  std::set<std::shared_ptr<Control>> running_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace sx::gateway
