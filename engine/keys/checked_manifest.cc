#include "engine/keys/checked_manifest.h"

#include "engine/pull/downloader.h"

namespace sx::engine {

CheckedManifest CheckedManifest::parity() const {
  auto parity = std::make_shared<codec::Manifest>(*manifest_);
  parity->pieces = manifest_->parity_pieces;
  parity->parity_pieces.clear();
  CheckedManifest view = *this;
  view.manifest_ = std::move(parity);
  return view;
}

CheckedManifest CheckedManifest::own(codec::Manifest manifest) {
  CheckedManifest checked;
  checked.manifest_ = std::make_shared<const codec::Manifest>(std::move(manifest));
  return checked;
}

Result<CheckedManifest> check_manifest(FetchedManifest fetched, std::string url, const KeyPolicy& policy,
                                       const codec::DecodeLimits& limits) {
  const codec::Manifest& m = fetched.manifest;
  if (auto fits = check_manifest_limits(m, limits); !fits) return std::move(fits).error();
  for (const codec::PieceEntry& piece : m.pieces)
    if (auto allowed = policy.may_read(piece.key, "piece " + std::to_string(piece.index)); !allowed)
      return std::move(allowed).error();
  for (const codec::PieceEntry& piece : m.parity_pieces)
    if (auto allowed = policy.may_read(piece.key, "parity piece " + std::to_string(piece.index)); !allowed)
      return std::move(allowed).error();
  for (const std::string& key : fetched.manifest_keys)
    if (auto allowed = policy.may_read(key, "a manifest slice"); !allowed) return std::move(allowed).error();
  CheckedManifest checked;
  checked.manifest_ = std::make_shared<const codec::Manifest>(std::move(fetched.manifest));
  checked.url_ = std::move(url);
  checked.levels_ = fetched.levels;
  checked.manifest_keys_ = std::move(fetched.manifest_keys);
  checked.policy_ = policy;
  return checked;
}

Result<CheckedManifest> open_manifest(Context& ctx, net::Backend& backend, const KeyPolicy& policy,
                                      const std::string& url, const std::optional<codec::ContentKey>& content_key) {
  if (auto allowed = policy.may_read(url, "the key"); !allowed) return std::move(allowed).error();
  for (const std::string& copy : ctx.manifest_alternates)
    if (auto allowed = policy.may_read(copy, "a manifest copy"); !allowed) return std::move(allowed).error();
  PolicyGuard guarded(backend, policy);
  auto fetched = fetch_manifest_copies(ctx, guarded, url, content_key);
  if (!fetched) return std::move(fetched).error();
  return check_manifest(std::move(*fetched), url, policy, ctx.limits);
}

void PolicyGuard::put(const std::string& name, std::span<const std::byte> bytes, net::PutDone done) {
  inner_.put(name, bytes, std::move(done));
}

void PolicyGuard::put_replacing(const std::string& name, std::span<const std::byte> bytes, net::PutDone done) {
  inner_.put_replacing(name, bytes, std::move(done));
}

void PolicyGuard::get(const std::string& key, std::span<std::byte> into, net::GetDone done) {
  if (auto allowed = policy_.may_read(key, "an object"); !allowed) return done(std::move(allowed).error());
  inner_.get(key, into, std::move(done));
}

void PolicyGuard::get_streaming(const std::string& key, std::span<std::byte> into, net::BodySink& sink,
                                net::GetDone done) {
  if (auto allowed = policy_.may_read(key, "an object"); !allowed) return done(std::move(allowed).error());
  inner_.get_streaming(key, into, sink, std::move(done));
}

void PolicyGuard::get_whole(const std::string& key, std::size_t max_bytes, net::WholeDone done) {
  if (auto allowed = policy_.may_read(key, "an object"); !allowed) return done(std::move(allowed).error());
  inner_.get_whole(key, max_bytes, std::move(done));
}

void PolicyGuard::remove(const std::string& key, net::RemoveDone done) {
  if (auto allowed = policy_.may_change(key); !allowed) return done(std::move(allowed).error());
  inner_.remove(key, std::move(done));
}

}  // namespace sx::engine
