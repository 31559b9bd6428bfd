#include "gateway/piece_fetcher.h"

#include <algorithm>

namespace sx::gateway {

PieceFetcher::PieceFetcher(PieceCache& cache, std::unique_ptr<engine::PieceSource> source)
    : cache_(cache), source_(std::move(source)) {}

Result<std::unique_ptr<PieceFetcher>> PieceFetcher::create(const Options& options, PieceCache& cache,
                                                            const engine::PieceSource::Reach& reach) {
  auto source = engine::PieceSource::create(options, reach);
  if (!source) return std::move(source).error();
  std::unique_ptr<PieceFetcher> fetcher(new PieceFetcher(cache, std::move(*source)));
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
  }
  source_->stop();
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
  engine::PieceFetch handle = source_->new_fetch();
  auto buffer = cache_.start(*job.entry, [handle] { handle.cancel(); });
  if (!buffer) {
    // Nobody wants it any more (or no memory): the cache forgets it.
    return cache_.fail(*job.entry, Error{Errc::kCancelled, "no longer wanted"});
  }
  const Status status = source_->fetch(handle, *job.file, job.index, *buffer);
  if (status) {
    ++fetched_;
    cache_.complete(*job.entry);
  } else {
    cache_.fail(*job.entry, std::move(status).error());
  }
}

}  // namespace sx::gateway
