// push's transfer stage: encodes the payloads a source yields into piece
// images on the workers and stores them through the backend, a bounded
// window at a time. Data pieces and manifest pieces go through the same
// uploader; the downloader (engine/pull/downloader.h) is its mirror on pull.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

#include "codec/checksum.h"
#include "codec/manifest.h"
#include "engine/core/context.h"
#include "engine/push/input_file.h"
#include "engine/core/payload_transform.h"
#include "engine/core/resume_check.h"
#include "net/backend.h"
#include "sx/options.h"

namespace sx::engine {

// Hands out payloads in order. A span stays valid until its piece is stored
// (it points into the source's own bytes or into `scratch`).
class PayloadSource {
 public:
  virtual ~PayloadSource() = default;
  // An empty optional at the end.
  virtual Result<std::optional<std::span<const std::byte>>> next(std::span<std::byte> scratch) = 0;
  virtual bool needs_scratch() const { return false; }
};

// The input file, read piece by piece into each slot's scratch buffer.
class InputSource final : public PayloadSource {
 public:
  InputSource(InputFile& file, std::size_t piece_bytes) : file_(file), piece_bytes_(piece_bytes) {}
  Result<std::optional<std::span<const std::byte>>> next(std::span<std::byte> scratch) override;
  bool needs_scratch() const override { return true; }

 private:
  InputFile& file_;
  std::size_t piece_bytes_;
};

// Bytes already in memory (a manifest document), cut into pieces.
class SpanSource final : public PayloadSource {
 public:
  SpanSource(std::span<const std::byte> bytes, std::size_t piece_bytes) : bytes_(bytes), piece_bytes_(piece_bytes) {}
  Result<std::optional<std::span<const std::byte>>> next(std::span<std::byte> scratch) override;

 private:
  std::span<const std::byte> bytes_;
  std::size_t piece_bytes_;
  std::size_t at_ = 0;
};

// One piece of a run that mixes kinds (a striped push: data and parity
// pieces, each to its own backend).
struct PieceClass {
  std::uint8_t flags = 0;         // ORed into the header's
  std::uint32_t domain = 0;       // the nonce's place (docs/FORMAT.md §6.1)
  std::uint64_t piece_index = 0;  // the header's
  net::Backend* backend = nullptr;
  bool data = true;  // a data piece: progress, and its digest at piece_index
};

// What a run stores: data pieces (domain 0) or manifest pieces (domain 1),
// numbered from `first_index` (the nonce's place: never reused).
struct PieceKind {
  std::uint8_t flags = 0;
  std::uint32_t domain = 0;
  std::uint64_t first_index = 0;
  bool progress = false;  // report each piece to the progress sink
  // Set: each piece's SHA-256 (of its plaintext) lands at its index, hashed
  // on the worker that encodes it (the "sha256-tree" digest).
  std::vector<codec::Sha256Digest>* digests = nullptr;
  // Set: what the run's piece r is, asked on the calling thread right after
  // the source yields it (a striped push); else every piece is of this kind.
  std::function<PieceClass(std::uint64_t run_index)> classify;
};

// A resumed push: pieces stored by an earlier run are read (and observed)
// but not stored again when the bytes read now match their record's digest
// (resume_check.h); a piece that differs (an edit that kept size and mtime)
// is stored again. Each newly stored piece is reported to on_stored with
// the digest of its plaintext.
struct ResumeState {
  const std::unordered_map<std::uint64_t, ResumedPiece>* stored = nullptr;
  std::function<Status(const ResumedPiece&)> on_stored;
};

class Uploader {
 public:
  Uploader(Context& ctx, net::Backend& backend, const codec::Geometry& geometry, TransformPool& transforms,
           Options::Compress compress);

  // Encodes and stores every payload `source` yields; returns one entry per
  // piece (index, key, offset, size, CRC). `observe` sees each payload in
  // order on this thread, before it is encoded (the file hash).
  Result<std::vector<codec::PieceEntry>> run(PayloadSource& source, const PieceKind& kind,
                                             const std::function<void(std::span<const std::byte>)>& observe = {},
                                             const ResumeState& resume = {});

  const codec::Geometry& geometry() const { return geometry_; }
  // Objects stored so far by every run, kept or not (a failed push's orphans).
  std::vector<std::string> stored_keys() const;
  std::uint64_t stored_bytes() const;

 private:
  Context& ctx_;
  net::Backend& backend_;
  codec::Geometry geometry_;
  TransformPool& transforms_;
  Options::Compress compress_;
  mutable std::mutex stored_mutex_;  // guards stored_keys_ and stored_bytes_
  std::vector<std::string> stored_keys_;
  std::uint64_t stored_bytes_ = 0;
};

}  // namespace sx::engine
