#include "gateway/piece_cache.h"

#include <sys/mman.h>

#include <algorithm>

namespace sx::gateway {

void PieceCache::Unmap::operator()(std::byte* p) const noexcept { ::munmap(p, bytes); }

namespace {

// Mapped directly rather than malloc'd: a piece buffer is reused through
// spare_ and never shares an allocator arena with anything else.
PieceCache::Buffer map_buffer(std::size_t bytes) {
  if (bytes == 0) return PieceCache::Buffer(nullptr, PieceCache::Unmap{0});
  void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return PieceCache::Buffer(nullptr, PieceCache::Unmap{0});
  return PieceCache::Buffer(static_cast<std::byte*>(p), PieceCache::Unmap{bytes});
}

}  // namespace

struct PieceCache::Entry {
  enum class State { kPending, kReady, kFailed };
  std::string id;
  std::size_t bytes = 0;
  State state = State::kPending;
  int pins = 0;
  bool in_map = true;
  bool fetching = false;   // between start() and complete()/fail()
  bool charged = true;     // `bytes` are counted in committed_
  Buffer data{nullptr, Unmap{0}};  // `bytes` long once started (maybe a spare, with old bytes: the fetch overwrites all)
  std::optional<Error> error;
  std::function<void()> cancel;
  std::list<Entry*>::iterator idle_position;
  bool idle = false;
};

PieceCache::Pin& PieceCache::Pin::operator=(Pin&& other) noexcept {
  if (this != &other) {
    reset();
    cache_ = other.cache_;
    entry_ = std::move(other.entry_);
    other.cache_ = nullptr;
  }
  return *this;
}

void PieceCache::Pin::reset() {
  if (entry_ && cache_) cache_->release(entry_);
  entry_.reset();
  cache_ = nullptr;
}

bool PieceCache::Pin::wait_for(std::chrono::milliseconds slice) const {
  std::unique_lock lock(cache_->mutex_);
  return cache_->changed_.wait_for(lock, slice, [&] { return entry_->state != Entry::State::kPending; });
}

Result<std::span<const std::byte>> PieceCache::Pin::payload() const {
  std::lock_guard lock(cache_->mutex_);
  if (entry_->state == Entry::State::kReady) return std::span<const std::byte>(entry_->data.get(), entry_->bytes);
  if (entry_->error) return *entry_->error;
  return make_error(Errc::kTransient, "piece not fetched yet");
}

PieceCache::PieceCache(std::size_t capacity_bytes) : capacity_(capacity_bytes), reserve_(capacity_bytes / 4) {}

PieceCache::~PieceCache() = default;

bool PieceCache::make_room(Entry& entry, std::size_t limit) {
  const std::size_t bytes = entry.bytes;
  for (;;) {
    if (committed_ + bytes <= limit) {
      // A spare of the same size is memory already held: reuse it.
      auto same = std::find_if(spare_.begin(), spare_.end(), [&](const Buffer& b) { return b.get_deleter().bytes == bytes; });
      if (same != spare_.end() && bytes > 0) {
        entry.data = std::move(*same);
        spare_.erase(same);
        spare_bytes_ -= bytes;
        committed_ += bytes;
        return true;
      }
      if (committed_ + spare_bytes_ + bytes <= capacity_) {
        committed_ += bytes;
        return true;
      }
      if (!spare_.empty()) {  // spares of other sizes go first
        spare_bytes_ -= spare_.back().get_deleter().bytes;
        spare_.pop_back();
        continue;
      }
    }
    if (idle_.empty()) return false;
    forget(*idle_.front());  // its buffer becomes a spare
  }
}

void PieceCache::forget(Entry& entry) {
  if (entry.idle) {
    idle_.erase(entry.idle_position);
    entry.idle = false;
  }
  if (entry.charged && !entry.fetching) {
    committed_ -= entry.bytes;
    entry.charged = false;
    if (entry.data) {
      spare_bytes_ += entry.bytes;
      spare_.push_back(std::move(entry.data));
    }
  }
  if (entry.in_map) {
    entry.in_map = false;
    // By iterator, not by entry.id: erasing may destroy the entry (and its
    // id) when the map held the last reference. Touch nothing after.
    map_.erase(map_.find(entry.id));
  }
}

PieceCache::Acquired PieceCache::acquire(const std::string& id, std::size_t bytes, Want want,
                                         Clock::time_point deadline) {
  Acquired out;
  if (bytes > capacity_) {
    out.refused = Error{Errc::kLimit, "a piece of " + std::to_string(bytes) + " bytes does not fit --cache-size " +
                                          std::to_string(capacity_)};
    return out;
  }
  std::unique_lock lock(mutex_);
  std::shared_ptr<Entry> fresh;
  for (;;) {
    if (auto it = map_.find(id); it != map_.end()) {
      Entry& entry = *it->second;
      if (entry.idle) {
        idle_.erase(entry.idle_position);
        entry.idle = false;
      }
      ++entry.pins;
      ++hits_;
      out.pin = Pin(this, it->second);
      return out;
    }
    const std::size_t limit = want == Want::kAhead ? capacity_ - reserve_ : capacity_;
    if (!fresh) {
      fresh = std::make_shared<Entry>();
      fresh->id = id;
      fresh->bytes = bytes;
    }
    if (make_room(*fresh, limit)) break;
    if (want == Want::kAhead) {
      out.refused = Error{Errc::kLimit, "no room for read-ahead"};
      return out;
    }
    if (changed_.wait_until(lock, deadline) == std::cv_status::timeout && committed_ + bytes > capacity_ &&
        idle_.empty()) {
      out.refused = Error{Errc::kTransient, "the gateway's piece cache stayed full (too many slow clients)"};
      return out;
    }
  }
  std::shared_ptr<Entry> entry = std::move(fresh);
  entry->pins = 1;
  map_.emplace(id, entry);
  out.pin = Pin(this, entry);
  out.fetch = std::move(entry);
  return out;
}

std::optional<std::span<std::byte>> PieceCache::start(Entry& entry, std::function<void()> cancel) {
  std::lock_guard lock(mutex_);
  if (!entry.in_map || entry.pins == 0) return std::nullopt;
  // Counted since acquire(); a spare was handed over there, else mapped now.
  if (!entry.data) entry.data = map_buffer(entry.bytes);
  if (!entry.data && entry.bytes > 0) return std::nullopt;
  entry.fetching = true;
  entry.cancel = std::move(cancel);
  return std::span<std::byte>(entry.data.get(), entry.bytes);
}

void PieceCache::complete(Entry& entry) {
  {
    std::lock_guard lock(mutex_);
    entry.fetching = false;
    entry.cancel = nullptr;
    if (!entry.in_map) {
      // Abandoned while it was fetched: its bytes were kept counted until now.
      forget(entry);
    } else {
      entry.state = Entry::State::kReady;
      if (entry.pins == 0) {
        idle_.push_back(&entry);
        entry.idle_position = std::prev(idle_.end());
        entry.idle = true;
      }
    }
  }
  changed_.notify_all();
}

void PieceCache::fail(Entry& entry, Error error) {
  {
    std::lock_guard lock(mutex_);
    entry.fetching = false;
    entry.cancel = nullptr;
    entry.state = Entry::State::kFailed;
    entry.error = std::move(error);
    forget(entry);  // a failure is not cached: the next request tries again
  }
  changed_.notify_all();
}

void PieceCache::release(const std::shared_ptr<Entry>& entry) {
  std::function<void()> cancel;
  {
    std::lock_guard lock(mutex_);
    if (--entry->pins > 0) return;
    if (entry->state == Entry::State::kReady && entry->in_map) {
      idle_.push_back(entry.get());
      entry->idle_position = std::prev(idle_.end());
      entry->idle = true;
    } else if (entry->in_map || entry->charged) {
      // Pending and wanted by nobody now: stop its fetch, free its room
      // (at once if it never started, when the fetcher gives up if it did).
      cancel = std::move(entry->cancel);
      forget(*entry);
    }
  }
  changed_.notify_all();
  if (cancel) cancel();
}

std::size_t PieceCache::used_bytes() const {
  std::lock_guard lock(mutex_);
  return committed_;
}

std::size_t PieceCache::spare_bytes() const {
  std::lock_guard lock(mutex_);
  return spare_bytes_;
}

std::size_t PieceCache::entries() const {
  std::lock_guard lock(mutex_);
  return map_.size();
}

std::uint64_t PieceCache::hits() const {
  std::lock_guard lock(mutex_);
  return hits_;
}

}  // namespace sx::gateway
