// A tree pull: the entries a selection keeps (--include/--exclude) → the
// directories made and every name checked free (tree_output) → only the
// pieces those files lie in, fetched in order through the downloader, each
// file's bytes written to its temp file → (a whole tree's digest checked) →
// every file renamed into place, links made, directory modes set.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "codec/piece_crypto.h"
#include "engine/core/context.h"
#include "engine/keys/checked_manifest.h"
#include "net/backend.h"
#include "sx/error.h"

namespace sx::engine {

// The entries a pull of `manifest` keeps: `include` globs (all when empty)
// and `exclude` globs (fnmatch on the path; a directory that matches brings
// everything below it), plus the directories that hold what is kept. In
// tree order.
std::vector<const codec::TreeEntry*> select_entries(const codec::Manifest& manifest,
                                                    const std::vector<std::string>& include,
                                                    const std::vector<std::string>& exclude);

// Returns the directory written under ("." when `out` is empty).
Result<std::string> pull_tree(Context& ctx, net::Backend& backend, const CheckedManifest& manifest,
                              const std::optional<codec::ContentKey>& content_key, const std::string& out);

}  // namespace sx::engine
