#include "engine/pull.h"

#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstring>
#include <future>
#include <thread>

#include "codec/checksum.h"
#include "codec/piece_reader.h"
#include "codec/piece_writer.h"
#include "codec/png_decoder.h"
#include "codec/compression.h"
#include "engine/ordered_hasher.h"
#include "engine/output_file.h"
#include "engine/payload_transform.h"
#include "engine/piece_window.h"
#include "engine/thread_pool.h"

namespace sx::engine {
namespace {

// Every index level holds at least two slices, so 32 levels exceed any
// manifest the piece-count limit allows; more means a loop.
constexpr int kMaxManifestLevels = 32;
constexpr int kMaxCorruptRefetches = 3;

// Room for a piece PNG as a host may hand it back: re-encoded losslessly it
// may have gained an alpha channel or 16-bit samples (up to 8/3 of the RGB8
// bytes when incompressible). Only the bytes a server sends are touched.
std::size_t png_capacity(std::uint32_t width, std::uint32_t height) {
  const std::size_t pixels = codec::pixel_bytes(width, height);
  return codec::max_png_bytes(codec::Geometry{width, height}) + pixels * 2 + (64 << 10);
}

Result<std::vector<std::byte>> fetch_whole(net::Backend& backend, const std::string& key,
                                           std::size_t max_bytes) {
  std::promise<Result<std::vector<std::byte>>> promise;
  auto future = promise.get_future();
  backend.get_whole(key, max_bytes, [&promise](Result<std::vector<std::byte>> r) { promise.set_value(std::move(r)); });
  return future.get();
}

struct Payload {
  std::string text;
  bool storagex_v1 = false;
  bool encrypted = false;
  std::uint32_t stored_crc32 = 0;  // of the stored (compressed, encrypted) payload
};

// Fetches one manifest-bearing piece whose size is not known in advance.
Result<Payload> fetch_document_piece(Context& ctx, net::Backend& backend, const std::string& key,
                                     PayloadTransform& transform) {
  const std::size_t cap = png_capacity(ctx.limits.max_width, 1) + ctx.limits.max_pixel_bytes;
  auto png = fetch_whole(backend, key, cap);
  if (!png) return std::move(png).error();
  const std::span<const std::byte> bytes(*png);
  auto info = codec::read_image_info(bytes, ctx.limits);
  if (!info) return std::move(info).error();
  auto pixels = std::make_unique_for_overwrite<std::byte[]>(info->rgb8_bytes());
  const std::span<std::byte> pixel_span(pixels.get(), info->rgb8_bytes());
  auto decoded = codec::decode_rgb8(bytes, pixel_span, ctx.limits);
  if (!decoded) return std::move(decoded).error();
  Payload payload;
  if (codec::has_piece_magic(*decoded)) {
    auto piece = codec::check_piece(*decoded);  // decoded once, above
    if (!piece) return std::move(piece).error();
    if (!(piece->header.flags & codec::kFlagManifest))
      return make_error(Errc::kInvalidArgument, "this key is a data piece, not a download key");
    // Decrypt first: a compressed manifest's size sits in the zstd frame,
    // readable only then (and bounded by the decode limit).
    const codec::PiecePlace place{1, piece->header.piece_index};
    const std::span<std::byte> stored = pixel_span.subspan(codec::kHeaderBytes, piece->payload.size());
    auto plain = transform.open(place, stored, piece->header.flags & ~codec::kFlagCompressed, stored.size());
    if (!plain) return std::move(plain).error();
    if (piece->header.flags & codec::kFlagCompressed) {
      auto size = codec::Compressor::frame_size(*plain, ctx.limits.max_pixel_bytes);
      if (!size) return std::move(size).error();
      const std::span<std::byte> packed = stored.first(plain->size());  // the plaintext, in place
      plain = transform.open(place, packed, codec::kFlagCompressed, *size);
      if (!plain) return std::move(plain).error();
    }
    payload.text.assign(reinterpret_cast<const char*>(plain->data()), plain->size());
    payload.encrypted = piece->header.flags & codec::kFlagEncrypted;
    payload.stored_crc32 = piece->header.payload_crc32;
  } else {
    auto v1 = codec::read_storagex_v1_piece(bytes, pixel_span, ctx.limits);
    if (!v1) return std::move(v1).error();
    payload.text.assign(reinterpret_cast<const char*>(v1->data()), v1->size());
    payload.storagex_v1 = true;
  }
  return payload;
}

}  // namespace

// A manifest piece whose body arrived corrupted is fetched again, as data pieces are.
Result<Payload> fetch_document_piece_again(Context& ctx, net::Backend& backend, const std::string& key,
                                           PayloadTransform& transform) {
  for (int attempt = 1;; ++attempt) {
    auto piece = fetch_document_piece(ctx, backend, key, transform);
    if (piece || piece.error().code != Errc::kCorrupt || attempt >= kMaxCorruptRefetches || ctx.cancelled)
      return piece;
    ++ctx.refetches;
    report(ctx.options.progress, [&](ProgressSink& p) { p.on_retry(key, attempt, piece.error().message); });
  }
}

Result<FetchedManifest> fetch_manifest(Context& ctx, net::Backend& backend, const std::string& key,
                                       const std::optional<codec::ContentKey>& content_key) {
  PayloadTransform transform(content_key);
  auto root = fetch_document_piece_again(ctx, backend, key, transform);
  if (!root) {
    Error e = std::move(root).error();
    e.message = "manifest " + key + ": " + e.message;
    return e;
  }
  // A key that carries a content key promises an encrypted file: a plaintext
  // manifest in its place is a forgery.
  if (content_key && !root->encrypted)
    return make_error(Errc::kCorrupt, "the key is for an encrypted file but the manifest is not encrypted");
  std::string text = std::move(root->text);
  for (int level = 1; level <= kMaxManifestLevels; ++level) {
    auto kind = codec::document_kind(text);
    if (!kind) return std::move(kind).error();
    if (*kind == codec::DocumentKind::kStoragexV1) {
      if (!root->storagex_v1) return make_error(Errc::kCorrupt, "storagex meta inside an sxengine piece");
      auto manifest = codec::parse_storagex_v1(text, ctx.manifest_limits);
      if (!manifest) return std::move(manifest).error();
      return FetchedManifest{std::move(*manifest), level};
    }
    if (root->storagex_v1) return make_error(Errc::kCorrupt, "storagex piece holds a non-v1 document");
    if (*kind == codec::DocumentKind::kManifest) {
      auto manifest = codec::parse_manifest(text, ctx.manifest_limits);
      if (!manifest) return std::move(manifest).error();
      if ((manifest->encryption != "none") != root->encrypted)
        return make_error(Errc::kCorrupt, "the manifest's encryption field does not match its piece");
      return FetchedManifest{std::move(*manifest), level};
    }
    auto index = codec::parse_index(text, ctx.manifest_limits);
    if (!index) return std::move(index).error();
    std::string joined;
    joined.reserve(std::min<std::uint64_t>(index->total_bytes, std::uint64_t{64} << 20));  // a claim, not yet a fact
    for (const codec::ManifestSlice& slice : index->slices) {
      if (ctx.cancelled) return make_error(Errc::kCancelled, "pull cancelled");
      auto part = fetch_document_piece_again(ctx, backend, slice.key, transform);
      if (!part) return std::move(part).error();
      if (part->encrypted != root->encrypted)
        return make_error(Errc::kCorrupt, "manifest slice " + slice.key + " is not encrypted like its root");
      if (part->storagex_v1 || part->text.size() != slice.size || part->stored_crc32 != slice.crc32)
        return make_error(Errc::kCorrupt, "manifest slice " + slice.key + " does not match its index");
      joined += part->text;
    }
    text = std::move(joined);
  }
  return make_error(Errc::kCorrupt, "manifest nests deeper than " + std::to_string(kMaxManifestLevels) +
                                        " levels (a loop?)");
}

Result<std::string> pull(Context& ctx, net::Backend& backend, const std::string& key,
                         const std::optional<codec::ContentKey>& content_key, const std::string& out) {
  const auto started = std::chrono::steady_clock::now();
  auto fetched = fetch_manifest(ctx, backend, key, content_key);
  if (!fetched) return std::move(fetched).error();
  const codec::Manifest& manifest = fetched->manifest;
  const bool v1 = manifest.version == 1;
  const std::size_t pixel_cap = codec::pixel_bytes(manifest.width, manifest.height);
  if (manifest.width > ctx.limits.max_width || manifest.height > ctx.limits.max_height ||
      pixel_cap > ctx.limits.max_pixel_bytes)
    return make_error(Errc::kLimit, "manifest piece geometry exceeds the decode limits");

  const std::string final_path = resolve_output_path(out, manifest.name);
  auto file = OutputFile::create(final_path, manifest.size, ctx.options.force);
  if (!file) return std::move(file).error();
  report(ctx.options.progress, [&](ProgressSink& p) { p.on_start("pull", manifest.size, manifest.pieces.size()); });

  const std::size_t workers = static_cast<std::size_t>(ctx.pool.size());
  const std::size_t slots = backend.synchronous()
      ? workers + 1 : static_cast<std::size_t>(std::max(1, ctx.options.parallel)) + workers;
  PieceWindow window(std::min(slots, std::max<std::size_t>(1, manifest.pieces.size())),
                     png_capacity(manifest.width, manifest.height), 0);
  FirstError failure(ctx.cancelled);

  OrderedHasher hasher(manifest.pieces, [&](std::uint64_t offset, std::span<std::byte> bytes) {
    return file->read_at(bytes, offset);
  });
  // Pixel buffers are needed only while a worker decodes: one per worker, not per slot.
  PieceWindow decoders(workers, 0, pixel_cap);
  TransformPool transforms(workers, content_key);
  const bool encrypted = manifest.encryption != "none";

  // Decodes and writes one fetched piece on a worker; a corrupt body is
  // fetched again a bounded number of times (a flaky proxy), then fails.
  std::function<void(const codec::PieceEntry&, Slot&)> fetch;
  // Decodes, checks and opens one piece; the result points into `decoder`'s
  // pixels or `transform`'s buffers.
  auto open_piece = [&](const codec::PieceEntry& piece, std::span<const std::byte> png, Slot& decoder,
                        PayloadTransform& transform) -> Result<std::span<const std::byte>> {
    if (v1) return codec::read_storagex_v1_piece(png, decoder.pixels(), ctx.limits);
    auto view = codec::read_piece(png, decoder.pixels(), ctx.limits);
    if (!view) return std::move(view).error();
    if (view->header.piece_index != piece.index || view->header.payload_crc32 != piece.crc32 ||
        (view->header.flags & codec::kFlagManifest))
      return make_error(Errc::kCorrupt, "the image is a different piece (index or checksum differ)");
    if (encrypted != bool(view->header.flags & codec::kFlagEncrypted))
      return make_error(Errc::kCorrupt, "piece encryption does not match the manifest");
    return transform.open({0, piece.index}, decoder.pixels().subspan(codec::kHeaderBytes, view->payload.size()),
                          view->header.flags, piece.size);
  };
  auto land = [&](const codec::PieceEntry& piece, Slot& slot, std::size_t bytes) {
    Slot& decoder = decoders.acquire();
    PayloadTransform& transform = transforms.acquire();
    Result<std::span<const std::byte>> payload = open_piece(piece, slot.png().first(bytes), decoder, transform);
    if (payload && payload->size() != piece.size)
      payload = make_error(Errc::kCorrupt, "payload is " + std::to_string(payload->size()) +
                                               " bytes, the manifest says " + std::to_string(piece.size));
    Status written = payload ? file->write_at(*payload, piece.offset) : Status{};
    if (payload && written && !v1) written = hasher.landed(piece.index, *payload);
    transforms.release(transform);
    decoders.release(decoder);
    if (!payload && payload.error().code == Errc::kCorrupt && ++slot.attempts < kMaxCorruptRefetches &&
        !ctx.cancelled) {
      ++ctx.refetches;
      report(ctx.options.progress, [&](ProgressSink& p) { p.on_retry(piece.key, slot.attempts, payload.error().message); });
      return fetch(piece, slot);
    }
    if (!payload) {
      failure.set(Error{payload.error().code, "piece " + std::to_string(piece.index) + " (" + piece.key +
                                                  "): " + payload.error().message});
      return window.release(slot);
    }
    if (!written) {
      failure.set(std::move(written).error());
      return window.release(slot);
    }
    report(ctx.options.progress, [&](ProgressSink& p) { p.on_piece(piece.index, piece.size); });
    window.release(slot);
  };
  fetch = [&](const codec::PieceEntry& piece, Slot& slot) {
    backend.get(piece.key, slot.png(), [&, slot_ptr = &slot](Result<std::size_t> got) {
      if (!got) {
        Error e = std::move(got).error();
        failure.set(Error{e.code, "piece " + std::to_string(piece.index) + ": " + e.message});
        return window.release(*slot_ptr);
      }
      if (backend.synchronous()) return land(piece, *slot_ptr, *got);
      ctx.pool.post([&, slot_ptr, n = *got] { land(piece, *slot_ptr, n); });
    });
  };

  for (const codec::PieceEntry& piece : manifest.pieces) {
    Slot& slot = window.acquire();
    if (ctx.cancelled) {
      window.release(slot);
      break;
    }
    if (backend.synchronous())
      ctx.pool.post([&, slot_ptr = &slot] { fetch(piece, *slot_ptr); });
    else
      fetch(piece, slot);
  }
  window.wait_idle();
  if (auto error = failure.take()) return std::move(*error);
  if (ctx.cancelled) return make_error(Errc::kCancelled, "pull cancelled");
  if (!v1) {
    auto digest = hasher.finish();
    if (!digest) return std::move(digest).error();
    const std::string sha = codec::to_hex(*digest);
    if (sha != manifest.sha256)
      return make_error(Errc::kCorrupt, "whole-file SHA-256 mismatch: got " + sha + ", manifest says " +
                                            manifest.sha256);
  }
  if (auto committed = file->commit(); !committed) return std::move(committed).error();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  report(ctx.options.progress, [&](ProgressSink& p) { p.on_finish(manifest.size, seconds, ctx.all_retries()); });
  return final_path;
}

}  // namespace sx::engine
