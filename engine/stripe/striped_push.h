// push over several backends (issue 15, docs/FORMAT.md §10): the pieces are
// striped, each stripe of B − K data pieces gets K Reed-Solomon parity
// pieces, each piece of a stripe on its own backend; the manifest tree is
// stored on every backend and the key names every copy.
#pragma once

#include <span>
#include <string>

#include "engine/core/context.h"
#include "net/backend.h"
#include "sx/error.h"
#include "sx/reports.h"

namespace sx::engine {

// `parity` K: 0 ≤ K < backends.size() (checked). No push journal: an
// interrupted striped push starts over.
Result<Pushed> push_striped(Context& ctx, std::span<net::Backend* const> backends, int parity,
                            const std::string& path, const std::string& name);

}  // namespace sx::engine
