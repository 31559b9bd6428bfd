// push: file (mmap) or stdin → pieces → backend, then the manifest; returns
// the download key.
#pragma once

#include <string>

#include "engine/context.h"
#include "net/backend.h"

namespace sx::engine {

// Smaller pieces could not hold enough manifest index entries for the index
// tree to shrink level by level.
inline constexpr std::size_t kMinPieceBytes = 1024;

Result<std::string> push(Context& ctx, net::Backend& backend, const std::string& path,
                         const std::string& name);

}  // namespace sx::engine
