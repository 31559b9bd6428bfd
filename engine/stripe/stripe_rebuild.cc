#include "engine/stripe/stripe_rebuild.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "codec/erasure_code.h"

namespace sx::engine {

Status rebuild_data_pieces(Context& ctx, net::Backend& backend, const CheckedManifest& checked,
                           const std::optional<codec::ContentKey>& content_key, std::vector<std::uint64_t> lost,
                           const ReadData& read_data, const PieceSink& sink, net::Backend* patient) {
  const codec::Manifest& manifest = checked.manifest();
  const int d = manifest.stripe_data, k = manifest.stripe_parity;
  std::sort(lost.begin(), lost.end());
  if (lost.empty()) return {};
  const auto name_lost = [&](std::uint64_t stripe, const std::vector<std::uint64_t>& pieces, const std::string& why) {
    std::string list;
    for (std::uint64_t i : pieces) list += (list.empty() ? "" : ", ") + std::to_string(i);
    return Error{Errc::kCorrupt, "stripe " + std::to_string(stripe) + " lost data piece" +
                                     (pieces.size() == 1 ? " " : "s ") + list + why};
  };
  if (k == 0) {
    const std::uint64_t stripe = d ? lost[0] / d : 0;
    return name_lost(stripe, {lost[0]}, " and has no parity (pushed with --parity 0)");
  }
  auto code = codec::ErasureCode::create(d, k);
  if (!code) return std::move(code).error();
  // Stripes with losses, in order, with their lost pieces.
  std::map<std::uint64_t, std::vector<std::uint64_t>> stripes;
  for (std::uint64_t i : lost) stripes[i / d].push_back(i);
  for (const auto& [stripe, pieces] : stripes)
    if (static_cast<int>(pieces.size()) > k)
      return name_lost(stripe, pieces, ": more than its " + std::to_string(k) + " parity piece" +
                                           (k == 1 ? "" : "s") + " can rebuild");

  // Parity pieces are fetched as the "pieces" of a manifest of their own.
  const CheckedManifest parity = checked.parity();
  Downloader downloader(ctx, backend, parity, content_key);
  const std::size_t piece_bytes = manifest.piece_size;
  // Parity pieces in flight (and held) at once: about the request window.
  const std::size_t batch_stripes =
      std::max<std::size_t>(1, static_cast<std::size_t>(std::max(2, ctx.options.parallel)) / static_cast<std::size_t>(k));
  std::vector<std::unique_ptr<std::byte[]>> shards(static_cast<std::size_t>(d + k));
  for (auto& s : shards) s = std::make_unique_for_overwrite<std::byte[]>(piece_bytes);
  auto held = std::make_unique_for_overwrite<std::byte[]>(batch_stripes * k * piece_bytes);

  auto it = stripes.begin();
  while (it != stripes.end()) {
    if (ctx.cancelled()) return make_error(Errc::kCancelled, "pull cancelled");
    std::vector<std::pair<std::uint64_t, std::vector<std::uint64_t>>> batch;
    std::vector<IndexRange> ranges;
    for (; it != stripes.end() && batch.size() < batch_stripes; ++it) {
      batch.emplace_back(it->first, it->second);
      ranges.push_back({it->first * k, it->first * k + k});
    }
    std::mutex mutex;  // guards got, failures
    std::map<std::uint64_t, std::size_t> got;  // parity index → slot in `held`
    std::map<std::uint64_t, std::string> failures;
    std::size_t next_slot = 0;
    std::map<std::uint64_t, std::size_t> slot_of;
    for (const auto& [stripe, pieces] : batch)
      for (int j = 0; j < k; ++j) slot_of[stripe * k + j] = next_slot++;
    FetchOptions options;
    options.parity = true;
    options.on_failure = [&](const codec::PieceEntry& piece, const Error& error) {
      std::lock_guard lock(mutex);
      failures[piece.index] = error.message;
    };
    Status fetched = downloader.fetch(ranges, [&](const codec::PieceEntry& piece, std::span<const std::byte> payload) {
      const std::size_t slot = slot_of.at(piece.index);
      std::memcpy(held.get() + slot * piece_bytes, payload.data(), payload.size());
      std::lock_guard lock(mutex);
      got[piece.index] = slot;
      return Status{};
    }, options);
    if (!fetched) return fetched;
    // Parity a stripe cannot do without, once more, set-aside hosts too.
    std::vector<IndexRange> again;
    for (const auto& [stripe, pieces] : batch) {
      int have = 0;
      for (int j = 0; j < k; ++j) have += got.count(stripe * k + j) ? 1 : 0;
      if (have >= static_cast<int>(pieces.size())) continue;
      for (int j = 0; j < k; ++j)
        if (!got.count(stripe * k + j)) again.push_back({stripe * k + j, stripe * k + j + 1});
    }
    if (patient && !again.empty()) {
      Downloader slow(ctx, *patient, parity, content_key);
      fetched = slow.fetch(again, [&](const codec::PieceEntry& piece, std::span<const std::byte> payload) {
        const std::size_t slot = slot_of.at(piece.index);
        std::memcpy(held.get() + slot * piece_bytes, payload.data(), payload.size());
        std::lock_guard lock(mutex);
        got[piece.index] = slot;
        return Status{};
      }, options);
      if (!fetched) return fetched;
    }
    for (const auto& [stripe, pieces] : batch) {
      const std::uint64_t first = stripe * d;
      const std::uint64_t longest = manifest.pieces[first].size;
      std::vector<std::byte*> pointers;
      bool present[codec::kMaxStripeShards];
      for (int p = 0; p < d; ++p) {
        const std::uint64_t index = first + p;
        std::byte* shard = shards[p].get();
        pointers.push_back(shard);
        const bool is_lost = std::binary_search(pieces.begin(), pieces.end(), index);
        present[p] = !is_lost;
        if (index >= manifest.pieces.size()) {  // the short last stripe: a zero shard
          std::memset(shard, 0, longest);
          continue;
        }
        if (is_lost) continue;
        const codec::PieceEntry& piece = manifest.pieces[index];
        if (auto read = read_data(piece, {shard, piece.size}); !read) return read;
        std::memset(shard + piece.size, 0, longest - piece.size);
      }
      int parity_present = 0;
      std::string why;
      for (int j = 0; j < k; ++j) {
        const std::uint64_t index = stripe * k + j;
        auto g = got.find(index);
        present[d + j] = g != got.end();
        pointers.push_back(present[d + j] ? held.get() + g->second * piece_bytes : shards[d + j].get());
        if (present[d + j]) ++parity_present;
        else if (why.empty() && failures.count(index)) why = failures[index];
      }
      if (parity_present < static_cast<int>(pieces.size()))
        return name_lost(stripe, pieces, " and " + std::to_string(k - parity_present) + " of its " + std::to_string(k) +
                                             " parity pieces: cannot rebuild (" + why + ")");
      if (auto rebuilt = code->reconstruct(pointers, std::span<const bool>(present, d + k), longest); !rebuilt)
        return name_lost(stripe, pieces, ": " + rebuilt.error().message);
      for (std::uint64_t index : pieces) {
        const codec::PieceEntry& piece = manifest.pieces[index];
        if (auto sunk = sink(piece, {pointers[index - first], piece.size}); !sunk) return sunk;
        report(ctx.options.progress, [&](ProgressSink& p) { p.on_piece(piece.index, piece.size); });
      }
    }
  }
  return {};
}

}  // namespace sx::engine
