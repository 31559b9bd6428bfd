#include "engine/core/resume_check.h"

#include <algorithm>
#include <latch>
#include <memory>
#include <new>

#include "codec/checksum.h"
#include "engine/pull/downloader.h"
#include "engine/pull/output_file.h"
#include "engine/core/thread_pool.h"

namespace sx::engine {

bool matches_record(std::span<const std::byte> plaintext, const std::string& digest) {
  return !digest.empty() && codec::content_name(plaintext) == digest;
}

std::vector<char> verify_written_pieces(Context& ctx, const OutputFile& file, const codec::Manifest& manifest,
                                        const std::vector<std::string>& recorded) {
  std::vector<char> good(manifest.pieces.size(), 0);
  std::vector<std::uint64_t> todo;
  for (std::uint64_t i = 0; i < recorded.size() && i < manifest.pieces.size(); ++i)
    if (!recorded[i].empty()) todo.push_back(i);
  if (todo.empty()) return good;
  // One task per worker, each taking the next piece: read back in chunks
  // that stay in cache, hashed as they come (no piece-sized buffers).
  const auto workers = static_cast<std::ptrdiff_t>(std::min<std::size_t>(todo.size(), ctx.pool.size()));
  std::latch finished(workers);
  std::atomic<std::size_t> next{0};
  for (std::ptrdiff_t w = 0; w < workers; ++w) {
    ctx.pool.post([&] {
      constexpr std::size_t kChunk = std::size_t{1} << 20;
      std::unique_ptr<std::byte[]> chunk(new (std::nothrow) std::byte[kChunk]);
      for (std::size_t t; chunk && (t = next.fetch_add(1)) < todo.size() && !ctx.cancelled();) {
        const codec::PieceEntry& piece = manifest.pieces[todo[t]];
        codec::ContentHasher hasher;
        bool read = true;
        for (std::uint64_t at = 0; read && at < piece.size; at += kChunk) {
          const std::span<std::byte> part(chunk.get(), std::min<std::uint64_t>(kChunk, piece.size - at));
          read = static_cast<bool>(file.read_at(part, piece.offset + at));
          if (read) hasher.update(part);
        }
        good[todo[t]] = read && hasher.finish() == recorded[todo[t]];  // distinct bytes per task
      }
      finished.count_down();
    }, [&finished](Error) { finished.count_down(); });  // a task that threw: its pieces stay unverified
  }
  finished.wait();
  return good;
}

Result<std::vector<char>> verify_stored_pieces(Context& ctx, net::Backend& backend, const std::vector<ResumedPiece>& pieces,
                                       const codec::Geometry& geometry, std::size_t piece_bytes,
                                       const std::optional<codec::ContentKey>& content_key) {
  std::vector<char> good(pieces.size(), 0);
  if (pieces.empty()) return good;
  // The journalled objects as a manifest of their own, fetched as pull
  // fetches: whatever fails (gone, damaged, another object) is not counted.
  codec::Manifest stored;
  stored.piece_size = piece_bytes;
  stored.width = geometry.width;
  stored.height = geometry.height;
  stored.encryption = content_key ? "aes-256-gcm" : "none";
  for (const ResumedPiece& p : pieces) stored.pieces.push_back(p.entry);
  FetchOptions options;
  options.on_failure = [](const codec::PieceEntry&, const Error&) {};  // not counted; stored again
  // This push's own objects: nothing in them came from a key.
  const CheckedManifest own = CheckedManifest::own(std::move(stored));
  // The sink gets `own`'s entries: their place there is their place in
  // `pieces`. Each is landed once, so each writes its own byte of `good`.
  const auto check = [&](const codec::PieceEntry& piece, std::span<const std::byte> payload) {
    const auto at = static_cast<std::size_t>(&piece - own->pieces.data());
    if (at < pieces.size()) good[at] = matches_record(payload, pieces[at].digest);
    return Status{};
  };
  Downloader downloader(ctx, backend, own, content_key);
  const IndexRange all{0, own->pieces.size()};
  // A piece that fails is left uncounted; a failure of the fetch itself
  // (out of memory, cancelled) is the push's.
  if (auto fetched = downloader.fetch({&all, 1}, check, options); !fetched) return std::move(fetched).error();
  if (ctx.cancelled()) return make_error(Errc::kCancelled, "push cancelled");
  return good;
}

}  // namespace sx::engine
