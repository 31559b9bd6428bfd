#include "bench/bench.h"

#include <fmt/format.h>

namespace sx::bench {
int run_transfer_bench(const BenchOptions&) {
  fmt::print(stderr, "sxengine: bench transfer: not built yet\n");
  return 1;
}
}  // namespace sx::bench
