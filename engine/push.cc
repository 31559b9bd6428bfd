#include "engine/push.h"

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <vector>

#include "codec/checksum.h"
#include "codec/piece_writer.h"
#include "codec/compression.h"
#include "engine/download_key.h"
#include "engine/mapped_file.h"
#include "engine/payload_transform.h"
#include "engine/piece_window.h"
#include "engine/thread_pool.h"

namespace sx::engine {
namespace {

struct PieceRecord {
  std::string key;
  std::uint64_t offset = 0;
  std::uint64_t size = 0;
  std::uint32_t crc32 = 0;
};

// Hands out payloads in order. The span stays valid until the piece is
// acknowledged (it points into the map, the manifest text, or `scratch`).
class PayloadSource {
 public:
  virtual ~PayloadSource() = default;
  // An empty optional at the end.
  virtual Result<std::optional<std::span<const std::byte>>> next(std::span<std::byte> scratch) = 0;
  virtual void done_with(std::uint64_t /*offset*/, std::uint64_t /*size*/) {}
  virtual bool needs_scratch() const { return false; }
};

class SpanSource final : public PayloadSource {
 public:
  SpanSource(std::span<const std::byte> bytes, std::size_t piece_bytes, const MappedFile* map)
      : bytes_(bytes), piece_bytes_(piece_bytes), map_(map) {}
  Result<std::optional<std::span<const std::byte>>> next(std::span<std::byte>) override {
    if (at_ >= bytes_.size()) return std::optional<std::span<const std::byte>>{};
    const std::size_t n = std::min(piece_bytes_, bytes_.size() - at_);
    auto piece = bytes_.subspan(at_, n);
    at_ += n;
    return std::optional(piece);
  }
  void done_with(std::uint64_t offset, std::uint64_t size) override {
    if (map_) map_->release(offset, size);
  }

 private:
  std::span<const std::byte> bytes_;
  std::size_t piece_bytes_;
  const MappedFile* map_;
  std::size_t at_ = 0;
};

class StreamSource final : public PayloadSource {
 public:
  StreamSource(int fd, std::size_t piece_bytes) : fd_(fd), piece_bytes_(piece_bytes) {}
  Result<std::optional<std::span<const std::byte>>> next(std::span<std::byte> scratch) override {
    std::size_t filled = 0;
    while (!eof_ && filled < piece_bytes_) {
      const ssize_t n = ::read(fd_, scratch.data() + filled, piece_bytes_ - filled);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return make_error(Errc::kIo, std::string("cannot read input: ") + std::strerror(errno));
      if (n == 0) eof_ = true;
      filled += static_cast<std::size_t>(n);
    }
    if (filled == 0) return std::optional<std::span<const std::byte>>{};
    return std::optional(std::span<const std::byte>(scratch.data(), filled));
  }
  bool needs_scratch() const override { return true; }

 private:
  int fd_;
  std::size_t piece_bytes_;
  bool eof_ = false;
};

struct Uploader {
  Context& ctx;
  net::Backend& backend;
  codec::Geometry geometry;
  TransformPool& transforms;
  Options::Compress compress_mode;
  // Manifest pieces are numbered across every level of the manifest tree, so
  // each (domain, index) names one piece: the nonce is never reused.
  std::uint64_t next_manifest_index = 0;

  std::size_t window_slots() const {
    const std::size_t workers = static_cast<std::size_t>(ctx.pool.size());
    if (backend.synchronous()) return workers + 1;
    return static_cast<std::size_t>(std::max(1, ctx.options.parallel)) + workers;
  }

