// What sx::Storage's operations report (info, verify, rm, repair): plain
// structs the engine fills and every front end (the CLI, the gateway, the
// Python module) reads. Fields are only ever added at the end.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sx/error.h"

namespace sx {

struct FileInfo {
  std::string name;
  std::uint64_t size = 0;
  std::string sha256;  // the whole file's, when the manifest records it (push --sha256, older pushes)
  std::string digest;  // what vouches for the file: "sha256", "sha256-tree", "aead", or "none" (storagex v1)
  std::uint64_t pieces = 0;
  std::uint64_t piece_bytes = 0;
  std::uint32_t width = 0;
  std::uint32_t height = 0;
  std::string format;  // "sxengine v2" or "storagex v1"
  int manifest_levels = 1;
  std::string encryption = "none";  // "aes-256-gcm" or "none"
  // Striped keys (docs/FORMAT.md §10); 0 otherwise.
  int stripe_data = 0;
  int stripe_parity = 0;
  std::uint64_t stripes = 0;
  int manifest_copies = 1;  // the key's URL and its &m= copies
  // Tree keys (docs/FORMAT.md §11); 0 for a file. `size` is then the bytes
  // of all files together.
  std::uint64_t entries = 0;
  std::uint64_t files = 0;
};

// One entry of a tree key (Storage::list).
struct TreeItem {
  std::string path;     // relative, '/'-separated, bytes as pushed
  std::string type;     // "file", "dir" or "link"
  std::uint32_t mode = 0;     // permission bits
  std::int64_t mtime_ns = 0;  // modification time, ns since the epoch
  std::uint64_t size = 0;     // a file's bytes
  std::string target;         // a link's target
};

// A piece verify found missing or bad.
struct PieceProblem {
  std::uint64_t index = 0;
  std::string url;
  Errc code = Errc::kCorrupt;  // kNotFound: missing; kCorrupt: fails its checks; others: could not be fetched
  std::string message;
  bool parity = false;  // a parity piece (index among the parity pieces) of a striped key
};

// A striped key's pieces on one backend of its stripes (docs/FORMAT.md §10).
struct BackendHealth {
  int slot = 0;      // position in push's --backend list
  std::string host;  // "scheme://authority" of its pieces
  std::uint64_t present = 0, missing = 0, corrupt = 0;  // missing: not found or unreachable
};

struct VerifyReport {
  std::uint64_t pieces = 0;
  std::uint64_t bytes = 0;  // of the pieces that passed
  int manifest_levels = 1;
  std::vector<PieceProblem> problems;  // by index; empty when every piece passed
  std::string digest;             // what vouches for the file: "sha256", "sha256-tree", "aead", "none"
  bool digest_checked = false;    // v2 files with every piece present
  bool digest_matches = false;    // the recorded digests (and SHA-256, when recorded) agree
  std::string sha256;             // the whole file's, when it was hashed (recorded, or verify --sha256)
  // Striped keys only (stripe_data > 0): data and parity pieces per stripe,
  // per backend counts, and the stripes that lost more than their parity.
  int stripe_data = 0;
  int stripe_parity = 0;
  std::uint64_t stripes = 0;
  std::vector<BackendHealth> backends;
  std::vector<std::uint64_t> unrecoverable_stripes;
  int manifest_copies = 1;     // the key's URL and its &m= copies
  int manifest_copies_ok = 1;  // of those, the ones whose tree reads
  bool recoverable() const { return unrecoverable_stripes.empty() && (stripe_data > 0 || problems.empty()); }
  bool ok() const {
    return problems.empty() && (!digest_checked || digest_matches) && manifest_copies_ok == manifest_copies;
  }
};

struct RemoveReport {
  std::uint64_t objects = 0;       // pieces and manifest pieces of the key
  std::uint64_t removed = 0;       // deleted now (or one reference dropped, when shared)
  std::uint64_t already_gone = 0;  // were not there
  // Objects the key names that rm left alone: not where any of the key's
  // manifest copies lives, or not named as sxengine names objects (a key
  // from a stranger cannot aim rm at other files). Each "URL: why".
  std::vector<std::string> skipped;
};

// What repair did (striped keys, docs/FORMAT.md §10).
struct RepairReport {
  std::string key;             // the key to use from now on
  bool key_changed = false;    // pieces moved to a replacement backend (or were re-created under other names)
  std::uint64_t data_pieces = 0;      // re-created
  std::uint64_t parity_pieces = 0;    // re-created
  std::uint64_t manifest_copies = 0;  // re-created (or, with a new key, stored)
  std::uint64_t stripes = 0;          // that needed it
};

// What a push stored (Storage::push): the key it printed and what info(key)
// says of it, known without reading the manifest back.
struct Pushed {
  std::string key;
  std::string name;
  std::uint64_t size = 0;   // the file's bytes; a tree's files together
  std::uint64_t files = 0;  // a tree's files; 0 for a file key
};

// What a storagex v1 push stored (Storage::upload_storagex_v1).
struct StoragexUpload {
  std::string key;        // the meta image's URL, what storagex 0.3 downloads
  std::string meta_json;  // the meta info, as stored in that image
  std::string name;       // the stored file name
  std::uint64_t size = 0;
};

}  // namespace sx
