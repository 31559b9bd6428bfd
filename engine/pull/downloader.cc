#include "engine/pull/downloader.h"

#include <algorithm>
#include <cstring>
#include <atomic>
#include <map>
#include <mutex>
#include <unordered_map>
#include <string>

#include "codec/piece_reader.h"
#include "codec/png_decoder.h"
#include "engine/core/contained_request.h"
#include "engine/core/payload_transform.h"
#include "engine/pull/piece_body_stream.h"
#include "engine/core/piece_window.h"
#include "engine/core/thread_pool.h"

namespace sx::engine {

Status check_manifest_limits(const codec::Manifest& manifest, const codec::DecodeLimits& limits) {
  const std::size_t pixels = codec::pixel_bytes(manifest.width, manifest.height);
  if (manifest.width > limits.max_width || manifest.height > limits.max_height || pixels > limits.max_pixel_bytes)
    return make_error(Errc::kLimit, "manifest piece geometry " + std::to_string(manifest.width) + "x" +
                                        std::to_string(manifest.height) + " exceeds the decode limits");
  // What a piece can carry bounds what its payload may decompress to: a
  // manifest claiming more is refused before any buffer or file is sized.
  const std::size_t header = manifest.version == 1 ? 4 : codec::kHeaderBytes;
  if (pixels <= header || manifest.piece_size > pixels - header)
    return make_error(Errc::kCorrupt, "manifest claims pieces of " + std::to_string(manifest.piece_size) +
                                          " bytes, more than its " + std::to_string(manifest.width) + "x" +
                                          std::to_string(manifest.height) + " images hold");
  return {};
}

namespace {

// One fetch: the window of pieces in flight and the per-worker decoders.
class Fetch {
 public:
  Fetch(Context& ctx, net::Backend& backend, const codec::Manifest& manifest,
        const std::optional<codec::ContentKey>& content_key, const PieceSink& sink, const FetchOptions& options,
        std::size_t pieces)
      : ctx_(ctx), backend_(backend), manifest_(manifest), sink_(sink), options_(options),
        window_(std::min(window_slots(ctx.options.parallel, ctx.pool.size(), backend.synchronous()),
                         std::max<std::size_t>(1, pieces)),
                codec::max_received_png_bytes(manifest.width, manifest.height), 0),
        // Pixel buffers are needed only while a worker decodes: one per worker, not per slot.
        decoders_(static_cast<std::size_t>(ctx.pool.size()), 0, codec::pixel_bytes(manifest.width, manifest.height)),
        transforms_(static_cast<std::size_t>(ctx.pool.size()), content_key),
        failure_(ctx),
        encrypted_(manifest.encryption != "none"),
        authenticated_(encrypted_ && content_key.has_value()),
        content_key_(content_key),
        streaming_(manifest.version == 2) {}  // v1 pieces are another format

  void start(const codec::PieceEntry& piece) {
    Slot& slot = window_.acquire();
    if (ctx_.cancelled()) return window_.release(slot);
    if (!slot.ok) {
      failure_.set(out_of_memory(slot.png_bytes));
      return window_.release(slot);
    }
    slot.attempts = 0;
    slot.position = started_++;
    if (backend_.synchronous())
      ctx_.pool.post([this, &piece, &slot] { request(piece, slot); }, on_error(piece, slot));
    else
      request(piece, slot);
  }

  Status finish() {
    window_.wait_idle();
    if (auto error = failure_.take()) return std::move(*error);
    if (ctx_.cancelled()) return make_error(Errc::kCancelled, "pull cancelled");
    return {};
  }

