// The one boundary between a key and what it may make sxengine do: a
// manifest (tree, stripes, copies) fetched, parsed and validated once into a
// type that carries its limits and its key's policy (engine/keys/key_policy.h).
// Downloader, pull, verify, rm, repair, the gateway and the Python module
// take only this type, so no operation can skip the check.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "codec/manifest.h"
#include "codec/piece_crypto.h"
#include "engine/core/context.h"
#include "engine/keys/key_policy.h"
#include "engine/ops/manifest_tree.h"
#include "net/backend.h"
#include "sx/error.h"

namespace sx::engine {

class CheckedManifest {
 public:
  const codec::Manifest& manifest() const { return *manifest_; }
  const codec::Manifest* operator->() const { return manifest_.get(); }
  // The key's URL it was opened from (without its fragment).
  const std::string& url() const { return url_; }
  int levels() const { return levels_; }
  // Every piece of the manifest tree, root first.
  const std::vector<std::string>& manifest_keys() const { return manifest_keys_; }
  const KeyPolicy& policy() const { return policy_; }
  // The parity pieces as the pieces of a manifest of their own (a stripe's,
  // docs/FORMAT.md §10): checked with the rest.
  CheckedManifest parity() const;
  // A manifest this process made itself (a push re-reading its own objects):
  // nothing in it came from a key.
  static CheckedManifest own(codec::Manifest manifest);

 private:
  friend Result<CheckedManifest> check_manifest(FetchedManifest fetched, std::string url, const KeyPolicy& policy,
                                                const codec::DecodeLimits& limits);
  CheckedManifest() = default;
  std::shared_ptr<const codec::Manifest> manifest_;
  std::string url_;
  int levels_ = 1;
  std::vector<std::string> manifest_keys_;
  KeyPolicy policy_ = KeyPolicy::trusting();
};

// Checks what fetch_manifest_tree could not: the geometry and piece size
// against the decode limits, and every piece, parity and tree URL against
// the policy (the first refused one is named, by piece).
Result<CheckedManifest> check_manifest(FetchedManifest fetched, std::string url, const KeyPolicy& policy,
                                       const codec::DecodeLimits& limits);

// fetch_manifest_copies (its alternates from ctx) through a backend that
// applies `policy` to every object, then check_manifest.
Result<CheckedManifest> open_manifest(Context& ctx, net::Backend& backend, const KeyPolicy& policy,
                                      const std::string& url, const std::optional<codec::ContentKey>& content_key);

// A backend that applies a key's policy to every object before its inner
// backend sees it: reads must pass may_read, deletes and in-place writes
// may_change. Slices of a manifest tree are fetched through it too.
class PolicyGuard final : public net::Backend {
 public:
  PolicyGuard(net::Backend& inner, const KeyPolicy& policy) : inner_(inner), policy_(policy) {}
  void put(const std::string& name, std::span<const std::byte> bytes, net::PutDone done) override;
  void put_replacing(const std::string& name, std::span<const std::byte> bytes, net::PutDone done) override;
  void get(const std::string& key, std::span<std::byte> into, net::GetDone done) override;
  void get_streaming(const std::string& key, std::span<std::byte> into, net::BodySink& sink,
                     net::GetDone done) override;
  void get_whole(const std::string& key, std::size_t max_bytes, net::WholeDone done) override;
  void remove(const std::string& key, net::RemoveDone done) override;
  bool synchronous() const override { return inner_.synchronous(); }
  net::ObjectLimits limits() const override { return inner_.limits(); }
  std::string describe() const override { return inner_.describe(); }

 private:
  net::Backend& inner_;
  const KeyPolicy& policy_;
};

}  // namespace sx::engine
