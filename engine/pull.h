// pull: key → manifest → pieces fetched many at once → decoded, verified,
// written at their offsets into a temp file → whole-file SHA-256 → rename.
#pragma once

#include <string>

#include "codec/manifest.h"
#include "engine/context.h"
#include "net/backend.h"

namespace sx::engine {

struct FetchedManifest {
  codec::Manifest manifest;
  int levels = 1;  // 1: the key's piece is the manifest; more: index levels
};

Result<FetchedManifest> fetch_manifest(Context& ctx, net::Backend& backend, const std::string& key);

// Returns the path written. `out`: "" (cwd), a directory, or a file path.
Result<std::string> pull(Context& ctx, net::Backend& backend, const std::string& key,
                         const std::string& out);

}  // namespace sx::engine
