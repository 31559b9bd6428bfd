// A tree push (`push PATH…` with a directory or several PATHs): walk the
// PATHs into entries → read every file back to back through one uploader
// (one window, one --parallel across files) → the manifest with the entries
// (docs/FORMAT.md §11) → the manifest tree → one download key.
#pragma once

#include <string>
#include <vector>

#include "engine/core/context.h"
#include "net/backend.h"
#include "sx/error.h"
#include "sx/reports.h"

namespace sx::engine {

Result<Pushed> push_tree(Context& ctx, net::Backend& backend, const std::vector<std::string>& paths,
                         const std::string& name);

}  // namespace sx::engine
