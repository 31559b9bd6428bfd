// The manifest tree, shared by push, pull and info: a manifest too big for
// one piece is sliced, an index lists the slices, and the index is stored
// the same way until one piece holds the root, whose URL is the key
// (docs/FORMAT.md §Manifest index).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "codec/manifest.h"
#include "codec/piece_crypto.h"
#include "engine/core/context.h"
#include "net/backend.h"
#include "sx/error.h"

namespace sx::engine {

class Uploader;

// Stores `manifest` through `uploader` (manifest pieces are numbered across
// every level, so each nonce is used once); returns the root piece's URL.
// `first_index`: where the numbering starts (each copy of a striped push's
// tree has its own range, docs/FORMAT.md §10).
Result<std::string> store_manifest_tree(Uploader& uploader, const codec::Manifest& manifest,
                                        std::uint64_t first_index = 0);

struct FetchedManifest {
  codec::Manifest manifest;
  int levels = 1;  // 1: the key's piece is the manifest; more: index levels
  std::vector<std::string> manifest_keys;  // every piece of the tree, root first
};

// Fetches and checks the tree under `url` (the key without its fragment).
// `content_key` decrypts an encrypted file and is required when one was
// given at push. Every size the tree claims is checked against
// ctx.manifest_limits before anything is allocated for it.
Result<FetchedManifest> fetch_manifest_tree(Context& ctx, net::Backend& backend, const std::string& url,
                                            const std::optional<codec::ContentKey>& content_key);

// The tree under `url`, else under each alternate in turn (the copies a
// striped push stores on every backend, docs/FORMAT.md §10); the first
// error when none reads. With alternates, each copy gets few retries
// (ctx.limit_get_retries): a dead host's copy is passed over quickly. The
// retries of later GETs are then capped only for striped keys with parity.
// The alternates are ctx.manifest_alternates.
Result<FetchedManifest> fetch_manifest_copies(Context& ctx, net::Backend& backend, const std::string& url,
                                              const std::optional<codec::ContentKey>& content_key);

}  // namespace sx::engine
