#include "engine/verify.h"

#include <algorithm>
#include <mutex>

#include "base/text.h"
#include "codec/checksum.h"
#include "engine/downloader.h"
#include "engine/file_digest.h"
#include "engine/manifest_tree.h"

namespace sx::engine {

Result<VerifyReport> verify(Context& ctx, net::Backend& backend, const std::string& url,
                            const std::optional<codec::ContentKey>& content_key, bool check_sha256) {
  auto fetched = fetch_manifest_copies(ctx, backend, url, content_key);
  if (!fetched) return std::move(fetched).error();
  const codec::Manifest& manifest = fetched->manifest;
  if (auto fits = check_manifest_limits(manifest, ctx.limits); !fits) return std::move(fits).error();
  report(ctx.options.progress, [&](ProgressSink& p) { p.on_start("verify", manifest.size, manifest.pieces.size()); });

  VerifyReport result;
  result.pieces = manifest.pieces.size();
  result.manifest_levels = fetched->levels;
  std::mutex problems_mutex;  // guards result.problems
  FileDigestCheck digest(manifest, {}, check_sha256);  // in order: nothing is read back
  FetchOptions options;
  options.in_order = true;  // the whole-file digest is taken as pieces pass, in bounded memory
  options.on_failure = [&](const codec::PieceEntry& piece, const Error& error) {
    std::lock_guard lock(problems_mutex);
    result.problems.push_back({piece.index, piece.key, error.code, error.message});
  };
  Downloader downloader(ctx, backend, manifest, content_key);
  const IndexRange all{0, manifest.pieces.size()};
  Status fetched_all = downloader.fetch({&all, 1}, [&](const codec::PieceEntry& piece, std::span<const std::byte> payload) {
    result.bytes += piece.size;
    return digest.landed(piece, payload);
  }, options);
  if (!fetched_all) return std::move(fetched_all).error();
  std::sort(result.problems.begin(), result.problems.end(),
            [](const PieceProblem& a, const PieceProblem& b) { return a.index < b.index; });
  // The file's digest can be judged only when every piece came through.
  result.digest = manifest.version == 1 ? "none" : manifest.digest;
  if (manifest.version != 1 && result.problems.empty()) {
    result.digest_checked = true;
    Status checked = digest.finish();
    result.digest_matches = bool(checked);
    result.sha256 = digest.sha256();
  }
  return result;
}

}  // namespace sx::engine
