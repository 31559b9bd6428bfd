// Checks what vouches for a whole file as its pieces land (docs/FORMAT.md
// §4): the whole-file SHA-256 (hashed in order, early pieces read back), a
// SHA-256 tree (each piece hashed on the worker that landed it), or nothing
// beyond the pieces' AEAD tags. Shared by pull (to a file or stdout) and
// verify.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "codec/checksum.h"
#include "codec/manifest.h"
#include "engine/pull/ordered_hasher.h"
#include "sx/error.h"

namespace sx::engine {

class FileDigestCheck {
 public:
  // `read_back` fills bytes of pieces already written (out-of-order pieces
  // and resumed ones); may be empty when pieces land in order and none is
  // resumed. `whole_sha256`: hash the whole file even when the manifest
  // records no SHA-256 (verify --sha256).
  FileDigestCheck(const codec::Manifest& manifest, OrderedHasher::ReadBack read_back, bool whole_sha256 = false);

  // Any thread, once per piece, after it was verified and written.
  Status landed(const codec::PieceEntry& piece, std::span<const std::byte> payload);
  // A piece an earlier run wrote (resume): hashed from what read_back gives.
  Status written_earlier(const codec::PieceEntry& piece);
  // After every piece: kCorrupt when a digest does not match.
  Status finish();
  // The whole file's SHA-256, when it was hashed (after finish()).
  const std::string& sha256() const { return sha256_; }

 private:
  const codec::Manifest& manifest_;
  OrderedHasher::ReadBack read_back_;
  std::optional<OrderedHasher> whole_;        // the recorded (or asked-for) whole-file SHA-256
  std::vector<codec::Sha256Digest> pieces_;  // "sha256-tree": by index, filled by distinct workers
  std::string sha256_;
};

}  // namespace sx::engine
