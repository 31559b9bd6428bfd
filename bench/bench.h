// `sxengine bench`: throughput against baselines measured in the same run.
#pragma once

#include <cstddef>
#include <string>

namespace sx::bench {

struct BenchOptions {
  std::size_t piece_bytes = std::size_t{8} << 20;
  std::size_t file_bytes = std::size_t{256} << 20;
  int parallel = 16;
  int rounds = 5;
  std::string server;  // transfer: empty = start a private nginx
  bool json = false;
};

int run_codec_bench(const BenchOptions& options);
int run_transfer_bench(const BenchOptions& options);

}  // namespace sx::bench
