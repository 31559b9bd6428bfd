// `sxengine bench`: throughput against baselines measured in the same run.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

namespace sx::bench {

struct BenchOptions {
  std::size_t piece_bytes = std::size_t{8} << 20;
  std::size_t file_bytes = std::size_t{256} << 20;
  int parallel = 16;
  int rounds = 5;
  std::string server;    // transfer: http(s)://… or s3://BUCKET/PREFIX; empty = a private nginx
  std::string endpoint;  // S3 endpoint (else AWS_ENDPOINT_URL)
  std::string cacert;    // transfer: trusted CAs for an https server, both sides
  bool http1 = false;    // transfer: HTTP/1.1 only, both sides
  bool json = false;
  int backends = 3;  // parity: stripe width B
  int parity = 1;    // parity: K
};

// Wall-clock seconds `body` takes.
inline double seconds_of(auto&& body) {
  const auto t0 = std::chrono::steady_clock::now();
  body();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

int run_codec_bench(const BenchOptions& options);
int run_transfer_bench(const BenchOptions& options);
int run_local_bench(const BenchOptions& options);
int run_crypto_bench(const BenchOptions& options);
int run_parity_bench(const BenchOptions& options);

}  // namespace sx::bench
