// The baseline for `bench transfer`: plain libcurl multi PUT/GET of the same
// bytes at the same parallelism, no PNG, no checksums, no retries.
#pragma once

#include <cstddef>
#include <span>
#include <string>

namespace sx::bench {

// Where raw objects go: `prefix` + "raw/N", signed with SigV4 when `sigv4`
// is set (S3: the same signing sxengine's S3 backend uses).
struct RawTarget {
  std::string prefix;  // URL ending in '/'
  std::string sigv4;   // CURLOPT_AWS_SIGV4 provider, or empty
  std::string userpwd;
  std::string cacert;   // trusted CAs for an https target (as sxengine --cacert)
  bool http1 = false;   // HTTP/1.1 only; else HTTP/2 over TLS, multiplexed as sxengine does
};

// PUTs `data` cut into `piece_bytes` objects, `parallel` at a time; returns
// seconds, or a negative number on failure.
double raw_put(const RawTarget& target, std::span<const std::byte> data, std::size_t piece_bytes, int parallel);
// GETs them back; seconds or negative. With `out_path` each body is written
// at its offset into that file (fsynced at the end with `fsync`, as pull
// --fsync does); without, bodies are discarded (the network alone).
double raw_get(const RawTarget& target, std::size_t total_bytes, std::size_t piece_bytes, int parallel,
               const std::string& out_path = {}, bool fsync = false);

}  // namespace sx::bench
