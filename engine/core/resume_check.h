// The one rule for state an earlier run left (a killed push or pull): a
// journal record is evidence, never proof. A resumed piece counts only when
// the bytes it stands for hash, now, to the digest its record holds
// (codec::content_name, XXH3-128 of the plaintext):
// - pull: the piece read back from the temp file (a flipped byte, a hole a
//   lost writeback left, a planted file: fetched again);
// - push: the input's bytes at the piece's offset (an edit that kept size
//   and mtime: stored again), and the stored object fetched and opened as
//   pull opens it (deleted or replaced on the backend: stored again).
// Because every record is re-checked, a journal line may reach the disk
// before the data it vouches for: no fdatasync per piece is needed.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "codec/manifest.h"
#include "codec/piece_crypto.h"
#include "engine/core/context.h"
#include "net/backend.h"

namespace sx::engine {

class OutputFile;

// A piece an earlier run finished: its entry and the digest of its plaintext.
struct ResumedPiece {
  codec::PieceEntry entry;
  std::string digest;  // codec::content_name of the plaintext
};

// True when `plaintext` is what `digest` records.
bool matches_record(std::span<const std::byte> plaintext, const std::string& digest);

// pull: which journalled pieces the temp file really holds. `recorded[i]` is
// piece i's recorded digest ("" none); reads each back on the pool, 1 MiB at
// a time, and returns by index 1 for a piece that matches.
std::vector<char> verify_written_pieces(Context& ctx, const OutputFile& file, const codec::Manifest& manifest,
                                        const std::vector<std::string>& recorded);

// push: which journalled objects are on the backend as they were stored:
// each is fetched and opened (header, CRC, AEAD tag) as pull would, and its
// plaintext compared with the record. Returns the indices (into `pieces`)
// that passed. `geometry` and `encrypted` are the push's.
Result<std::vector<char>> verify_stored_pieces(Context& ctx, net::Backend& backend, const std::vector<ResumedPiece>& pieces,
                                       const codec::Geometry& geometry, std::size_t piece_bytes,
                                       const std::optional<codec::ContentKey>& content_key);

}  // namespace sx::engine
