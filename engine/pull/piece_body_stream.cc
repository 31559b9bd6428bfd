#include "engine/pull/piece_body_stream.h"

namespace sx::engine {

PieceBodyStream::PieceBodyStream(const std::optional<codec::ContentKey>& key) {
  if (key) cipher_.emplace(*key);
}

void PieceBodyStream::begin(const codec::PieceStream::Expect& expect, std::span<std::byte> out) {
  expect_ = expect;
  out_ = out;
  stream_.begin(expect, out, cipher_ ? &*cipher_ : nullptr);
}

Result<net::BodySink::Take> PieceBodyStream::offer(std::span<const std::byte> chunk) {
  auto took = stream_.write(chunk);
  if (!took) return std::move(took).error();
  return *took == codec::PieceStream::Take::kTaken ? Take::kTaken : Take::kDeclined;
}

}  // namespace sx::engine
