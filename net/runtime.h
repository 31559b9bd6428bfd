// Process-wide set-up of the libraries the network side needs: libcurl
// (curl_global_init must precede every other libcurl call) and libsodium
// (its randomness and AEAD must be initialised before first use).
#pragma once

#include <string>

#include "sx/error.h"

namespace sx::net {

// Idempotent and thread-safe (std::call_once); sx::Runtime and every
// sx::Storage call it, so library users need not. kIo when a library fails.
Status process_setup();

// "libcurl 7.88.1 (OpenSSL/3.0.11, HTTP/2: nghttp2/1.52.0), OpenSSL 3.0.11 …, libsodium 1.0.18"
std::string library_versions();

}  // namespace sx::net
