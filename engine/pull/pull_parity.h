// pull of a striped key with parity to a file: every piece that can be had
// is written, a host that keeps failing is set aside (host_guard.h), and
// what is lost is then rebuilt from its stripe, the surviving pieces read
// back from the file.
#pragma once

#include <optional>
#include <span>

#include "codec/piece_crypto.h"
#include "engine/core/context.h"
#include "engine/keys/checked_manifest.h"
#include "engine/pull/downloader.h"
#include "engine/pull/output_file.h"
#include "net/backend.h"
#include "sx/error.h"

namespace sx::engine {

Status fetch_with_parity(Context& ctx, net::Backend& backend, const CheckedManifest& checked,
                         const std::optional<codec::ContentKey>& content_key, std::span<const IndexRange> ranges,
                         OutputFile& file, const PieceSink& write_piece);

}  // namespace sx::engine