 private:
  void request(const codec::PieceEntry& piece, Slot& slot) {
    PieceBodyStream* stream = stream_for(piece, slot);
    auto got_it = [this, &piece, &slot, stream](Result<std::size_t> got) {
      if (!got) {
        Error e = std::move(got).error();
        Error error{e.code, "piece " + std::to_string(piece.index) + ": " + e.message};
        // The stream refused the body on the way: fetch it again, whole.
        if (stream && stream->stream().streaming() && refetch(piece, slot, error)) return;
        return failed(piece, slot, std::move(error), true);
      }
      if (backend_.synchronous()) return land(piece, slot, *got, stream);
      ctx_.pool.post([this, &piece, &slot, n = *got, stream] { land(piece, slot, n, stream); }, on_error(piece, slot));
    };
    contained_request<std::size_t>(
        [&](net::GetDone done) {
          if (stream) return backend_.get_streaming(piece.key, slot.png(), *stream, std::move(done));
          backend_.get(piece.key, slot.png(), std::move(done));
        },
        std::move(got_it));
  }

  // A worker's task that threw (base/exception_error.h): the piece fails
  // with what it threw and its slot is given back.
  ThreadPool::OnError on_error(const codec::PieceEntry& piece, Slot& slot) {
    return [this, &piece, &slot](Error error) {
      failed(piece, slot, Error{error.code, "piece " + std::to_string(piece.index) + ": " + error.message}, false);
    };
  }

  // The slot's body stream for this GET, or nullptr: not streaming, or a
  // refetch after a refused body (which the whole-image decoder words).
  PieceBodyStream* stream_for(const codec::PieceEntry& piece, Slot& slot) {
    if (!streaming_ || slot.attempts > 0) return nullptr;
    PieceBodyStream* stream;
    {
      std::lock_guard lock(streams_mutex_);
      auto& owned = streams_[&slot];
      if (!owned) owned = std::make_unique<PieceBodyStream>(authenticated_ ? content_key_ : std::nullopt);
      stream = owned.get();
    }
    stream->begin({piece.index, manifest_.width, manifest_.height, codec::PiecePlace{options_.parity ? 2u : 0u, piece.index}},
                  slot.png());
    return stream;
  }

  // A corrupt body: fetched again (up to kMaxCorruptRefetches), or false.
  bool refetch(const codec::PieceEntry& piece, Slot& slot, const Error& error) {
    if (error.code != Errc::kCorrupt || ++slot.attempts >= kMaxCorruptRefetches || ctx_.cancelled()) return false;
    ++ctx_.refetches;
    report(ctx_.options.progress, [&](ProgressSink& p) { p.on_retry(piece.key, slot.attempts, error.message); });
    request(piece, slot);
    return true;
  }

  // The payload a body stream left in the slot, checked as open_piece checks.
  Result<std::span<const std::byte>> open_streamed(const codec::PieceEntry& piece, PieceBodyStream& stream,
                                                   PayloadTransform& transform) {
    auto view = stream.stream().finish();
    if (!view) return std::move(view).error();
    if (view->header.payload_crc32 != piece.crc32 || options_.parity != bool(view->header.flags & codec::kFlagParity))
      return make_error(Errc::kCorrupt, "the image is a different piece (index, kind or checksum differ)");
    if (encrypted_ != bool(view->header.flags & codec::kFlagEncrypted))
      return make_error(Errc::kCorrupt, "piece encryption does not match the manifest");
    const std::uint8_t flags = view->header.flags & ~codec::kFlagParity;
    const std::uint8_t left = stream.stream().deciphered() ? flags & ~codec::kFlagEncrypted : flags;
    // The payload lies at the start of the slot, which this fetch owns.
    const std::span<std::byte> payload(const_cast<std::byte*>(view->payload.data()), view->payload.size());
    return transform.open({options_.parity ? 2u : 0u, piece.index}, payload, left, piece.size);
  }

