// Process-wide set-up of the libraries the network side needs: libcurl
// (curl_global_init must precede every other libcurl call) and libsodium
// (its randomness and AEAD must be initialised before first use).
#pragma once

#include "sx/error.h"

namespace sx::net {

// Idempotent and thread-safe (std::call_once); sx::Runtime and every
// sx::Storage call it, so library users need not. kIo when a library fails.
Status process_setup();

}  // namespace sx::net
