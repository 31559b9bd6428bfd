#include "engine/stripe/stripe_source.h"

#include <cstring>

namespace sx::engine {

StripeSource::StripeSource(PayloadSource& data, StripeShape shape, const codec::ErasureCode* code,
                           std::size_t piece_bytes)
    : data_(data), shape_(shape), code_(code), piece_bytes_(piece_bytes) {
  if (code_) {
    parity_ = std::make_unique_for_overwrite<std::byte[]>(piece_bytes * static_cast<std::size_t>(shape.parity));
    for (int j = 0; j < shape.parity; ++j) parity_shards_.push_back(parity_.get() + piece_bytes * j);
  }
}

Result<std::optional<std::span<const std::byte>>> StripeSource::next(std::span<std::byte> scratch) {
  if (parity_left_ > 0) {
    const int j = shape_.parity - parity_left_--;
    std::memcpy(scratch.data(), parity_shards_[j], longest_);
    const std::uint64_t index = finished_stripe_ * shape_.parity + j;
    yielded_.push_back({true, index, slot_of(shape_, finished_stripe_, shape_.data + j)});
    return std::optional(std::span<const std::byte>(scratch.first(longest_)));
  }
  if (ended_) return std::optional<std::span<const std::byte>>{};
  auto payload = data_.next(scratch);
  if (!payload) return payload;
  const auto finish_stripe = [&] {
    finished_stripe_ = (data_pieces_ - 1) / shape_.data;
    in_stripe_ = 0;
    if (code_) parity_left_ = shape_.parity;
  };
  if (!*payload) {
    ended_ = true;
    if (in_stripe_ > 0) {  // the last, short stripe: its absent pieces count as zeros
      finish_stripe();
      return next(scratch);
    }
    return payload;
  }
  const std::span<const std::byte> bytes = **payload;
  if (in_stripe_ == 0) {
    longest_ = bytes.size();
    if (code_)
      for (std::byte* shard : parity_shards_) std::memset(shard, 0, longest_);
  }
  if (code_) code_->update(in_stripe_, bytes, parity_shards_);
  yielded_.push_back({false, data_pieces_, slot_of_data(shape_, data_pieces_)});
  ++data_pieces_;
  if (++in_stripe_ == shape_.data) finish_stripe();
  return payload;
}

}  // namespace sx::engine
