#include "engine/pull.h"

#include <chrono>

#include "base/text.h"
#include "engine/downloader.h"
#include "engine/manifest_tree.h"
#include "engine/ordered_hasher.h"
#include "engine/output_file.h"

namespace sx::engine {

Result<std::string> pull(Context& ctx, net::Backend& backend, const std::string& url,
                         const std::optional<codec::ContentKey>& content_key, const std::string& out) {
  const auto started = std::chrono::steady_clock::now();
  auto fetched = fetch_manifest_tree(ctx, backend, url, content_key);
  if (!fetched) return std::move(fetched).error();
  const codec::Manifest& manifest = fetched->manifest;
  if (auto fits = check_manifest_limits(manifest, ctx.limits); !fits) return std::move(fits).error();

  const std::string final_path = resolve_output_path(out, manifest.name);
  auto file = OutputFile::create(final_path, manifest.size, ctx.options.force);
  if (!file) return std::move(file).error();
  report(ctx.options.progress, [&](ProgressSink& p) { p.on_start("pull", manifest.size, manifest.pieces.size()); });

  const bool v1 = manifest.version == 1;  // storagex v1 carries no file digest
  OrderedHasher hasher(manifest.pieces, [&](std::uint64_t offset, std::span<std::byte> bytes) {
    return file->read_at(bytes, offset);
  });
  Downloader downloader(ctx, backend, manifest, content_key);
  const IndexRange all{0, manifest.pieces.size()};
  Status fetched_all = downloader.fetch({&all, 1}, [&](const codec::PieceEntry& piece, std::span<const std::byte> payload) {
    if (auto written = file->write_at(payload, piece.offset); !written) return written;
    return v1 ? Status{} : hasher.landed(piece.index, payload);
  });
  if (!fetched_all) return std::move(fetched_all).error();
  if (!v1) {
    auto digest = hasher.finish();
    if (!digest) return std::move(digest).error();
    const std::string sha = text::to_hex(*digest);
    if (sha != manifest.sha256)
      return make_error(Errc::kCorrupt, "whole-file SHA-256 mismatch: got " + sha + ", manifest says " +
                                            manifest.sha256);
  }
  if (auto committed = file->commit(ctx.options.force); !committed) return std::move(committed).error();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  report(ctx.options.progress, [&](ProgressSink& p) { p.on_finish(manifest.size, seconds, ctx.all_retries()); });
  return final_path;
}

}  // namespace sx::engine
