// push in the 2017 storagex v1 format (push --format storagex-v1): every
// piece a full width × height image of length ‖ payload ‖ zeros, then one
// meta image listing them. Unencrypted and unchecksummed by nature: the
// format has no place for either. No journal: an interrupted push starts over.
#pragma once

#include <cstdint>
#include <string>

#include "engine/core/context.h"
#include "net/backend.h"
#include "sx/error.h"

namespace sx::engine {

struct StoragexPushed {
  std::string key;        // the meta image's URL: what storagex 0.3 downloads
  std::string meta_json;  // the meta info as stored in that image
  std::string name;       // the stored file name
  std::uint64_t size = 0;
};

// width/height 0: storagex's 1024 × 768. kInvalidArgument when the image
// is too small for the length header, past the decode limits or past what
// the backend accepts; kLimit when the meta info outgrows one image.
Result<StoragexPushed> storagex_push(Context& ctx, net::Backend& backend, const std::string& path,
                                     const std::string& name, std::uint32_t width, std::uint32_t height);

}  // namespace sx::engine
