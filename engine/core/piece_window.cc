#include "engine/core/piece_window.h"

#include <algorithm>
#include <sys/mman.h>

#include <cstdlib>
#include <new>

namespace sx::engine {

std::size_t window_slots(int parallel, int workers, bool synchronous_backend) {
  const auto w = static_cast<std::size_t>(std::max(1, workers));
  if (synchronous_backend) return w + 1;
  return static_cast<std::size_t>(std::max(1, parallel)) + w;
}

namespace {

constexpr std::size_t kHugePage = std::size_t{2} << 20;

// Uninitialized (untouched pages cost nothing) and without throwing: a
// failure is the slot's to report, on the thread that took it. Buffers of a
// few MiB are 2 MiB-aligned and marked for transparent huge pages: a piece
// then costs a handful of page faults instead of thousands (measured: the
// faults were 6% of a push's CPU).
bool allocate(SlotBuffer& buffer, std::size_t bytes) {
  if (buffer || bytes == 0) return true;
  if (bytes >= kHugePage) {
    const std::size_t rounded = (bytes + kHugePage - 1) / kHugePage * kHugePage;
    void* memory = std::aligned_alloc(kHugePage, rounded);
    if (memory) ::madvise(memory, rounded, MADV_HUGEPAGE);
    buffer.reset(static_cast<std::byte*>(memory));
  } else {
    buffer.reset(static_cast<std::byte*>(std::malloc(bytes)));
  }
  return buffer != nullptr;
}

}  // namespace

bool Slot::allocate_buffers() { return allocate(png_buffer, png_bytes) && allocate(pixel_buffer, pixel_bytes); }

std::span<std::byte> Slot::png() { return png_buffer ? std::span<std::byte>{png_buffer.get(), png_bytes} : std::span<std::byte>{}; }

std::span<std::byte> Slot::pixels() {
  return pixel_buffer ? std::span<std::byte>{pixel_buffer.get(), pixel_bytes} : std::span<std::byte>{};
}

PieceWindow::PieceWindow(std::size_t slots, std::size_t png_bytes, std::size_t pixel_bytes) {
  for (std::size_t i = 0; i < slots; ++i) {
    auto slot = std::make_unique<Slot>();
    slot->png_bytes = png_bytes;
    slot->pixel_bytes = pixel_bytes;
    free_.push_back(slot.get());
    slots_.push_back(std::move(slot));
  }
}

Slot& PieceWindow::acquire() {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [this] { return !free_.empty(); });
  Slot* slot = free_.back();
  free_.pop_back();
  lock.unlock();
  slot->attempts = 0;
  slot->ok = slot->allocate_buffers();
  return *slot;
}

void PieceWindow::release(Slot& slot) {
  // Notified under the lock: the last release may let wait_idle() return and
  // the window be destroyed, so nothing may touch it after the unlock.
  std::lock_guard lock(mutex_);
  free_.push_back(&slot);
  changed_.notify_all();
}

void PieceWindow::wait_idle() {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [this] { return free_.size() == slots_.size(); });
}

}  // namespace sx::engine
