#include "engine/pull/file_digest.h"

#include "base/text.h"

namespace sx::engine {

FileDigestCheck::FileDigestCheck(const codec::Manifest& manifest, OrderedHasher::ReadBack read_back,
                                 bool whole_sha256)
    : manifest_(manifest), read_back_(std::move(read_back)) {
  if (manifest.version == 1) return;  // storagex v1 carries no digest
  if (!manifest.sha256.empty() || whole_sha256) whole_.emplace(manifest.pieces, read_back_);
  if (manifest.digest == codec::kDigestSha256Tree) pieces_.resize(manifest.pieces.size());
}

Status FileDigestCheck::landed(const codec::PieceEntry& piece, std::span<const std::byte> payload) {
  if (!pieces_.empty()) pieces_[piece.index] = codec::sha256(payload);
  return whole_ ? whole_->landed(piece.index, payload) : Status{};
}

Status FileDigestCheck::written_earlier(const codec::PieceEntry& piece) {
  if (!pieces_.empty()) {
    std::vector<std::byte> bytes(piece.size);
    if (auto read = read_back_(piece.offset, bytes); !read) return read;
    pieces_[piece.index] = codec::sha256(bytes);
  }
  return whole_ ? whole_->written(piece.index) : Status{};
}

Status FileDigestCheck::finish() {
  if (whole_) {
    auto digest = whole_->finish();
    if (!digest) return std::move(digest).error();
    sha256_ = text::to_hex(*digest);
    if (!manifest_.sha256.empty() && sha256_ != manifest_.sha256)
      return make_error(Errc::kCorrupt, "whole-file SHA-256 mismatch: got " + sha256_ + ", manifest says " +
                                            manifest_.sha256);
  }
  if (!pieces_.empty()) {
    const std::string tree = text::to_hex(codec::sha256_tree(pieces_));
    if (tree != manifest_.sha256_tree)
      return make_error(Errc::kCorrupt, "the pieces' SHA-256 tree does not match the manifest: got " + tree +
                                            ", manifest says " + manifest_.sha256_tree);
  }
  return {};
}

}  // namespace sx::engine
