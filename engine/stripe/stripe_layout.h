// Where the pieces of a striped file live (docs/FORMAT.md §10): stripe s
// holds data pieces s·D … s·D+D−1 (positions 0 … D−1) and parity pieces
// s·K … s·K+K−1 (positions D … D+K−1); position p of stripe s is on backend
// (s + p) mod B, B = D + K. Each piece of a stripe is on its own backend, so
// losing any K backends loses at most K pieces of any stripe, and the start
// rotates so every backend carries data and parity alike.
#pragma once

#include <cstdint>

namespace sx::engine {

struct StripeShape {
  int data = 0;    // D
  int parity = 0;  // K
  int backends() const { return data + parity; }
};

inline int slot_of(const StripeShape& shape, std::uint64_t stripe, int position) {
  return static_cast<int>((stripe + static_cast<std::uint64_t>(position)) % static_cast<std::uint64_t>(shape.backends()));
}
inline int slot_of_data(const StripeShape& shape, std::uint64_t index) {
  return slot_of(shape, index / shape.data, static_cast<int>(index % shape.data));
}
inline int slot_of_parity(const StripeShape& shape, std::uint64_t index) {
  return slot_of(shape, index / shape.parity, shape.data + static_cast<int>(index % shape.parity));
}

}  // namespace sx::engine
