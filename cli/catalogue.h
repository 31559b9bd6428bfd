// The keys catalogue: what this machine pushed (name, size, files, time, key)
// in $XDG_STATE_HOME/sxengine/catalogue.jsonl, one JSON object a line, mode
// 0600 in a 0700 directory (the keys are bearer secrets). A lost key is a
// lost file: this is where `sxengine keys` looks. Written after a push
// printed its key, unless --no-catalogue or SXENGINE_NO_CATALOGUE=1. The
// file is evidence, not proof: a line that does not parse is skipped and
// counted, a symlink at its name is never followed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sx/error.h"

namespace sx::cli {

struct CatalogueEntry {
  std::int64_t time = 0;  // seconds since the epoch
  std::string name;
  std::uint64_t size = 0;
  std::uint64_t files = 0;  // a tree's files; 0 for a file key
  std::string key;
};

std::string catalogue_path();

// Appends one line (O_APPEND, one write, under flock: pushes running at once
// each add theirs whole).
Status add_to_catalogue(const CatalogueEntry& entry);

struct Catalogue {
  std::vector<CatalogueEntry> entries;  // oldest first
  std::uint64_t unreadable = 0;         // lines skipped
};
// A catalogue that does not exist yet is empty.
Result<Catalogue> read_catalogue();

}  // namespace sx::cli
