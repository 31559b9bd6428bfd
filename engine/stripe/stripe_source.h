// A striped push's payloads: the file's pieces, and after every D of them
// (or fewer, at the end) the stripe's K Reed-Solomon parity payloads,
// computed from the plaintext as each data payload passes (ISA-L's
// incremental update: no data is kept). Parity payloads are then
// compressed, encrypted and stored like data pieces (docs/FORMAT.md §10).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "codec/erasure_code.h"
#include "engine/stripe/stripe_layout.h"
#include "engine/push/uploader.h"

namespace sx::engine {

class StripeSource final : public PayloadSource {
 public:
  // `code` is null when shape.parity is 0 (striping without parity).
  StripeSource(PayloadSource& data, StripeShape shape, const codec::ErasureCode* code, std::size_t piece_bytes);

  Result<std::optional<std::span<const std::byte>>> next(std::span<std::byte> scratch) override;
  bool needs_scratch() const override { return true; }

  // What the last payload next() yielded was (reading thread only).
  struct Yielded {
    bool parity = false;
    std::uint64_t index = 0;  // data piece index, or parity piece index
    int slot = 0;             // backend slot (stripe_layout.h)
  };
  const std::vector<Yielded>& yielded() const { return yielded_; }

 private:
  PayloadSource& data_;
  StripeShape shape_;
  const codec::ErasureCode* code_;
  std::size_t piece_bytes_;
  std::unique_ptr<std::byte[]> parity_;  // K × piece_bytes
  std::vector<std::byte*> parity_shards_;
  std::uint64_t data_pieces_ = 0;   // yielded so far
  int in_stripe_ = 0;               // data pieces of the current stripe so far
  std::size_t longest_ = 0;         // of the current stripe (its first piece)
  int parity_left_ = 0;             // parity payloads of a finished stripe not yet yielded
  std::uint64_t finished_stripe_ = 0;
  bool ended_ = false;
  std::vector<Yielded> yielded_;
};

}  // namespace sx::engine
