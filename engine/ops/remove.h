// rm: deletes every piece and every manifest piece of a key where the
// backend can delete (local store and dir:, HTTP DELETE, S3). Pieces still
// used by another key are kept (docs/CLI.md §`sxengine rm` says how that is known).
#pragma once

#include <optional>
#include <string>

#include "codec/piece_crypto.h"
#include "engine/keys/checked_manifest.h"
#include "engine/core/context.h"
#include "net/backend.h"
#include "sx/reports.h"

namespace sx::engine {

// `force`: delete an unencrypted key's objects on a backend that cannot
// count references (HTTP, S3), where identical pieces of another
// unencrypted push share objects.
// Deletes the objects of `manifest` that its key's policy lets rm change
// (engine/keys/key_policy.h); the others are listed in the report's `skipped`.
Result<RemoveReport> remove(Context& ctx, net::Backend& backend, const CheckedManifest& manifest,
                            const std::optional<codec::ContentKey>& content_key, bool force);

}  // namespace sx::engine