  // Decodes, checks and opens one piece; the result points into `decoder`'s
  // pixels or `transform`'s buffers.
  Result<std::span<const std::byte>> open_piece(const codec::PieceEntry& piece, std::span<const std::byte> png,
                                                Slot& decoder, PayloadTransform& transform) {
    if (manifest_.version == 1) return codec::read_storagex_v1_piece(png, decoder.pixels(), ctx_.limits);
    // With the content key the AEAD tag vouches for every payload byte.
    auto view = codec::read_piece(png, decoder.pixels(), ctx_.limits,
                                  authenticated_ ? codec::PayloadCrc::kAuthenticatedLater : codec::PayloadCrc::kCheck);
    if (!view) return std::move(view).error();
    if (view->header.piece_index != piece.index || view->header.payload_crc32 != piece.crc32 ||
        (view->header.flags & codec::kFlagManifest) || options_.parity != bool(view->header.flags & codec::kFlagParity))
      return make_error(Errc::kCorrupt, "the image is a different piece (index, kind or checksum differ)");
    if (encrypted_ != bool(view->header.flags & codec::kFlagEncrypted))
      return make_error(Errc::kCorrupt, "piece encryption does not match the manifest");
    return transform.open({options_.parity ? 2u : 0u, piece.index},
                          decoder.pixels().subspan(codec::kHeaderBytes, view->payload.size()),
                          view->header.flags & ~codec::kFlagParity, piece.size);
  }

  // On a worker: verify the piece, hand it to the sink, or fetch it again.
  void land(const codec::PieceEntry& piece, Slot& slot, std::size_t bytes, PieceBodyStream* stream) {
    const bool streamed = stream && stream->stream().streaming();
    // A body shorter than the stream's head is all in the stream.
    if (stream && !streamed && stream->held().size() == bytes)
      std::memcpy(slot.png().data(), stream->held().data(), bytes);
    Slot* decoder = streamed ? nullptr : &decoders_.acquire();
    PayloadTransform& transform = transforms_.acquire();
    Result<std::span<const std::byte>> payload =
        streamed      ? open_streamed(piece, *stream, transform)
        : decoder->ok ? open_piece(piece, slot.png().first(bytes), *decoder, transform)
                      : Result<std::span<const std::byte>>(out_of_memory(decoder->pixel_bytes));
    if (payload && payload->size() != piece.size)
      payload = make_error(Errc::kCorrupt, "payload is " + std::to_string(payload->size()) +
                                               " bytes, the manifest says " + std::to_string(piece.size));
    Status sunk;
    std::size_t kept = 0;  // in order: the payload waits in the slot for its turn
    if (payload && options_.in_order) {
      if (payload->data() != slot.png().data()) std::memcpy(slot.png().data(), payload->data(), payload->size());
      kept = payload->size();
    } else if (payload) {
      sunk = sink_(piece, *payload);
    }
    transforms_.release(transform);
    if (decoder) decoders_.release(*decoder);
    if (!payload && refetch(piece, slot, payload.error())) return;
    if (!payload) {
      failed(piece, slot,
             Error{payload.error().code, "piece " + std::to_string(piece.index) + " (" + piece.key +
                                             "): " + payload.error().message},
             true);
    } else if (!sunk) {
      failed(piece, slot, std::move(sunk).error(), false);
    } else if (options_.in_order) {
      deliver_in_order(piece, slot, kept, false);
    } else {
      report(ctx_.options.progress, [&](ProgressSink& p) { p.on_piece(piece.index, piece.size); });
      window_.release(slot);
    }
  }

  // A piece failed (`piece_fault`: missing or bad, not the sink): reported
  // and skipped when keeping going, else the fetch's first error.
  void failed(const codec::PieceEntry& piece, Slot& slot, Error error, bool piece_fault) {
    if (options_.on_failure && piece_fault && error.code != Errc::kCancelled) {
      options_.on_failure(piece, error);
      if (options_.in_order) return deliver_in_order(piece, slot, 0, true);
      return window_.release(slot);
    }
    failure_.set(std::move(error));
    if (!options_.in_order) return window_.release(slot);
    // Pieces waiting for their turn will never get it: give their slots back,
    // after the lock is let go (the last release may end the fetch).
    std::vector<Slot*> slots{&slot};
    {
      std::lock_guard lock(order_mutex_);
      abandoned_ = true;
      for (auto& [position, ready] : ready_) slots.push_back(ready.slot);
      ready_.clear();
    }
    for (Slot* s : slots) window_.release(*s);
  }

