// Fuzzes decode_header on raw pixel bytes. Property: a header that decodes
// re-encodes to the same 32 bytes (every byte is either checked or stored).

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>

#include "codec/piece_format.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace codec = sx::codec;
  const std::span<const std::byte> pixels(reinterpret_cast<const std::byte*>(data), size);
  auto header = codec::decode_header(pixels);
  if (!header) return 0;
  if (header->payload_bytes > size - codec::kHeaderBytes) std::abort();
  std::byte again[codec::kHeaderBytes];
  codec::encode_header(*header, std::span<std::byte, codec::kHeaderBytes>(again));
  if (std::memcmp(again, data, codec::kHeaderBytes) != 0) std::abort();
  return 0;
}
