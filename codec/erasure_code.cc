#include "codec/erasure_code.h"

#include <isa-l/erasure_code.h>

#include <string>

namespace sx::codec {

ErasureCode::ErasureCode(int data, int parity)
    : data_(data), parity_(parity), matrix_(static_cast<std::size_t>((data + parity) * data)),
      encode_tables_(static_cast<std::size_t>(32 * data * parity)) {
  gf_gen_cauchy1_matrix(matrix_.data(), data + parity, data);
  ec_init_tables(data, parity, matrix_.data() + data * data, encode_tables_.data());
}

Result<ErasureCode> ErasureCode::create(int data, int parity) {
  if (data < 1 || parity < 1 || data + parity > kMaxStripeShards)
    return make_error(Errc::kInvalidArgument, "a stripe needs 1 or more data and parity shards, at most " +
                                                  std::to_string(kMaxStripeShards) + " in all (got " +
                                                  std::to_string(data) + " + " + std::to_string(parity) + ")");
  return ErasureCode(data, parity);
}

void ErasureCode::encode(std::span<const std::byte* const> data, std::span<std::byte* const> parity,
                         std::size_t bytes) const {
  // ISA-L takes non-const pointers but only reads the sources.
  unsigned char* sources[kMaxStripeShards];
  unsigned char* outputs[kMaxStripeShards];
  for (int i = 0; i < data_; ++i) sources[i] = reinterpret_cast<unsigned char*>(const_cast<std::byte*>(data[i]));
  for (int i = 0; i < parity_; ++i) outputs[i] = reinterpret_cast<unsigned char*>(parity[i]);
  ec_encode_data(static_cast<int>(bytes), data_, parity_, const_cast<std::uint8_t*>(encode_tables_.data()), sources,
                 outputs);
}

void ErasureCode::update(int index, std::span<const std::byte> shard, std::span<std::byte* const> parity) const {
  unsigned char* outputs[kMaxStripeShards];
  for (int i = 0; i < parity_; ++i) outputs[i] = reinterpret_cast<unsigned char*>(parity[i]);
  if (shard.empty()) return;
  ec_encode_data_update(static_cast<int>(shard.size()), data_, parity_, index,
                        const_cast<std::uint8_t*>(encode_tables_.data()),
                        reinterpret_cast<unsigned char*>(const_cast<std::byte*>(shard.data())), outputs);
}

Status ErasureCode::reconstruct(std::span<std::byte* const> shards, std::span<const bool> present,
                                std::size_t bytes) const {
  const int total = data_ + parity_;
  // The first data() present shards and the rows of the generator that made them.
  std::vector<int> used;
  std::vector<int> missing_data;
  std::vector<int> missing_parity;
  int present_count = 0;
  for (int i = 0; i < total; ++i) {
    if (present[i]) {
      ++present_count;
      if (static_cast<int>(used.size()) < data_) used.push_back(i);
    } else {
      (i < data_ ? missing_data : missing_parity).push_back(i);
    }
  }
  if (static_cast<int>(used.size()) < data_)
    return make_error(Errc::kCorrupt, std::to_string(total - present_count) +
                                          " of " + std::to_string(total) + " shards missing, more than the " +
                                          std::to_string(parity_) + " parity can rebuild");
  if (!missing_data.empty()) {
    std::vector<std::uint8_t> sub(static_cast<std::size_t>(data_ * data_));
    std::vector<std::uint8_t> inverse(sub.size());
    for (int r = 0; r < data_; ++r)
      for (int c = 0; c < data_; ++c) sub[r * data_ + c] = matrix_[used[r] * data_ + c];
    if (gf_invert_matrix(sub.data(), inverse.data(), data_) != 0)
      return make_error(Errc::kCorrupt, "erasure code matrix is singular");  // never for a Cauchy matrix
    // Row i of the inverse turns the used shards into data shard i.
    std::vector<std::uint8_t> rows(static_cast<std::size_t>(missing_data.size() * data_));
    for (std::size_t m = 0; m < missing_data.size(); ++m)
      for (int c = 0; c < data_; ++c) rows[m * data_ + c] = inverse[missing_data[m] * data_ + c];
    std::vector<std::uint8_t> tables(32 * rows.size());
    ec_init_tables(data_, static_cast<int>(missing_data.size()), rows.data(), tables.data());
    unsigned char* sources[kMaxStripeShards];
    unsigned char* outputs[kMaxStripeShards];
    for (int r = 0; r < data_; ++r) sources[r] = reinterpret_cast<unsigned char*>(shards[used[r]]);
    for (std::size_t m = 0; m < missing_data.size(); ++m)
      outputs[m] = reinterpret_cast<unsigned char*>(shards[missing_data[m]]);
    ec_encode_data(static_cast<int>(bytes), data_, static_cast<int>(missing_data.size()), tables.data(), sources,
                   outputs);
  }
  if (!missing_parity.empty()) {
    // Every data shard is present now: the missing parity rows are encoded again.
    std::vector<std::uint8_t> rows(static_cast<std::size_t>(missing_parity.size() * data_));
    for (std::size_t m = 0; m < missing_parity.size(); ++m)
      for (int c = 0; c < data_; ++c) rows[m * data_ + c] = matrix_[missing_parity[m] * data_ + c];
    std::vector<std::uint8_t> tables(32 * rows.size());
    ec_init_tables(data_, static_cast<int>(missing_parity.size()), rows.data(), tables.data());
    unsigned char* sources[kMaxStripeShards];
    unsigned char* outputs[kMaxStripeShards];
    for (int c = 0; c < data_; ++c) sources[c] = reinterpret_cast<unsigned char*>(shards[c]);
    for (std::size_t m = 0; m < missing_parity.size(); ++m)
      outputs[m] = reinterpret_cast<unsigned char*>(shards[missing_parity[m]]);
    ec_encode_data(static_cast<int>(bytes), data_, static_cast<int>(missing_parity.size()), tables.data(), sources,
                   outputs);
  }
  return {};
}

}  // namespace sx::codec
