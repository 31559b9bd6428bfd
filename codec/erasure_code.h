// Reed-Solomon erasure coding over GF(2^8) with ISA-L (docs/FORMAT.md §10):
// a stripe of `data` shards gets `parity` shards such that any `data` of the
// `data + parity` rebuild the rest. Cauchy generator matrix (identity on top),
// so every square sub-matrix is invertible for any data and parity counts.
// Bytes only: no I/O, no threads; one ErasureCode may be shared read-only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "sx/error.h"

namespace sx::codec {

// ISA-L's matrices are 8-bit: at most 255 shards; a stripe never needs more
// than one per backend, and backends are capped far lower (kMaxBackends).
inline constexpr int kMaxStripeShards = 64;

class ErasureCode {
 public:
  // kInvalidArgument unless 1 <= data, 1 <= parity, data + parity <= kMaxStripeShards.
  static Result<ErasureCode> create(int data, int parity);

  int data() const { return data_; }
  int parity() const { return parity_; }

  // Computes the parity shards from the data shards, each `bytes` long.
  // Allocates nothing (tables are built once in create()); any thread.
  void encode(std::span<const std::byte* const> data, std::span<std::byte* const> parity, std::size_t bytes) const;

  // Adds data shard `index`'s contribution to the parity shards (zeroed at
  // the stripe's start): shards arrive one at a time and need not be kept.
  // A shard shorter than the parity counts as zero-padded. Allocates nothing.
  void update(int index, std::span<const std::byte> shard, std::span<std::byte* const> parity) const;

  // shards: data then parity, data() + parity() pointers to `bytes` each;
  // present[i]: shard i holds its bytes. Rebuilds every missing shard in
  // place. kCorrupt when fewer than data() shards are present.
  Status reconstruct(std::span<std::byte* const> shards, std::span<const bool> present, std::size_t bytes) const;

 private:
  ErasureCode(int data, int parity);
  int data_;
  int parity_;
  std::vector<std::uint8_t> matrix_;        // (data + parity) × data, row-major
  std::vector<std::uint8_t> encode_tables_; // ec_init_tables of the parity rows
};

}  // namespace sx::codec
