#include "engine/push/storagex_push.h"

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <vector>

#include "codec/checksum.h"
#include "codec/piece_format.h"
#include "codec/storagex_v1_writer.h"
#include "engine/push/input_file.h"
#include "engine/core/contained_request.h"
#include "engine/core/piece_window.h"
#include "engine/core/thread_pool.h"

namespace sx::engine {
namespace {

// One image writer per worker (each owns a scanline buffer of a full image).
class ImageWriterPool {
 public:
  ImageWriterPool(std::uint32_t width, std::uint32_t height) : width_(width), height_(height) {}
  codec::StoragexV1ImageWriter take() {
    std::lock_guard lock(mutex_);
    if (free_.empty()) return codec::StoragexV1ImageWriter(width_, height_);
    codec::StoragexV1ImageWriter writer = std::move(free_.back());
    free_.pop_back();
    return writer;
  }
  void give_back(codec::StoragexV1ImageWriter writer) {
    std::lock_guard lock(mutex_);
    free_.push_back(std::move(writer));
  }

 private:
  std::uint32_t width_, height_;
  std::mutex mutex_;  // guards free_
  std::vector<codec::StoragexV1ImageWriter> free_;
};

Status check_geometry(std::uint32_t width, std::uint32_t height, const net::ObjectLimits& accepts,
                      const codec::DecodeLimits& limits, const std::string& backend_name) {
  const std::string size = std::to_string(width) + "x" + std::to_string(height);
  if (codec::storagex_v1_capacity(width, height) == 0)
    return make_error(Errc::kInvalidArgument, "a storagex v1 image of " + size + " cannot hold its 4-byte length");
  if (width > limits.max_width || height > limits.max_height ||
      codec::pixel_bytes(width, height) > limits.max_pixel_bytes)
    return make_error(Errc::kInvalidArgument, "a storagex v1 image of " + size + " is past the decode limits");
  if ((accepts.max_width && width > accepts.max_width) || (accepts.max_height && height > accepts.max_height))
    return make_error(Errc::kInvalidArgument, backend_name + " does not accept images of " + size);
  return {};
}

std::string default_name(const std::string& path) {
  if (path == "-") return "stdin";
  return std::filesystem::path(path).filename().string();
}

}  // namespace

Result<StoragexPushed> storagex_push(Context& ctx, net::Backend& backend, const std::string& path,
                                     const std::string& name, std::uint32_t width, std::uint32_t height) {
  if (width == 0 && height == 0) width = codec::kStoragexDefaultWidth, height = codec::kStoragexDefaultHeight;
  if (auto ok = check_geometry(width, height, backend.limits(), ctx.limits, backend.describe()); !ok)
    return std::move(ok).error();
  auto input = InputFile::open(path, ctx.cancel);
  if (!input) return std::move(input).error();

  const auto started = std::chrono::steady_clock::now();
  const std::size_t capacity = codec::storagex_v1_capacity(width, height);
  const std::optional<std::uint64_t> total = input->expected_size();
  report(ctx.options.progress, [&](ProgressSink& p) {
    p.on_start("push", total.value_or(0), total ? (*total + capacity - 1) / capacity : 0);
  });

  ImageWriterPool writers(width, height);
  const std::size_t png_bound = codec::StoragexV1ImageWriter(width, height).max_png_bytes();
  const std::size_t max_object = backend.limits().max_bytes;
  PieceWindow window(window_slots(ctx.options.parallel, ctx.pool.size(), backend.synchronous()), png_bound, capacity);
  FirstError failure(ctx);
  std::mutex meta_mutex;  // guards meta.pieces and stored
  codec::StoragexMeta meta;
  meta.filename = name.empty() ? default_name(path) : name;
  meta.piece_width = width;
  meta.piece_height = height;
  std::size_t stored = 0;
  std::uint64_t offset = 0;
  for (std::uint64_t seq = 0; !ctx.cancelled(); ++seq) {
    Slot& slot = window.acquire();
    if (!slot.ok) {
      window.release(slot);
      failure.set(out_of_memory(slot.png_bytes + slot.pixel_bytes));
      break;
    }
    auto n = input->read(slot.pixels().first(capacity));
    if (!n || *n == 0) {
      window.release(slot);
      if (!n) failure.set(std::move(n).error());
      break;
    }
    {
      std::lock_guard lock(meta_mutex);
      meta.pieces.push_back({seq, {}, offset, *n});
    }
    offset += *n;
    // Should the task throw before the PUT owns the slot, on_error gives it back.
    auto slot_held = std::make_shared<std::atomic<bool>>(true);
    const auto on_error = [&failure, &window, slot_held, slot_ptr = &slot](Error error) {
      failure.set(std::move(error));
      if (slot_held->exchange(false)) window.release(*slot_ptr);
    };
    ctx.pool.post([&, seq, bytes = *n, slot_ptr = &slot, slot_held] {
      Slot& s = *slot_ptr;
      if (ctx.cancelled()) {
        *slot_held = false;
        return window.release(s);
      }
      codec::StoragexV1ImageWriter writer = writers.take();
      auto written = writer.write(s.pixels().first(bytes), s.png());
      writers.give_back(std::move(writer));
      if (written && max_object && *written > max_object)
        written = make_error(Errc::kInvalidArgument, "a " + std::to_string(width) + "x" + std::to_string(height) +
                                                         " piece image is larger than " + backend.describe() +
                                                         " accepts: use a smaller --width/--height");
      if (!written) {
        *slot_held = false;
        failure.set(std::move(written).error());
        return window.release(s);
      }
      const auto png = s.png().first(*written);
      const std::string name = codec::content_name(png) + ".png";
      *slot_held = false;  // the PUT's completion gives it back from here
      contained_request<std::string>([&](net::PutDone done) { backend.put(name, png, std::move(done)); },
                                     [&, seq, bytes, slot_ptr](Result<std::string> key) {
        if (!key) {
          Error e = std::move(key).error();
          e.message = "piece " + std::to_string(seq) + ": " + e.message;
          failure.set(std::move(e));
        } else {
          {
            std::lock_guard lock(meta_mutex);
            meta.pieces[seq].key = std::move(*key);
            ++stored;
          }
          report(ctx.options.progress, [&](ProgressSink& p) { p.on_piece(seq, bytes); });
        }
        window.release(*slot_ptr);
      });
    }, on_error);
  }
  window.wait_idle();
  const auto failed = [&](Error error) {
    if (stored > 0)  // no key refers to them: say so rather than leave them silently
      error.message += "; " + std::to_string(stored) + " pieces stored before the failure remain at " +
                       backend.describe();
    return error;
  };
  if (auto error = failure.take()) return failed(std::move(*error));
  if (ctx.cancelled()) return failed(Error{Errc::kCancelled, "push cancelled"});
  if (auto unchanged = input->check_unchanged(); !unchanged) return failed(std::move(unchanged).error());

  StoragexPushed pushed;
  pushed.meta_json = codec::to_storagex_v1_json(meta);
  const auto meta_bytes = std::as_bytes(std::span(pushed.meta_json));
  if (meta_bytes.size() > capacity)
    return failed(Error{Errc::kLimit, "the storagex meta info (" + std::to_string(meta_bytes.size()) +
                                          " bytes) does not fit one " + std::to_string(width) + "x" +
                                          std::to_string(height) + " image (storagex v1 has no manifest tree): "
                                          "use a larger --width/--height"});
  codec::StoragexV1ImageWriter writer(width, height);
  std::vector<std::byte> png(writer.max_png_bytes());
  auto written = writer.write(meta_bytes, png);
  if (!written) return failed(std::move(written).error());
  png.resize(*written);
  std::optional<Result<std::string>> meta_key;
  std::mutex done_mutex;  // guards meta_key
  std::condition_variable done;
  backend.put(codec::content_name(png) + ".png", png, [&](Result<std::string> key) {
    std::lock_guard lock(done_mutex);
    meta_key = std::move(key);
    done.notify_one();
  });
  {
    std::unique_lock lock(done_mutex);
    done.wait(lock, [&] { return meta_key.has_value(); });
  }
  if (!*meta_key) return failed(std::move(*meta_key).error());
  pushed.key = std::move(**meta_key);
  pushed.name = meta.filename;
  pushed.size = offset;
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  report(ctx.options.progress, [&](ProgressSink& p) { p.on_finish(offset, seconds, ctx.all_retries()); });
  return pushed;
}

}  // namespace sx::engine
