#include "net/runtime.h"

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <sodium.h>

#include <mutex>

#include "sx/runtime.h"

namespace sx::net {

Status process_setup() {
  // Function-local statics: the set-up happens once per process by nature.
  static std::once_flag once;
  static Status result;
  std::call_once(once, [] {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
      result = make_error(Errc::kIo, "libcurl failed to initialise");
    else if (sodium_init() < 0)
      result = make_error(Errc::kIo, "libsodium failed to initialise");
  });
  return result;
}

std::string library_versions() {
  const curl_version_info_data* curl = curl_version_info(CURLVERSION_NOW);
  std::string text = std::string("libcurl ") + curl->version;
  std::string details;
  if (curl->ssl_version) details += curl->ssl_version;
  if (curl->nghttp2_version) details += std::string(details.empty() ? "" : ", ") + "nghttp2/" + curl->nghttp2_version;
  if (!details.empty()) text += " (" + details + ")";
  text += std::string(", ") + OpenSSL_version(OPENSSL_VERSION) + ", libsodium " + sodium_version_string();
  return text;
}

}  // namespace sx::net

namespace sx {

// The process outlives every Storage; curl's global state is released when
// main's Runtime goes.
Runtime::Runtime() { (void)net::process_setup(); }
Runtime::~Runtime() { curl_global_cleanup(); }

}  // namespace sx