  // Hands out the pieces that are next in order; whoever lands the next one
  // delivers it and those that waited behind it (one deliverer at a time).
  // Slots are given back only once order_mutex_ is let go: the last release
  // may end the fetch and destroy this object.
  void deliver_in_order(const codec::PieceEntry& piece, Slot& slot, std::size_t bytes, bool skipped) {
    std::vector<Slot*> done;
    std::unique_lock lock(order_mutex_);
    if (abandoned_) {
      lock.unlock();
      return window_.release(slot);
    }
    ready_.emplace(slot.position, Ready{&piece, &slot, bytes, skipped});
    if (delivering_) return;
    delivering_ = true;
    for (auto it = ready_.find(next_position_); it != ready_.end(); it = ready_.find(next_position_)) {
      Ready ready = it->second;
      ready_.erase(it);
      lock.unlock();
      Status sunk;
      if (!ready.skipped) sunk = sink_(*ready.piece, ready.slot->png().first(ready.bytes));
      if (sunk && !ready.skipped)
        report(ctx_.options.progress, [&](ProgressSink& p) { p.on_piece(ready.piece->index, ready.piece->size); });
      lock.lock();
      ++next_position_;
      done.push_back(ready.slot);
      if (!sunk) {
        failure_.set(std::move(sunk).error());
        abandoned_ = true;
        for (auto& [position, waiting] : ready_) done.push_back(waiting.slot);
        ready_.clear();
        break;
      }
    }
    delivering_ = false;
    lock.unlock();
    for (Slot* s : done) window_.release(*s);
  }

  Context& ctx_;
  net::Backend& backend_;
  const codec::Manifest& manifest_;
  const PieceSink& sink_;
  const FetchOptions& options_;
  PieceWindow window_;
  PieceWindow decoders_;
  TransformPool transforms_;
  FirstError failure_;
  bool encrypted_;
  bool authenticated_;  // encrypted and the key is known: the tag, not the CRC, checks payloads
  const std::optional<codec::ContentKey>& content_key_;
  const bool streaming_;  // bodies go through a PieceBodyStream per slot
  std::mutex streams_mutex_;  // guards streams_
  std::unordered_map<const Slot*, std::unique_ptr<PieceBodyStream>> streams_;
  std::uint64_t started_ = 0;  // positions handed out by start(), in order

  struct Ready {
    const codec::PieceEntry* piece;
    Slot* slot;
    std::size_t bytes;
    bool skipped;  // failed and reported: nothing to deliver
  };
  std::mutex order_mutex_;  // guards ready_, next_position_, delivering_, abandoned_
  std::map<std::uint64_t, Ready> ready_;
  std::uint64_t next_position_ = 0;
  bool delivering_ = false;
  bool abandoned_ = false;
};

}  // namespace

Downloader::Downloader(Context& ctx, net::Backend& backend, const CheckedManifest& manifest,
                       const std::optional<codec::ContentKey>& content_key)
    : ctx_(ctx), backend_(backend), manifest_(manifest.manifest()), content_key_(content_key) {}

Status Downloader::fetch(std::span<const IndexRange> ranges, const PieceSink& sink, const FetchOptions& options) {
  std::size_t count = 0;
  for (const IndexRange& range : ranges) {
    if (range.begin > range.end || range.end > manifest_.pieces.size())
      return make_error(Errc::kInvalidArgument, "piece range past the manifest");
    count += range.end - range.begin;
  }
  Fetch fetch(ctx_, backend_, manifest_, content_key_, sink, options, count);
  for (const IndexRange& range : ranges)
    for (std::uint64_t i = range.begin; i < range.end && !ctx_.cancelled(); ++i) fetch.start(manifest_.pieces[i]);
  return fetch.finish();
}

}  // namespace sx::engine
