// Fuzzes the manifest readers (v2 manifest, manifest index, storagex v1 meta).
// Property: a manifest that parses survives to_json and parses again with the
// same pieces.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "codec/manifest.h"

namespace {

constexpr sx::codec::ManifestLimits kLimits{1 << 16, 1 << 20, 4096};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace codec = sx::codec;
  const std::string_view json(reinterpret_cast<const char*>(data), size);
  (void)codec::document_kind(json);
  (void)codec::parse_storagex_v1(json, kLimits);
  if (auto index = codec::parse_index(json, kLimits); index) {
    auto again = codec::parse_index(codec::to_json(*index), kLimits);
    if (!again || again->slices.size() != index->slices.size() ||
        again->total_bytes != index->total_bytes)
      std::abort();
  }
  auto manifest = codec::parse_manifest(json, kLimits);
  if (!manifest) return 0;
  const std::string text = codec::to_json(*manifest);
  auto again = codec::parse_manifest(text, kLimits);
  if (!again || again->pieces.size() != manifest->pieces.size()) std::abort();
  for (std::size_t i = 0; i < manifest->pieces.size(); ++i) {
    const codec::PieceEntry& a = manifest->pieces[i];
    const codec::PieceEntry& b = again->pieces[i];
    if (a.index != b.index || a.key != b.key || a.offset != b.offset || a.size != b.size ||
        a.crc32 != b.crc32)
      std::abort();
  }
  if (again->name != manifest->name || again->size != manifest->size) std::abort();
  return 0;
}
