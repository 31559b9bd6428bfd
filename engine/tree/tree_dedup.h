// Identical files stored once within a tree (docs/FORMAT.md §11): after the
// walk, files of one size are compared, first by a digest of their first and
// last 64 KiB, then, where those agree, by the SHA-256 of all their bytes;
// each file equal to an earlier one becomes a duplicate entry (its original's
// offset and size, no bytes of its own) and leaves the stream. Only files
// that share a size are read twice, and only those whose ends agree in full.
#pragma once

#include <cstdint>

#include "engine/core/cancel_token.h"
#include "engine/tree/tree_walk.h"
#include "sx/error.h"

namespace sx::engine {

// Marks the duplicates of `tree`, re-lays the stream without them, and
// returns how many bytes that saved. A file that changed since the walk is
// kIo (the push fails, as it would when reading it).
Result<std::uint64_t> deduplicate(WalkedTree& tree, bool follow_symlinks, const CancelToken& cancel);

// After the push: every duplicate is still the file the walk saw (its size
// and mtime), so what was compared is what the key claims.
Status check_duplicates_unchanged(const WalkedTree& tree, bool follow_symlinks);

}  // namespace sx::engine
