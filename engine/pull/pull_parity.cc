#include "engine/pull/pull_parity.h"

#include <map>
#include <mutex>
#include <vector>

#include "engine/stripe/host_guard.h"
#include "engine/stripe/stripe_rebuild.h"

namespace sx::engine {

Status fetch_with_parity(Context& ctx, net::Backend& backend, const CheckedManifest& checked,
                         const std::optional<codec::ContentKey>& content_key, std::span<const IndexRange> ranges,
                         OutputFile& file, const PieceSink& write_piece) {
  const codec::Manifest& manifest = checked.manifest();
  HostGuard guard(backend);
  LostPieces lost_pieces;
  FetchOptions options;
  options.on_failure = lost_pieces.recorder();
  Downloader downloader(ctx, guard, checked, content_key);
  // First pass without retries: a failed piece costs one parity piece to
  // rebuild, about what a retry costs, and a dead host costs nothing.
  const auto limit = [&](int retries) {
    if (ctx.limit_get_retries) ctx.limit_get_retries(retries);
  };
  limit(0);
  if (auto fetched = downloader.fetch(ranges, write_piece, options); !fetched) return fetched;
  if (ctx.cancelled()) return make_error(Errc::kCancelled, "pull cancelled");
  std::vector<std::uint64_t> lost = lost_pieces.take();
  // A stripe that lost more than its parity gets its lost pieces asked for
  // again with retries, set-aside hosts too (two blips in a row set a host
  // aside; a dead one still costs well under a second).
  std::map<std::uint64_t, int> per_stripe;
  for (std::uint64_t i : lost) ++per_stripe[i / manifest.stripe_data];
  std::vector<IndexRange> again;
  std::vector<std::uint64_t> kept;
  for (std::uint64_t i : lost) {
    if (per_stripe[i / manifest.stripe_data] > manifest.stripe_parity) again.push_back({i, i + 1});
    else kept.push_back(i);
  }
  limit(HostGuard::kRetriesWithParity);
  if (!again.empty()) {
    Downloader patient(ctx, backend, checked, content_key);
    if (auto fetched = patient.fetch(again, write_piece, options); !fetched) return fetched;
    lost = std::move(kept);
    for (std::uint64_t i : lost_pieces.take()) lost.push_back(i);
  }
  const ReadData read_back = [&](const codec::PieceEntry& piece, std::span<std::byte> out) {
    return file.read_at(out, piece.offset);
  };
  return rebuild_data_pieces(ctx, guard, checked, content_key, std::move(lost), read_back, write_piece, &backend);
}

}  // namespace sx::engine
