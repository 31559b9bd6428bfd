// pull's modes to stdout (`pull KEY -`): the file in order, written as it
// comes; a striped key with parity a group of stripes at a time, its lost
// pieces rebuilt in memory. The digest is checked at the end.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "codec/piece_crypto.h"
#include "engine/core/context.h"
#include "engine/keys/checked_manifest.h"
#include "net/backend.h"
#include "sx/error.h"

namespace sx::engine {

Result<std::string> pull_to_stdout(Context& ctx, net::Backend& backend, const CheckedManifest& checked,
                                   const std::optional<codec::ContentKey>& content_key,
                                   std::chrono::steady_clock::time_point started);
Result<std::string> pull_striped_to_stdout(Context& ctx, net::Backend& backend, const CheckedManifest& checked,
                                           const std::optional<codec::ContentKey>& content_key,
                                           std::chrono::steady_clock::time_point started);

}  // namespace sx::engine
