// repair: re-creates the missing or corrupt pieces of a striped key (issue
// 15) from their stripes, byte for byte where they were (same URL, so the key
// stays), or on a replacement backend (new URLs: a new manifest, stored on
// every reachable copy's backend and the replacement, and a new key).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "codec/piece_crypto.h"
#include "engine/keys/checked_manifest.h"
#include "engine/core/context.h"
#include "engine/core/download_key.h"
#include "net/backend.h"
#include "sx/error.h"
#include "sx/reports.h"

namespace sx::engine {

// Opens a backend a push could store into ("dir:…", "http(s)://…", "s3://…").
using BackendOpener = std::function<Result<std::unique_ptr<net::Backend>>(const std::string& uri)>;

// `key`: the parsed download key (its content key already resolved into
// `content_key`); `target`: "" = each piece back on its own backend, else
// the replacement backend's URI.
// In place (no `target`), only objects the key's policy lets repair change
// are written (engine/keys/key_policy.h); any other refuses the repair.
Result<RepairReport> repair(Context& ctx, net::Backend& reader, const CheckedManifest& checked, const DownloadKey& key,
                            const std::optional<codec::ContentKey>& content_key, const BackendOpener& open,
                            const std::string& target);

}  // namespace sx::engine
