// One slot's body sink: the bytes of a piece's GET go through
// codec::PieceStream straight out of curl's buffer into the slot (deciphered
// on the way when the key is known), instead of being copied, decoded and
// deciphered in three passes. Images of another shape are declined at their
// head and land in the slot's buffer as before.
#pragma once

#include <cstddef>
#include <optional>
#include <span>

#include "codec/piece_crypto.h"
#include "codec/piece_stream.h"
#include "net/http.h"

namespace sx::engine {

class PieceBodyStream final : public net::BodySink {
 public:
  explicit PieceBodyStream(const std::optional<codec::ContentKey>& key);

  // Before each GET: what the piece must be and where its payload goes.
  void begin(const codec::PieceStream::Expect& expect, std::span<std::byte> out);

  Result<Take> offer(std::span<const std::byte> chunk) override;
  std::span<const std::byte> held() const override { return stream_.held(); }
  void restart() override { begin(expect_, out_); }

  codec::PieceStream& stream() { return stream_; }

 private:
  std::optional<codec::PieceCipher> cipher_;
  codec::PieceStream stream_;
  codec::PieceStream::Expect expect_;
  std::span<std::byte> out_;
};

}  // namespace sx::engine
