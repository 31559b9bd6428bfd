#include "engine/ops/manifest_tree.h"

#include <future>
#include <memory>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "codec/compression.h"
#include "codec/piece_reader.h"
#include "codec/png_decoder.h"
#include "engine/core/payload_transform.h"
#include "engine/push/uploader.h"

namespace sx::engine {

namespace {

// Stores one document (manifest or index); slices it when it does not fit
// one piece and stores an index of the slices the same way, recursively.
// `first_index` numbers manifest pieces across levels.
Result<std::string> store_document(Uploader& uploader, const std::string& json, std::uint64_t& first_index,
                                   std::size_t previous_slices) {
  const codec::Geometry& geometry = uploader.geometry();
  const auto bytes = std::as_bytes(std::span<const char>(json.data(), json.size()));
  SpanSource source(bytes, geometry.capacity() - kPayloadOverhead);
  auto slices = uploader.run(source, PieceKind{codec::kFlagManifest, 1, first_index, false});
  if (!slices) return std::move(slices).error();
  first_index += slices->size();
  if (slices->size() == 1) return std::move((*slices)[0].key);
  if (slices->size() >= previous_slices)  // each level must shrink, or the tree never ends
    return make_error(Errc::kInvalidArgument, "pieces of " + std::to_string(geometry.capacity()) +
                                                  " bytes are too small to hold the manifest's keys");
  codec::ManifestIndex index;
  index.total_bytes = json.size();
  for (codec::PieceEntry& slice : *slices) index.slices.push_back({std::move(slice.key), slice.size, slice.crc32});
  return store_document(uploader, codec::to_json(index), first_index, slices->size());
}

// Retries per GET of a manifest copy when there are others (as HostGuard's
// kRetriesWithParity, engine/stripe/host_guard.h).
constexpr int kRetriesWithCopies = 2;

// Every index level holds at least two slices, so 32 levels exceed any
// manifest the piece-count limit allows; more means a loop.
constexpr int kMaxManifestLevels = 32;

Result<std::vector<std::byte>> fetch_whole(net::Backend& backend, const std::string& key,
                                           std::size_t max_bytes) {
  std::promise<Result<std::vector<std::byte>>> promise;
  auto future = promise.get_future();
  backend.get_whole(key, max_bytes, [&promise](Result<std::vector<std::byte>> r) { promise.set_value(std::move(r)); });
  return future.get();
}

constexpr std::string_view kNotAKey = "the image is a PNG but not an sxengine or storagex key";

struct Payload {
  std::string text;
  bool storagex_v1 = false;
  bool encrypted = false;
  std::uint32_t stored_crc32 = 0;  // of the stored (compressed, encrypted) payload
};

// Fetches one manifest-bearing piece whose size is not known in advance.
Result<Payload> fetch_document_piece(Context& ctx, net::Backend& backend, const std::string& key,
                                     PayloadTransform& transform) {
  const std::size_t cap = codec::max_received_png_bytes(ctx.limits.max_width, 1) + ctx.limits.max_pixel_bytes;
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
    // No sxengine header: a storagex v1 meta image, or some other picture.
    auto v1 = codec::read_storagex_v1_piece(bytes, pixel_span, ctx.limits);
    if (!v1) return make_error(Errc::kCorrupt, std::string(kNotAKey) + " (" + v1.error().message + ")");
    payload.text.assign(reinterpret_cast<const char*>(v1->data()), v1->size());
    payload.storagex_v1 = true;
  }
  return payload;
}

// A manifest piece whose body arrived corrupted is fetched again, as data pieces are.
Result<Payload> fetch_document_piece_again(Context& ctx, net::Backend& backend, const std::string& key,
                                           PayloadTransform& transform) {
  for (int attempt = 1;; ++attempt) {
    auto piece = fetch_document_piece(ctx, backend, key, transform);
    if (piece || piece.error().code != Errc::kCorrupt || attempt >= kMaxCorruptRefetches || ctx.cancelled())
      return piece;
    ++ctx.refetches;
    report(ctx.options.progress, [&](ProgressSink& p) { p.on_retry(key, attempt, piece.error().message); });
  }
}

}  // namespace

Result<FetchedManifest> fetch_manifest_tree(Context& ctx, net::Backend& backend, const std::string& key,
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
  std::vector<std::string> manifest_keys{key};
  for (int level = 1; level <= kMaxManifestLevels; ++level) {
    auto kind = codec::document_kind(text);
    if (!kind && level == 1 && root->storagex_v1) return make_error(Errc::kCorrupt, "manifest " + key + ": " + std::string(kNotAKey));
    if (!kind) return std::move(kind).error();
    if (*kind == codec::DocumentKind::kStoragexV1) {
      if (!root->storagex_v1) return make_error(Errc::kCorrupt, "storagex meta inside an sxengine piece");
      auto manifest = codec::parse_storagex_v1(text, ctx.manifest_limits);
      if (!manifest) return std::move(manifest).error();
      return FetchedManifest{std::move(*manifest), level, std::move(manifest_keys)};
    }
    if (root->storagex_v1) return make_error(Errc::kCorrupt, "storagex piece holds a non-v1 document");
    if (*kind == codec::DocumentKind::kManifest) {
      auto manifest = codec::parse_manifest(text, ctx.manifest_limits);
      if (!manifest) return std::move(manifest).error();
      if ((manifest->encryption != "none") != root->encrypted)
        return make_error(Errc::kCorrupt, "the manifest's encryption field does not match its piece");
      return FetchedManifest{std::move(*manifest), level, std::move(manifest_keys)};
    }
    auto index = codec::parse_index(text, ctx.manifest_limits);
    if (!index) return std::move(index).error();
    // A slice listed twice would be fetched and held twice: a tree that
    // repeats itself grows without bound, so it is refused.
    std::unordered_set<std::string_view> seen;
    for (const codec::ManifestSlice& slice : index->slices)
      if (!seen.insert(slice.key).second)
        return make_error(Errc::kCorrupt, "manifest index lists slice " + slice.key + " twice");
    std::string joined;
    joined.reserve(std::min<std::uint64_t>(index->total_bytes, std::uint64_t{64} << 20));  // a claim, not yet a fact
    for (const codec::ManifestSlice& slice : index->slices) {
      if (ctx.cancelled()) return make_error(Errc::kCancelled, "pull cancelled");
      auto part = fetch_document_piece_again(ctx, backend, slice.key, transform);
      manifest_keys.push_back(slice.key);
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

Result<FetchedManifest> fetch_manifest_copies(Context& ctx, net::Backend& backend, const std::string& url,
                                              const std::optional<codec::ContentKey>& content_key) {
  const std::vector<std::string>& alternates = ctx.manifest_alternates;
  const bool limit = !alternates.empty() && ctx.limit_get_retries;
  if (limit) ctx.limit_get_retries(kRetriesWithCopies);
  auto fetched = fetch_manifest_tree(ctx, backend, url, content_key);
  for (std::size_t i = 0; !fetched && i < alternates.size() && fetched.error().code != Errc::kCancelled &&
                          fetched.error().code != Errc::kDenied;
       ++i) {
    auto copy = fetch_manifest_tree(ctx, backend, alternates[i], content_key);
    if (copy) fetched = std::move(copy);
  }
  if (limit && (!fetched || fetched->manifest.stripe_parity == 0)) ctx.limit_get_retries(-1);
  return fetched;
}

Result<std::string> store_manifest_tree(Uploader& uploader, const codec::Manifest& manifest,
                                        std::uint64_t first_index) {
  return store_document(uploader, codec::to_json(manifest), first_index, SIZE_MAX);
}

}  // namespace sx::engine
