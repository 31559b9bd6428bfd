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
#include "sx/export.h"
#include "sx/options.h"
#include "sx/reports.h"
#include "sx/runtime.h"

namespace sx {

// Owns the worker pool and, when a network backend is used, the event loop.
// Not thread-safe: one operation at a time.
class SX_EXPORT Storage {
 public:
  explicit Storage(Options options);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  // Pushes a file ("-" reads stdin); `name` overrides the stored file name.
  // Returns the download key: the manifest URL, plus "#k=…" (the content
  // key) or "#s=…" (the passphrase salt) when encrypted.
  Result<std::string> upload(const std::string& path, const std::string& name = {});
  // Pushes files and directories (recursively) as one tree key
  // (docs/FORMAT.md §11); a directory given alone to upload(path) is pushed
  // the same way. `name` is what info shows (default: the first PATH's name).
  Result<std::string> upload(const std::vector<std::string>& paths, const std::string& name = {});
  // The same as upload(paths), returning with the key what info(key) would
  // say of it (no round trip: the catalogue records pushes from this).
  Result<Pushed> push(const std::vector<std::string>& paths, const std::string& name = {});

  // Pulls `key` to `out`: a file path, a directory (the stored name goes
  // inside, sanitized) or "" (the current directory). Returns the path written.
  // Nothing appears under that path unless every checksum matched. A tree
  // key is recreated under `out` (a directory, made when missing; "" = here)
  // and never outside it; options.include/exclude pull a part of it.
  Result<std::string> download(const std::string& key, const std::string& out = {});

  // Pushes in the 2017 storagex v1 format instead (for people still on
  // storagex 0.1–0.3): options.width × options.height images (both 0:
  // storagex's 1024 × 768), unencrypted and without checksums by nature, so
  // a passphrase is refused (kInvalidArgument) and `encrypt` is not read.
  Result<StoragexUpload> upload_storagex_v1(const std::string& path, const std::string& name = {});

  Result<FileInfo> info(const std::string& key);

  // What a key holds, as `tar tv` shows a tree: every entry of a tree key in
  // tree order; for a file key, the one file.
  Result<std::vector<TreeItem>> list(const std::string& key);

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
  Result<Pushed> push_file(const std::string& path, const std::string& name);
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// "sxengine 0.1.0" and the libraries it was built with, one per line.
SX_EXPORT std::string version_text();

}  // namespace sx