  // Encodes and stores every payload `source` yields, `window` at a time.
  // `observe` sees each payload in order on this thread (the file hash).
  Result<std::vector<PieceRecord>> run(PayloadSource& source, std::uint8_t flags, bool progress,
                                       const std::function<void(std::span<const std::byte>)>& observe,
                                       std::uint32_t domain = 0, std::uint64_t first_index = 0) {
    bool compress = compress_mode == Options::Compress::kZstd;
    const std::size_t png_bytes = codec::max_png_bytes(geometry);
    PieceWindow window(window_slots(), png_bytes, source.needs_scratch() ? geometry.capacity() : 0);
    FirstError failure(ctx.cancelled);
    std::mutex records_mutex;  // guards records
    std::vector<PieceRecord> records;
    std::uint64_t offset = 0;
    for (std::uint64_t index = 0; !ctx.cancelled; ++index) {
      Slot& slot = window.acquire();
      auto payload = source.next(source.needs_scratch() ? slot.pixels() : std::span<std::byte>{});
      if (!payload || !*payload) {
        window.release(slot);
        if (!payload) failure.set(std::move(payload).error());
        break;
      }
      const std::span<const std::byte> bytes = **payload;
      if (observe) observe(bytes);
      if (index == 0 && compress_mode == Options::Compress::kAuto)
        compress = domain != 0 || codec::worth_compressing(bytes.first(std::min<std::size_t>(bytes.size(), 256 << 10)));
      {
        std::lock_guard lock(records_mutex);
        records.push_back({{}, offset, bytes.size(), 0});
      }
      ctx.pool.post([&, index, offset, bytes, compress, slot_ptr = &slot] {
        Slot& s = *slot_ptr;
        if (ctx.cancelled) return window.release(s);
        codec::PieceHeader header;
        header.flags = flags;
        header.piece_index = first_index + index;
        PayloadTransform& transform = transforms.acquire();
        Result<std::size_t> written = make_error(Errc::kIo, "");
        if (ctx.options.deflate_level == 0) {
          written = transform.write_piece(header, {domain, header.piece_index}, bytes, compress, geometry, s.png());
        } else if (auto stored = transform.seal({domain, header.piece_index}, bytes, compress, header.flags); !stored) {
          written = std::move(stored).error();
        } else {
          written = codec::CompressingPieceWriter(ctx.options.deflate_level, geometry).write(header, *stored, s.png());
        }
        transforms.release(transform);
        if (!written) {
          failure.set(std::move(written).error());
          return window.release(s);
        }
        const auto png = s.png().first(*written);
        backend.put(codec::content_name(png) + ".png", png,
                    [&, index, offset, crc = header.payload_crc32, size = bytes.size(),
                     slot_ptr](Result<std::string> key) {
                      if (!key) {
                        Error e = std::move(key).error();
                        e.message = "piece " + std::to_string(index) + ": " + e.message;
                        failure.set(std::move(e));
                      } else {
                        {
                          std::lock_guard lock(records_mutex);
                          records[index] = {std::move(*key), offset, size, crc};
                        }
                        source.done_with(offset, size);
                        if (progress) report(ctx.options.progress, [&](ProgressSink& p) { p.on_piece(index, size); });
                      }
                      window.release(*slot_ptr);
                    });
      });
      offset += bytes.size();
    }
    window.wait_idle();
    if (auto error = failure.take()) return std::move(*error);
    if (ctx.cancelled) return make_error(Errc::kCancelled, "push cancelled");
    return records;
  }

