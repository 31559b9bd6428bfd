#include "engine/push/uploader.h"

#include <algorithm>
#include <string>

#include "base/text.h"
#include "codec/checksum.h"
#include "codec/compression.h"
#include "codec/piece_writer.h"
#include "engine/core/piece_window.h"
#include "engine/core/contained_request.h"
#include "engine/core/thread_pool.h"

namespace sx::engine {

Result<std::optional<std::span<const std::byte>>> InputSource::next(std::span<std::byte> scratch) {
  auto n = file_.read(scratch.first(piece_bytes_));
  if (!n) return std::move(n).error();
  if (*n == 0) return std::optional<std::span<const std::byte>>{};
  return std::optional(std::span<const std::byte>(scratch.first(*n)));
}

Result<std::optional<std::span<const std::byte>>> SpanSource::next(std::span<std::byte>) {
  if (at_ >= bytes_.size()) return std::optional<std::span<const std::byte>>{};
  const std::size_t n = std::min(piece_bytes_, bytes_.size() - at_);
  auto piece = bytes_.subspan(at_, n);
  at_ += n;
  return std::optional(piece);
}

Uploader::Uploader(Context& ctx, net::Backend& backend, const codec::Geometry& geometry, TransformPool& transforms,
                   Options::Compress compress)
    : ctx_(ctx), backend_(backend), geometry_(geometry), transforms_(transforms), compress_(compress) {}

std::vector<std::string> Uploader::stored_keys() const {
  std::lock_guard lock(stored_mutex_);
  return stored_keys_;
}

std::uint64_t Uploader::stored_bytes() const {
  std::lock_guard lock(stored_mutex_);
  return stored_bytes_;
}

Result<std::vector<codec::PieceEntry>> Uploader::run(PayloadSource& source, const PieceKind& kind,
                                                     const std::function<void(std::span<const std::byte>)>& observe,
                                                     const ResumeState& resume) {
  bool compress = compress_ == Options::Compress::kZstd;
  const std::size_t slots = window_slots(ctx_.options.parallel, ctx_.pool.size(), backend_.synchronous());
  PieceWindow window(slots, codec::max_png_bytes(geometry_), 0);
  // The file's bytes are needed only until a worker has encoded them: one
  // read buffer per worker and one for the reader, not one per piece in
  // flight (fresh pages cost: zeroing them was half a push's CPU).
  const bool scratch = source.needs_scratch();
  PieceWindow readers(scratch ? static_cast<std::size_t>(ctx_.pool.size()) + 1 : 1, 0,
                      scratch ? geometry_.capacity() : 0);
  FirstError failure(ctx_);
  std::mutex entries_mutex;  // guards entries
  std::vector<codec::PieceEntry> entries;
  std::uint64_t offset = 0;
  for (std::uint64_t index = 0; !ctx_.cancelled(); ++index) {
    Slot& slot = window.acquire();
    Slot* reader = scratch ? &readers.acquire() : nullptr;
    const auto give_back = [&window, &readers](Slot& png_slot, Slot* read_slot) {
      if (read_slot) readers.release(*read_slot);
      window.release(png_slot);
    };
    if (!slot.ok || (reader && !reader->ok)) {
      give_back(slot, reader);
      failure.set(out_of_memory(slot.png_bytes + geometry_.capacity()));
      break;
    }
    auto payload = source.next(reader ? reader->pixels() : std::span<std::byte>{});
    if (!payload || !*payload) {
      give_back(slot, reader);
      if (!payload) failure.set(std::move(payload).error());
      break;
    }
    const std::span<const std::byte> bytes = **payload;
    const PieceClass cls = kind.classify ? kind.classify(index)
                                         : PieceClass{0, kind.domain, kind.first_index + index, &backend_, true};
    if (observe && cls.data) observe(bytes);
    if (index == 0 && compress_ == Options::Compress::kAuto)
      compress = kind.domain != 0 || codec::worth_compressing(bytes.first(std::min<std::size_t>(bytes.size(), 256 << 10)));
    if (resume.stored) {
      const auto done = resume.stored->find(index);
      // Stored by an earlier run: its record must describe these very bytes,
      // which live in the read buffer until it is given back.
      if (done != resume.stored->end() && done->second.entry.size == bytes.size() && !done->second.entry.key.empty() &&
          matches_record(bytes, done->second.digest)) {
        const codec::Sha256Digest d = kind.digests ? codec::sha256(bytes) : codec::Sha256Digest{};  // hashed here
        give_back(slot, reader);
        std::lock_guard lock(entries_mutex);
        if (kind.digests) {
          if (kind.digests->size() <= index) kind.digests->resize(index + 1);
          (*kind.digests)[index] = d;
        }
        entries.push_back({index, done->second.entry.key, offset, bytes.size(), done->second.entry.crc32});
        offset += bytes.size();
        if (kind.progress) report(ctx_.options.progress, [&](ProgressSink& p) { p.on_piece(index, bytes.size()); });
        continue;
      }
    }
    {
      std::lock_guard lock(entries_mutex);
      entries.push_back({index, {}, offset, bytes.size(), 0});
      if (kind.digests && cls.data && kind.digests->size() <= cls.piece_index) kind.digests->resize(cls.piece_index + 1);
    }
    // What the task still holds, for its on_error should it throw: the read
    // buffer until `bytes` are encoded, the slot until the PUT owns it.
    struct Held {
      std::atomic<Slot*> reader;
      std::atomic<bool> slot{true};
    };
    auto held = std::make_shared<Held>();
    held->reader = reader;
    const auto release_reader = [&readers, held] {
      if (Slot* r = held->reader.exchange(nullptr)) readers.release(*r);
    };
    const auto on_error = [&failure, &window, release_reader, held, slot_ptr = &slot](Error error) {
      release_reader();
      const bool slot_held = held->slot.exchange(false);
      failure.set(std::move(error));
      if (slot_held) window.release(*slot_ptr);
    };
    ctx_.pool.post([&, index, bytes, compress, cls, slot_ptr = &slot, release_reader, held] {
      Slot& s = *slot_ptr;
      if (ctx_.cancelled()) {
        release_reader();
        held->slot = false;
        return window.release(s);
      }
      if (kind.digests && cls.data) {  // hashed here, in parallel; stored under the lock that guards resizing
        const codec::Sha256Digest d = codec::sha256(bytes);
        std::lock_guard lock(entries_mutex);
        (*kind.digests)[cls.piece_index] = d;
      }
      codec::PieceHeader header;
      header.flags = kind.flags | cls.flags;
      header.piece_index = cls.piece_index;
      const codec::PiecePlace place{cls.domain, header.piece_index};
      PayloadTransform& transform = transforms_.acquire();
      Result<std::size_t> written =
          ctx_.options.deflate_level == 0
              ? transform.write_piece(header, place, bytes, compress, geometry_, s.png())
              : transform.write_deflated_piece(ctx_.options.deflate_level, header, place, bytes, compress, geometry_,
                                               s.png());
      // Object names are content-derived (docs/FORMAT.md §8): an encrypted
      // piece is named by its AEAD tag, already a 128-bit MAC of its bytes;
      // others by the XXH3-128 of their PNG (identical pieces share an object).
      const auto tag = ctx_.options.deflate_level == 0 ? transform.last_tag() : std::nullopt;
      transforms_.release(transform);
      std::string digest = resume.on_stored ? codec::content_name(bytes) : std::string();
      release_reader();  // `bytes` are not read past here
      if (!written) {
        held->slot = false;
        failure.set(std::move(written).error());
        return window.release(s);
      }
      const auto png = s.png().first(*written);
      std::string name =
          tag ? text::to_hex(std::span<const std::uint8_t>(tag->data(), tag->size())) : codec::content_name(png);
      name += ".png";
      held->slot = false;  // the PUT's completion gives it back from here
      contained_request<std::string>([&](net::PutDone done) { cls.backend->put(name, png, std::move(done)); },
                   [&, index, crc = header.payload_crc32, size = bytes.size(), png_size = png.size(), digest,
                    slot_ptr, data = cls.data, shown = kind.classify ? cls.piece_index : index](Result<std::string> key) {
                     if (!key) {
                       Error e = std::move(key).error();
                       e.message = "piece " + std::to_string(index) + ": " + e.message;
                       failure.set(std::move(e));
                     } else {
                       {
                         std::lock_guard lock(stored_mutex_);
                         stored_keys_.push_back(*key);
                         stored_bytes_ += png_size;
                       }
                       ResumedPiece stored;
                       {
                         std::lock_guard lock(entries_mutex);
                         entries[index].key = std::move(*key);
                         entries[index].crc32 = crc;
                         stored.entry = entries[index];
                       }
                       stored.digest = digest;
                       if (kind.progress && data)
                         report(ctx_.options.progress, [&](ProgressSink& p) { p.on_piece(shown, size); });
                       if (resume.on_stored) {
                         // The journal's append is disk I/O: on a worker, never
                         // on the event loop's thread (where this runs for
                         // network backends). The slot is held until it is done.
                         ctx_.pool.post([&, stored = std::move(stored), slot_ptr] {
                           if (auto recorded = resume.on_stored(stored); !recorded)
                             failure.set(std::move(recorded).error());
                           window.release(*slot_ptr);
                         }, [&failure, &window, slot_ptr](Error error) {
                           failure.set(std::move(error));
                           window.release(*slot_ptr);
                         });
                         return;
                       }
                     }
                     window.release(*slot_ptr);
                   });
    }, on_error);
    offset += bytes.size();
  }
  window.wait_idle();
  readers.wait_idle();
  if (auto error = failure.take()) return std::move(*error);
  if (ctx_.cancelled()) return make_error(Errc::kCancelled, "push cancelled");
  return entries;
}

}  // namespace sx::engine
