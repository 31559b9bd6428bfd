// push: file (mmap) or stdin → pieces → backend, then the manifest; returns
// the download key.
#pragma once

#include <string>

#include "engine/context.h"
#include "net/backend.h"

namespace sx::engine {

Result<std::string> push(Context& ctx, net::Backend& backend, const std::string& path,
                         const std::string& name);

}  // namespace sx::engine
