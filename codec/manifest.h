// The manifest: what a download key points to (docs/FORMAT.md §Manifest).
// JSON written with fmt, read with simdjson; also reads storagex v1 meta info.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "codec/tree_entries.h"
#include "sx/error.h"

namespace sx::codec {

inline constexpr std::string_view kManifestFormat = "sxengine-manifest";
inline constexpr std::string_view kIndexFormat = "sxengine-manifest-index";
inline constexpr int kManifestVersion = 2;
inline constexpr std::string_view kDigestSha256 = "sha256";
inline constexpr std::string_view kDigestSha256Tree = "sha256-tree";
inline constexpr std::string_view kDigestAead = "aead";
// A stripe spans at most this many backends (one shard each): --backend's cap.
inline constexpr int kMaxBackends = 16;

struct PieceEntry {
  std::uint64_t index = 0;
  std::string key;  // URL of the piece image
  std::uint64_t offset = 0;
  std::uint64_t size = 0;
  std::uint32_t crc32 = 0;  // of the payload; storagex v1 has none
};

struct Manifest {
  int version = kManifestVersion;  // 1 = storagex meta info
  std::string name;                // as pushed; sanitize before using as a path
  std::uint64_t size = 0;
  // What vouches for the whole file (docs/FORMAT.md §4):
  //   kDigestSha256      the whole file's SHA-256 in `sha256` (before this field existed)
  //   kDigestSha256Tree  SHA-256 over the pieces' SHA-256 digests, in `sha256_tree`:
  //                      computed per piece on the workers, in parallel
  //   kDigestAead        encrypted files: every piece's AES-GCM tag (and the
  //                      authenticated manifest) vouch for it; no digest needed
  std::string digest = "sha256";
  std::string sha256;       // lowercase hex; optional unless digest is "sha256"; empty for storagex v1
  std::string sha256_tree;  // lowercase hex, with digest "sha256-tree"
  std::uint64_t piece_size = 0;
  std::uint32_t width = 0;
  std::uint32_t height = 0;
  // "aes-256-gcm": every data piece must be encrypted (a plaintext piece
  // could be forged to match a CRC-32); "none".
  std::string encryption = "none";
  std::vector<PieceEntry> pieces;  // sorted by index, offsets contiguous
  // Striping over several backends (docs/FORMAT.md §10). stripe_data = 0: one
  // backend, no stripes (every manifest before the fields existed). Else
  // stripe s holds data pieces s·D … s·D+D−1 and parity pieces s·K … s·K+K−1.
  int stripe_data = 0;    // D
  int stripe_parity = 0;  // K
  // Index s·K + j; offset 0; size = the longest data piece of stripe s.
  std::vector<PieceEntry> parity_pieces;
  // A tree key (docs/FORMAT.md §11): its entries; the pieces then hold the
  // tree's stream, every file's bytes back to back. Empty: a single file.
  std::vector<TreeEntry> tree;
  bool is_tree() const { return !tree.empty(); }
  std::uint64_t stripes() const {
    return stripe_data ? (pieces.size() + static_cast<std::uint64_t>(stripe_data) - 1) / stripe_data : 0;
  }
};

// A manifest too big for one piece is cut into slices stored as pieces; an
// index lists them (and may itself be sliced: the levels form a tree).
struct ManifestSlice {
  std::string key;
  std::uint64_t size = 0;
  std::uint32_t crc32 = 0;
};
struct ManifestIndex {
  std::uint64_t total_bytes = 0;  // of the JSON the slices concatenate to
  std::vector<ManifestSlice> slices;
};

// Bounds a reader checks before it builds anything (hostile manifests).
// A reader's memory is bounded by them (docs/SECURITY.md §Limits): a
// manifest near max_json_bytes costs about 5 × its size at the peak (the
// text, simdjson's padded copy and tape, the piece table): measured 1.2 GB
// for 1.3 million pieces in 246 MB of JSON.
struct ManifestLimits {
  // 2^21 pieces: 16 TiB at the default 8 MiB pieces.
  std::uint64_t max_pieces = std::uint64_t{1} << 21;
  // 256 MiB of JSON: ~150 bytes a piece entry with an S3 or HTTP URL.
  std::size_t max_json_bytes = std::size_t{256} << 20;
  std::size_t max_key_bytes = 4096;
  // 2^22 entries of a tree: about 600 MiB of JSON at the longest paths, but
  // the JSON limit above usually binds first.
  std::uint64_t max_tree_entries = std::uint64_t{1} << 22;
};

std::string to_json(const Manifest& manifest);
std::string to_json(const ManifestIndex& index);

enum class DocumentKind { kManifest, kIndex, kStoragexV1 };
// Which document `json` is, from its format field (v2) or protocol_version (v1).
Result<DocumentKind> document_kind(std::string_view json);

// Parses and validates: pieces 0..n-1 once each, offsets contiguous, sizes add
// up to the file size, each piece at most piece_size. kCorrupt otherwise.
Result<Manifest> parse_manifest(std::string_view json, const ManifestLimits& limits);
Result<Manifest> parse_storagex_v1(std::string_view json, const ManifestLimits& limits);
Result<ManifestIndex> parse_index(std::string_view json, const ManifestLimits& limits);

std::string hex32(std::uint32_t value);

}  // namespace sx::codec
