// The bounded window of pieces alive at once (about parallel + workers):
// a slot is taken before a piece is read and given back when it is
// acknowledged or written, so memory does not grow with the file.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

namespace sx::engine {

struct FreeDeleter {
  void operator()(std::byte* p) const noexcept { std::free(p); }
};
using SlotBuffer = std::unique_ptr<std::byte[], FreeDeleter>;  // malloc'd: see allocate()

struct Slot {
  // Allocated when the slot is first taken and recycled: a small file never
  // pays for the whole window. Uninitialized: untouched pages cost no memory.
  // Empty when the allocation failed (then `ok` is false).
  std::span<std::byte> png();
  std::span<std::byte> pixels();
  bool allocate_buffers();  // nothrow
  bool ok = true;           // acquire() could allocate the buffers

  std::size_t png_bytes = 0;
  std::size_t pixel_bytes = 0;
  SlotBuffer png_buffer;
  SlotBuffer pixel_buffer;
  int attempts = 0;         // per piece: refetches after a corrupt body
  std::uint64_t position = 0;  // the piece's place in its fetch (in-order delivery)
};

// The one window-size rule of push and pull: `parallel` requests in flight
// plus one piece per worker being encoded or decoded; a synchronous backend
// (the local store) works on the workers' threads, so one more than them.
std::size_t window_slots(int parallel, int workers, bool synchronous_backend);

class PieceWindow {
 public:
  PieceWindow(std::size_t slots, std::size_t png_bytes, std::size_t pixel_bytes);

  // Blocks until a slot is free; allocates its buffers on first use. Check
  // `ok`: an allocation failure is reported by the caller, never thrown.
  Slot& acquire();
  // Any thread. The last touch of the window: a caller must not use anything
  // that wait_idle() guards after its last release.
  void release(Slot& slot);
  void wait_idle();          // until every slot is back

 private:
  std::mutex mutex_;  // guards free_
  std::condition_variable changed_;
  std::vector<std::unique_ptr<Slot>> slots_;
  std::vector<Slot*> free_;
};

}  // namespace sx::engine