  // Stores a manifest (or index) document; returns the key of its root piece.
  // A document larger than one piece is sliced, and an index of the slices is
  // stored the same way, so neither file size nor piece count has a ceiling.
  Result<std::string> store_document(const std::string& json, std::size_t previous_slices = SIZE_MAX) {
    const auto bytes = std::as_bytes(std::span<const char>(json.data(), json.size()));
    SpanSource source(bytes, geometry.capacity() - kPayloadOverhead, nullptr);
    const std::uint64_t first = next_manifest_index;
    auto slices = run(source, codec::kFlagManifest, false, {}, 1, first);
    if (!slices) return std::move(slices).error();
    next_manifest_index += slices->size();
    if (slices->size() == 1) return std::move((*slices)[0].key);
    if (slices->size() >= previous_slices)  // each level must shrink, or the tree never ends
      return make_error(Errc::kInvalidArgument, "pieces of " + std::to_string(geometry.capacity()) +
                                                    " bytes are too small to hold the manifest's keys");
    codec::ManifestIndex index;
    index.total_bytes = json.size();
    for (PieceRecord& slice : *slices) index.slices.push_back({std::move(slice.key), slice.size, slice.crc32});
    return store_document(codec::to_json(index), slices->size());
  }
};

std::string default_name(const std::string& path) {
  if (path == "-") return "stdin";
  return std::filesystem::path(path).filename().string();
}

}  // namespace

Result<std::string> push(Context& ctx, net::Backend& backend, const std::string& path,
                         const std::string& name) {
  const Options& o = ctx.options;
  // Pieces fit what the backend accepts (an image host's size and dimension limits).
  const net::ObjectLimits accepts = backend.limits();
  codec::DecodeLimits shape = ctx.limits;
  if (accepts.max_width) shape.max_width = std::min(shape.max_width, accepts.max_width);
  if (accepts.max_height) shape.max_height = std::min(shape.max_height, accepts.max_height);
  const bool explicit_size = o.width || o.height;
  std::size_t piece_bytes = o.piece_bytes;
  if (!explicit_size && (accepts.max_width || accepts.max_height)) {
    // The largest piece whose image fits the host's dimensions.
    const std::size_t pixels = std::size_t{shape.max_width} * shape.max_height * codec::kBytesPerPixel;
    const std::size_t fits = pixels > codec::kHeaderBytes + kPayloadOverhead
                                 ? pixels - codec::kHeaderBytes - kPayloadOverhead : 0;
    piece_bytes = std::min(piece_bytes, std::max(fits, kMinPieceBytes));
  }
  // Stored payloads carry the AEAD tag on top of the piece's bytes.
  auto geometry = explicit_size ? codec::geometry_for_dimensions(o.width, o.height, shape)
                                : codec::geometry_for_piece_size(piece_bytes + kPayloadOverhead, shape);
  while (geometry && !explicit_size && accepts.max_bytes &&
         codec::max_png_bytes(*geometry) > accepts.max_bytes && piece_bytes > kMinPieceBytes) {
    piece_bytes = std::max(kMinPieceBytes, piece_bytes / 8 * 7);
    geometry = codec::geometry_for_piece_size(piece_bytes + kPayloadOverhead, shape);
  }
  if (!geometry) return std::move(geometry).error();
  if (explicit_size) {
    if (geometry->capacity() <= kPayloadOverhead)
      return make_error(Errc::kInvalidArgument, "--width x --height is too small for a piece");
    piece_bytes = geometry->capacity() - kPayloadOverhead;
  }
  if (accepts.max_bytes && codec::max_png_bytes(*geometry) > accepts.max_bytes)
    return make_error(Errc::kInvalidArgument, "pieces of this size exceed the " + std::to_string(accepts.max_bytes) +
                                                  " bytes " + backend.describe() + " accepts");
  if (piece_bytes < kMinPieceBytes)
    return make_error(Errc::kInvalidArgument, "pieces must carry at least " + std::to_string(kMinPieceBytes) +
                                                  " bytes (a manifest index must fit in one)");

  const auto started = std::chrono::steady_clock::now();
  std::optional<MappedFile> map;
  std::unique_ptr<PayloadSource> source;
  std::uint64_t total = 0;
  if (path == "-") {
    source = std::make_unique<StreamSource>(STDIN_FILENO, piece_bytes);
  } else {
    auto opened = MappedFile::open(path);
    if (!opened) return std::move(opened).error();
    map.emplace(std::move(*opened));
    total = map->bytes().size();
    source = std::make_unique<SpanSource>(map->bytes(), piece_bytes, &*map);
  }
  report(o.progress, [&](ProgressSink& p) {
    p.on_start("push", total, (total + piece_bytes - 1) / piece_bytes);
  });

  // The content key: random, or derived from the passphrase with a random salt.
  DownloadKey download;
  std::optional<codec::ContentKey> content_key;
  if (o.encrypt) {
    if (o.passphrase.empty()) {
      content_key = codec::random_key();
      download.key = content_key;
    } else {
      download.salt = codec::random_salt();
      auto derived = codec::derive_key(o.passphrase, *download.salt);
      if (!derived) return std::move(derived).error();
      content_key = *derived;
    }
  }
  TransformPool transforms(static_cast<std::size_t>(ctx.pool.size()), content_key);
  Uploader uploader{ctx, backend, *geometry, transforms, o.compress};
  codec::Sha256 file_hash;
  auto records = uploader.run(*source, 0, true,
                              [&](std::span<const std::byte> bytes) { file_hash.update(bytes); });
  if (!records) return std::move(records).error();

  codec::Manifest manifest;
  manifest.name = name.empty() ? default_name(path) : name;
  manifest.sha256 = codec::to_hex(file_hash.finish());
  manifest.piece_size = piece_bytes;
  manifest.width = geometry->width;
  manifest.height = geometry->height;
  manifest.encryption = o.encrypt ? "aes-256-gcm" : "none";
  for (std::size_t i = 0; i < records->size(); ++i) {
    PieceRecord& r = (*records)[i];
    manifest.size += r.size;
    manifest.pieces.push_back({i, std::move(r.key), r.offset, r.size, r.crc32});
  }
  auto key = uploader.store_document(codec::to_json(manifest));
  if (!key) return std::move(key).error();
  download.url = std::move(*key);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  report(o.progress, [&](ProgressSink& p) { p.on_finish(manifest.size, seconds, ctx.all_retries()); });
  return format_download_key(download);
}

}  // namespace sx::engine
