// The versions of the libraries the codec was built with, for --version.
#pragma once

#include <string>

namespace sx::codec {

// "zstd 1.5.4, libspng 0.7.3, libdeflate 1.14, zlib 1.2.13, simdjson 3.1.5"
std::string library_versions();

}  // namespace sx::codec
