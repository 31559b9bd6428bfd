// push: plan the pieces → read the input piece by piece → encode and store
// through the uploader → check the input did not change → store the
// manifest tree → the download key.
#pragma once

#include <string>

#include "engine/core/context.h"
#include "net/backend.h"
#include "sx/error.h"
#include "sx/reports.h"

namespace sx::engine {

Result<Pushed> push(Context& ctx, net::Backend& backend, const std::string& path, const std::string& name);

}  // namespace sx::engine
