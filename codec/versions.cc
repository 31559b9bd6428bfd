#include "codec/versions.h"

#include <libdeflate.h>
#include <simdjson.h>
#include <spng.h>
#include <zlib.h>
#include <zstd.h>

namespace sx::codec {

// SIMDJSON_VERSION is a bare token (3.0.1), not a string literal.
#define SX_STRINGIFY_(x) #x
#define SX_STRINGIFY(x) SX_STRINGIFY_(x)
constexpr const char* kSimdjson = SX_STRINGIFY(SIMDJSON_VERSION);

std::string library_versions() {
  return std::string("zstd ") + ZSTD_versionString() + ", libspng " + spng_version_string() + ", libdeflate " +
         LIBDEFLATE_VERSION_STRING + ", zlib " + zlibVersion() + ", simdjson " + kSimdjson;
}

}  // namespace sx::codec
