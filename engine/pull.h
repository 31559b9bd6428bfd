// pull: key → manifest → pieces fetched many at once → decoded, verified,
// written at their offsets into a temp file → whole-file SHA-256 → rename.
#pragma once

#include <string>

#include <optional>

#include "codec/manifest.h"
#include "codec/piece_crypto.h"
#include "engine/context.h"
#include "net/backend.h"

namespace sx::engine {

struct FetchedManifest {
  codec::Manifest manifest;
  int levels = 1;  // 1: the key's piece is the manifest; more: index levels
};

// `key` is the URL alone (no fragment); `content_key` decrypts an encrypted
// file and is required when one was given at push.
Result<FetchedManifest> fetch_manifest(Context& ctx, net::Backend& backend, const std::string& key,
                                       const std::optional<codec::ContentKey>& content_key);

// Returns the path written. `out`: "" (cwd), a directory, or a file path.
Result<std::string> pull(Context& ctx, net::Backend& backend, const std::string& key,
                         const std::optional<codec::ContentKey>& content_key, const std::string& out);

}  // namespace sx::engine
