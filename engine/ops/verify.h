// verify: fetch and check every piece of a key (and its manifest tree)
// through the downloader, writing nothing; bad or missing pieces are
// collected, not fatal, so one run reports them all.
#pragma once

#include <optional>
#include <string>

#include "codec/piece_crypto.h"
#include "engine/keys/checked_manifest.h"
#include "engine/core/context.h"
#include "net/backend.h"
#include "sx/reports.h"

namespace sx::engine {

// Fails only when the manifest tree cannot be read (or the run is
// cancelled); piece problems are in the report.
// `check_sha256`: also hash the whole file (reported, and compared when the
// manifest records it).
Result<VerifyReport> verify(Context& ctx, net::Backend& backend, const CheckedManifest& manifest,
                            const std::optional<codec::ContentKey>& content_key, bool check_sha256);

}  // namespace sx::engine
