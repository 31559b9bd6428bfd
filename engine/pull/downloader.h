// The one piece-fetching API: pull, verify, a byte-range reader and parity
// repair all fetch pieces through it. It fetches the pieces of an index set
// many at once, decodes and verifies each (header, CRC-32, AEAD tag, size),
// fetches a corrupt body again a bounded number of times, and hands each
// verified payload to a sink with its entry (index, offset). It knows
// nothing of output files. The mirror of push's Uploader.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "codec/manifest.h"
#include "codec/piece_crypto.h"
#include "engine/keys/checked_manifest.h"
#include "engine/core/context.h"
#include "net/backend.h"
#include "sx/error.h"

namespace sx::engine {

// Pieces [begin, end) of a manifest.
struct IndexRange {
  std::uint64_t begin = 0;
  std::uint64_t end = 0;
};

// Runs on a worker thread, concurrently with other pieces, in any order.
// `payload` is valid only during the call. An error stops the fetch.
using PieceSink = std::function<Status(const codec::PieceEntry& piece, std::span<const std::byte> payload)>;

// A piece that could not be fetched or failed its checks, with why.
using PieceFailure = std::function<void(const codec::PieceEntry& piece, const Error& error)>;

struct FetchOptions {
  // The sink sees the pieces in the order of the ranges (streaming to
  // stdout, hashing as it goes): a piece that arrives early keeps its window
  // slot, its payload copied there, until its turn, so memory stays bounded
  // by the window whatever the order of arrival. The sink then runs on one
  // thread at a time.
  bool in_order = false;
  // Set: a bad or missing piece is reported here (any thread) and the fetch
  // goes on with the rest (verify); fetch then fails only for other reasons.
  PieceFailure on_failure;
  // The manifest's `pieces` are parity pieces (a stripe's, docs/FORMAT.md
  // §10): flag bit 1 required and nonce domain 2, instead of data pieces.
  bool parity = false;
};

// The pieces a fetch with FetchOptions::on_failure went past (missing or
// bad), gathered from whichever thread reports them.
class LostPieces {
 public:
  PieceFailure recorder() {
    return [this](const codec::PieceEntry& piece, const Error&) {
      std::lock_guard lock(mutex_);
      indices_.push_back(piece.index);
    };
  }
  std::vector<std::uint64_t> take() {
    std::lock_guard lock(mutex_);
    return std::exchange(indices_, {});
  }

 private:
  std::mutex mutex_;  // guards indices_
  std::vector<std::uint64_t> indices_;
};

class Downloader {
 public:
  // Only a checked manifest (engine/keys/checked_manifest.h); it outlives the
  // downloader.
  Downloader(Context& ctx, net::Backend& backend, const CheckedManifest& manifest,
             const std::optional<codec::ContentKey>& content_key);

  // Fetches every piece in `ranges`; the first failure (named by piece index
  // and URL) cancels the rest and is returned.
  Status fetch(std::span<const IndexRange> ranges, const PieceSink& sink, const FetchOptions& options = {});

 private:
  Context& ctx_;
  net::Backend& backend_;
  const codec::Manifest& manifest_;
  const std::optional<codec::ContentKey>& content_key_;
};

// Refuses a manifest whose claims exceed what a reader will allocate for:
// geometry past the decode limits, a piece size its geometry cannot hold
// (part of check_manifest).
Status check_manifest_limits(const codec::Manifest& manifest, const codec::DecodeLimits& limits);

}  // namespace sx::engine
