// The C++ API, mirroring storagex's:
//   sx::Storage storage(options);
//   auto key = storage.upload(path);
//   storage.download(*key, out);
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sx/error.h"
#include "sx/options.h"

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

// What a storagex v1 push stored (Storage::upload_storagex_v1).
struct StoragexUpload {
  std::string key;        // the meta image's URL, what storagex 0.3 downloads
  std::string meta_json;  // the meta info, as stored in that image
};

// Owns the worker pool and, when a network backend is used, the event loop.
// Not thread-safe: one operation at a time.
class Storage {
 public:
  explicit Storage(Options options);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  // Pushes a file ("-" reads stdin); `name` overrides the stored file name.
  // Returns the download key: the manifest URL, plus "#k=…" (the content
  // key) or "#s=…" (the passphrase salt) when encrypted.
  Result<std::string> upload(const std::string& path, const std::string& name = {});

  // Pulls `key` to `out`: a file path, a directory (the stored name goes
  // inside, sanitized) or "" (the current directory). Returns the path written.
  // Nothing appears under that path unless every checksum matched.
  Result<std::string> download(const std::string& key, const std::string& out = {});

  // Pushes in the 2017 storagex v1 format instead (for people still on
  // storagex 0.1–0.3): options.width × options.height images (both 0:
  // storagex's 1024 × 768), unencrypted and without checksums by nature, so
  // a passphrase is refused (kInvalidArgument) and `encrypt` is not read.
  Result<StoragexUpload> upload_storagex_v1(const std::string& path, const std::string& name = {});

  Result<FileInfo> info(const std::string& key);

  // The storagex v1 meta info of a storagex key, rendered as storagex wrote
  // it; kInvalidArgument for an sxengine key.
  Result<std::string> storagex_meta(const std::string& key);

  // Fetches and checks every piece and the manifest tree, writing nothing.
  // Fails only when the manifest cannot be read; piece problems are reported.
  Result<VerifyReport> verify(const std::string& key, bool sha256 = false);

  // Deletes the key's pieces and manifest where the backend can delete; a
  // pull of it then fails with "not found". `force`: also for unencrypted
  // keys on HTTP and S3, where shared pieces cannot be seen.
  Result<RemoveReport> remove(const std::string& key, bool force = false);

  // Re-creates a striped key's missing or corrupt pieces and manifest copies
  // from their stripes: in place (the key stays), or on `backend` when it is
  // given (a replacement: the key changes). Fails, changing nothing, when a
  // stripe lost more pieces than its parity.
  Result<RepairReport> repair(const std::string& key, const std::string& backend = {});

  // Requests the running operation to stop (any thread, e.g. a SIGINT
  // watcher): it ends with kCancelled. Latched: a cancel() that comes while
  // no operation runs cancels the next one to start, at once, so a Ctrl-C
  // that lands just before an operation begins is never lost.
  void cancel();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// "sxengine 0.1.0" and the libraries it was built with, one per line.
std::string version_text();

// Process-wide set-up (curl_global_init); main holds one.
class Runtime {
 public:
  Runtime();
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;
};

}  // namespace sx
