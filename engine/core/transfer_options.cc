#include "engine/core/transfer_options.h"

#include <algorithm>
#include <chrono>

#include "base/text.h"

namespace sx::engine {

net::TransferOptions transfer_options(const Options& options) {
  net::TransferOptions t;
  t.connect_timeout = std::chrono::seconds(options.connect_timeout_s);
  t.stall_timeout = std::chrono::seconds(options.stall_timeout_s);
  t.request_timeout = std::chrono::seconds(options.request_timeout_s);
  t.insecure = options.insecure;
  // Trust as curl and OpenSSL do: the option, else their variables.
  t.ca_file = !options.cacert.empty() ? options.cacert
              : !text::env("CURL_CA_BUNDLE").empty() ? text::env("CURL_CA_BUNDLE")
                                                      : text::env("SSL_CERT_FILE");
  t.ca_path = !options.capath.empty() ? options.capath : text::env("SSL_CERT_DIR");
  t.proxy = options.proxy;
  t.http1_only = options.http1_only;
  t.retry.max_retries = options.retries;
  t.max_in_flight = static_cast<std::size_t>(std::max(1, options.parallel));
  t.max_bytes_per_second = options.bwlimit_bytes_per_s;
  return t;
}

}  // namespace sx::engine
