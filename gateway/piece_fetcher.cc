#include "gateway/piece_fetcher.h"

#include <cstring>

#include "base/text.h"
#include "engine/core/cancel_token.h"
#include "engine/pull/downloader.h"
#include "engine/keys/key_session.h"
#include "engine/core/thread_pool.h"
#include "engine/core/transfer_options.h"
#include "net/event_loop.h"

namespace sx::gateway {

// One piece fetch's own cancel state: the engine's flag and the loop's operation.
struct PieceFetcher::Control {
  engine::CancelToken token;
  net::OperationId operation = 0;
  std::mutex mutex;    // guards ended: a cancel after end_operation would mark the id for ever
  bool ended = false;

  void cancel(net::EventLoop& loop) {
    token.request();
    std::lock_guard lock(mutex);
    if (!ended) loop.cancel(operation);
  }
  void end(net::EventLoop& loop) {
    std::lock_guard lock(mutex);
    ended = true;
    loop.end_operation(operation);
  }
};

namespace {

// pull's transfer settings; piece fetches are capped by the fetch threads,
// manifests come on top.
net::TransferOptions transfer_options(const Options& options) {
  net::TransferOptions t = engine::transfer_options(options);
  t.max_in_flight *= 2;
  return t;
}

}  // namespace

PieceFetcher::PieceFetcher(const Options& options, PieceCache& cache, const engine::KeyPolicyOptions& policy)
    : options_(options), cache_(cache), policy_(policy),
      pool_(std::make_unique<engine::ThreadPool>(options.workers)) {}

Result<std::unique_ptr<PieceFetcher>> PieceFetcher::create(const Options& options, PieceCache& cache,
                                                            const engine::KeyPolicyOptions& policy) {
  std::unique_ptr<PieceFetcher> fetcher(new PieceFetcher(options, cache, policy));
  auto loop = net::EventLoop::create(transfer_options(options));
  if (!loop) return std::move(loop).error();
  fetcher->loop_ = std::move(*loop);
  for (int i = 0; i < std::max(1, options.parallel); ++i) fetcher->threads_.emplace_back([f = fetcher.get()] { f->run(); });
  return fetcher;
}

PieceFetcher::~PieceFetcher() { stop(); }

void PieceFetcher::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && threads_.empty()) return;
    stopping_ = true;
    urgent_.clear();
    ahead_.clear();
    for (const auto& control : running_) control->cancel(*loop_);
  }
  wake_.notify_all();
  for (std::thread& t : threads_) t.join();
  threads_.clear();
}

void PieceFetcher::submit(std::shared_ptr<const OpenedFile> file, std::uint64_t index,
                          std::shared_ptr<PieceCache::Entry> entry, bool urgent) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) {
      cache_.fail(*entry, Error{Errc::kCancelled, "the gateway is stopping"});
      return;
    }
    (urgent ? urgent_ : ahead_).push_back(Job{std::move(file), index, std::move(entry)});
  }
  wake_.notify_one();
}

void PieceFetcher::run() {
  for (;;) {
    Job job;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || !urgent_.empty() || !ahead_.empty(); });
      if (stopping_) return;
      std::deque<Job>& from = !urgent_.empty() ? urgent_ : ahead_;
      job = std::move(from.front());
      from.pop_front();
    }
    try {
      fetch(job);
    } catch (const std::exception& e) {  // bad_alloc: this piece fails, the gateway goes on
      cache_.fail(*job.entry, Error{Errc::kLimit, std::string("piece fetch failed: ") + e.what()});
    }
  }
}

void PieceFetcher::fetch(const Job& job) {
  auto control = std::make_shared<Control>();
  control->operation = ++last_operation_;
  net::EventLoop* loop = loop_.get();
  auto buffer = cache_.start(*job.entry, [control, loop] { control->cancel(*loop); });
  if (!buffer) {
    // Nobody wants it any more (or no memory): the cache forgets it.
    return cache_.fail(*job.entry, Error{Errc::kCancelled, "no longer wanted"});
  }
  {
    std::lock_guard lock(mutex_);
    if (stopping_) control->token.request();
    running_.insert(control);
  }
  // The key's session, as pull's: its policy, routed and guarded backends.
  const engine::KeyPolicy& policy = job.file->manifest.policy();
  engine::KeySession session(options_, *pool_, control->token, control->operation, policy,
                             [loop]() -> Result<net::EventLoop*> { return loop; }, [loop] { return loop->retries(); },
                             [control, loop] { control->cancel(*loop); });
  engine::Downloader downloader(session.context(), session.backend(), job.file->manifest, job.file->content_key);
  const engine::IndexRange one{job.index, job.index + 1};
  const Status status =
      downloader.fetch({&one, 1}, [&](const codec::PieceEntry&, std::span<const std::byte> payload) -> Status {
        if (payload.size() != buffer->size()) return make_error(Errc::kCorrupt, "piece size differs from the manifest");
        std::memcpy(buffer->data(), payload.data(), payload.size());
        return {};
      });
  control->end(*loop);
  {
    std::lock_guard lock(mutex_);
    running_.erase(control);
  }
  if (status) {
    ++fetched_;
    cache_.complete(*job.entry);
  } else {
    cache_.fail(*job.entry, std::move(status).error());
  }
}

Result<engine::CheckedManifest> PieceFetcher::fetch_manifest(const std::string& url, const std::vector<std::string>& alternates,
                                                     const std::optional<codec::ContentKey>& content_key) {
  auto control = std::make_shared<Control>();
  control->operation = ++last_operation_;
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return make_error(Errc::kCancelled, "the gateway is stopping");
    running_.insert(control);
  }
  net::EventLoop* loop = loop_.get();
  Result<engine::CheckedManifest> result = make_error(Errc::kIo, "no result");
  // The key's first manifest URL, else each copy it names (a striped push
  // stores one on every backend), as pull reads them, in the key's session.
  std::vector<std::string> manifest_urls{url};
  manifest_urls.insert(manifest_urls.end(), alternates.begin(), alternates.end());
  auto policy = engine::KeyPolicy::for_key(manifest_urls, policy_);
  if (!policy) {
    result = std::move(policy).error();
  } else {
    engine::KeySession session(options_, *pool_, control->token, control->operation, *policy,
                               [loop]() -> Result<net::EventLoop*> { return loop; }, [loop] { return loop->retries(); },
                               [control, loop] { control->cancel(*loop); });
    result = session.open(url, alternates, content_key);
  }
  control->end(*loop);
  std::lock_guard lock(mutex_);
  running_.erase(control);
  return result;
}

}  // namespace sx::gateway
