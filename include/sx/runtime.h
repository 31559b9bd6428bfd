// The process-wide set-up a program that uses libsxengine may hold for its
// lifetime (main does): libcurl's global init and libsodium's. Storage calls
// the same set-up itself, so holding one is optional. Defined in
// net/runtime.cc.
#pragma once

#include "sx/export.h"

namespace sx {

// Process-wide set-up (curl_global_init); main holds one.
class SX_EXPORT Runtime {
 public:
  Runtime();
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;
};

}  // namespace sx
