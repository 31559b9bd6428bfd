// pull: key → manifest tree → pieces through the downloader, each written at
// its offset into a temp file and hashed in order → whole-file SHA-256 →
// fsync → rename without replacing (unless --force).
#pragma once

#include <optional>
#include <string>

#include "codec/piece_crypto.h"
#include "engine/keys/checked_manifest.h"
#include "engine/core/context.h"
#include "net/backend.h"
#include "sx/error.h"

namespace sx::engine {

// Returns the path written. `out`: "" (cwd), a directory, a file path, or
// "-" (stdout, in order; returns "-").
Result<std::string> pull(Context& ctx, net::Backend& backend, const CheckedManifest& manifest,
                         const std::optional<codec::ContentKey>& content_key, const std::string& out);

}  // namespace sx::engine
