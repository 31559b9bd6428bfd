// Rebuilds lost data pieces of a striped file from their stripes (docs/FORMAT.md
// §10): fetches the stripes' parity pieces through the downloader (each
// checked like any piece: CRC, AEAD tag, size), reads the surviving data
// pieces through `read_data` (pull: from the file being written), and
// Reed-Solomon-decodes. Parity is over the pieces' plaintext, so a rebuilt
// piece is as trustworthy as the checked pieces it came from; the file's
// digest is then checked as for any piece.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <vector>

#include "codec/manifest.h"
#include "codec/piece_crypto.h"
#include "engine/keys/checked_manifest.h"
#include "engine/core/context.h"
#include "engine/pull/downloader.h"
#include "net/backend.h"
#include "sx/error.h"

namespace sx::engine {

// Fills `out` (piece.size bytes) with data piece `piece`'s verified plaintext.
using ReadData = std::function<Status(const codec::PieceEntry& piece, std::span<std::byte> out)>;

// `lost`: data piece indexes (any order, no repeats) whose fetch failed;
// every other data piece must be readable through `read_data`. Each rebuilt
// piece goes to `sink` on this thread. kCorrupt (or the fetch's error) naming
// the stripe and its pieces when a stripe lost more than its parity covers.
// `patient`: when set, parity pieces a stripe cannot do without that failed
// through `backend` are asked for once more through it (`backend` is then a
// HostGuard, `patient` what it guards: set-aside hosts are asked too).
Status rebuild_data_pieces(Context& ctx, net::Backend& backend, const CheckedManifest& checked,
                           const std::optional<codec::ContentKey>& content_key, std::vector<std::uint64_t> lost,
                           const ReadData& read_data, const PieceSink& sink, net::Backend* patient = nullptr);

}  // namespace sx::engine
