// The gateway's one bounded store of decoded pieces, shared by every request
// (docs/GATEWAY.md §Memory). Every byte of piece data the gateway holds is
// counted here before it is allocated: pieces being fetched, pieces a
// response is sending, and finished pieces kept for the next reader. The sum
// never exceeds the capacity (--cache-size); finished pieces nobody holds are
// evicted, least recently used first, to make room.
//
// An entry is wanted while some Pin holds it. When the last pin of an entry
// still being fetched goes, the fetch is cancelled (its cancel hook runs):
// a client that went away stops the fetches only it needed.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "sx/error.h"

namespace sx::gateway {

class PieceCache {
 public:
  using Clock = std::chrono::steady_clock;
  struct Entry;
  struct Unmap {
    std::size_t bytes;
    void operator()(std::byte* p) const noexcept;
  };
  using Buffer = std::unique_ptr<std::byte, Unmap>;  // an mmap'd piece buffer

  // Holds one entry (move-only). Empty when no room could be had.
  class Pin {
   public:
    Pin() = default;
    Pin(Pin&& other) noexcept : cache_(other.cache_), entry_(std::move(other.entry_)) { other.cache_ = nullptr; }
    Pin& operator=(Pin&& other) noexcept;
    ~Pin() { reset(); }
    explicit operator bool() const { return entry_ != nullptr; }
    void reset();

    // Waits up to `slice` for the piece: true once it is ready or failed.
    bool wait_for(std::chrono::milliseconds slice) const;
    // After wait_for() said true: the payload, or why it could not be had.
    // The bytes stay valid while this pin is held.
    Result<std::span<const std::byte>> payload() const;

   private:
    friend class PieceCache;
    Pin(PieceCache* cache, std::shared_ptr<Entry> entry) : cache_(cache), entry_(std::move(entry)) {}
    PieceCache* cache_ = nullptr;
    std::shared_ptr<Entry> entry_;
  };

  enum class Want {
    kNow,    // a response waits on it: wait for room (until the deadline)
    kAhead,  // read-ahead: only if room is free beyond the reserve kept for kNow
  };

  struct Acquired {
    Pin pin;                       // empty: no room (kAhead) or the deadline passed (kNow)
    std::shared_ptr<Entry> fetch;  // set: new entry, the caller must have it fetched
    std::optional<Error> refused;  // why `pin` is empty
  };

  // `capacity_bytes`: the bound; a quarter of it is kept free of read-ahead
  // so that a response's next piece can always find room soon.
  explicit PieceCache(std::size_t capacity_bytes);
  ~PieceCache();
  PieceCache(const PieceCache&) = delete;
  PieceCache& operator=(const PieceCache&) = delete;

  // Finds `id` (ready or being fetched) or reserves `bytes` for it.
  Acquired acquire(const std::string& id, std::size_t bytes, Want want, Clock::time_point deadline);

  // The fetcher's side. start(): false when nobody wants the entry any more
  // (skip it); else `cancel` is what abandoning it calls (any thread, with
  // no lock of the cache held) and the buffer to fill is returned.
  std::optional<std::span<std::byte>> start(Entry& entry, std::function<void()> cancel);
  void complete(Entry& entry);
  void fail(Entry& entry, Error error);

  std::size_t capacity() const { return capacity_; }
  // Pieces reserved, being fetched or held; plus spare buffers kept for
  // reuse (a fresh mapping costs a page fault per page): the sum of the two
  // never exceeds the capacity.
  std::size_t used_bytes() const;
  std::size_t spare_bytes() const;
  std::size_t entries() const;      // ready or being fetched
  std::uint64_t hits() const;       // acquire() found the entry

 private:
  void release(const std::shared_ptr<Entry>& entry);
  bool make_room(Entry& entry, std::size_t limit);  // with mutex_ held: counts entry.bytes, maybe hands it a spare
  void forget(Entry& entry);                             // with mutex_ held

  const std::size_t capacity_;
  const std::size_t reserve_;
  mutable std::mutex mutex_;  // guards every field below and every Entry's state
  std::condition_variable changed_;  // an entry became ready or failed, or room was freed
  std::unordered_map<std::string, std::shared_ptr<Entry>> map_;
  std::list<Entry*> idle_;  // ready entries no pin holds, least recently used first
  std::size_t committed_ = 0;      // bytes of the entries in map_ and of abandoned ones still fetching
  std::vector<Buffer> spare_;      // buffers of forgotten entries, for reuse
  std::size_t spare_bytes_ = 0;
  std::uint64_t hits_ = 0;
};

}  // namespace sx::gateway
