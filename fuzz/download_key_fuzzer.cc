// Fuzzes the download-key parser (engine/core/download_key.cc): a key is input
// from whoever made it. A parsed key must format and parse back to itself,
// and its policy (engine/keys/key_policy.cc) must judge any URL without failing.
//
// Input: KEY [ '\0' URL ]: URL is judged by the key's policy (may_read,
// may_change), as a manifest's piece URLs are.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "engine/core/download_key.h"
#include "engine/keys/key_policy.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace engine = sx::engine;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t nul = input.find('\0');
  auto key = engine::parse_download_key(input.substr(0, nul));
  if (!key) return 0;
  auto again = engine::parse_download_key(engine::format_download_key(*key));
  if (!again || again->url != key->url || again->key != key->key || again->salt != key->salt ||
      again->alternates != key->alternates)
    std::abort();  // a key that does not survive its own round trip
  std::vector<std::string> urls{key->url};
  urls.insert(urls.end(), key->alternates.begin(), key->alternates.end());
  engine::KeyPolicyOptions options;
  options.s3_endpoint = "http://s3.invalid:1";  // no lookup of the environment's endpoint matters here
  // Names are not resolved: only literal addresses are judged (no DNS in a fuzzer).
  for (std::string& url : urls)
    if (url.find("://") != std::string::npos && url.rfind("file://", 0) != 0) url = "http://198.51.100.1/x/y.png";
  auto policy = engine::KeyPolicy::for_key(urls, options);
  if (!policy || nul == std::string_view::npos) return 0;
  const std::string_view url = input.substr(nul + 1);
  (void)policy->may_read(url, "piece");
  (void)policy->may_change(url);
  return 0;
}
