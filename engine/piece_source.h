// The engine's random-access face, for front ends that serve pieces (the
// gateway, docs/GATEWAY.md): a key parsed, its manifest opened and checked in
// the key's session (policy, routed and guarded backends, as pull opens it),
// then any one piece fetched into the caller's buffer. Each open and each
// fetch is an event-loop operation of its own, so it can be cancelled alone.
// The one header a front end includes for this: what lies behind it (key
// sessions, the downloader, the loop) stays the engine's.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "codec/manifest.h"
#include "codec/piece_crypto.h"
#include "sx/error.h"
#include "sx/options.h"

namespace sx::engine {

// A key's text parsed: where its manifest is and what opens it. No request made.
class KeyRef {
 public:
  // Names the file in caches: hex SHA-256 of the manifest URL and the content
  // key, so a manifest opened with one content key never serves another.
  const std::string& id() const { return id_; }

 private:
  friend class PieceSource;
  std::string id_;
  std::string url_;
  std::vector<std::string> alternates_;
  std::optional<codec::ContentKey> content_key_;
};

// A key opened once: its checked manifest and what deciphers its pieces.
class OpenedKey {
 public:
  const std::string& id() const { return id_; }
  const std::string& url() const { return url_; }  // without its fragment
  const codec::Manifest& manifest() const;

 private:
  friend class PieceSource;
  struct Checked;
  std::string id_;
  std::string url_;
  std::shared_ptr<const Checked> checked_;
};

// One piece fetch's cancel handle (copyable, any thread): made before the
// fetch, so that whoever may want it ended holds it first. A cancel before
// the fetch starts makes it fail at once.
class PieceFetch {
 public:
  void cancel() const;

 private:
  friend class PieceSource;
  struct State;
  std::shared_ptr<State> state_;
};

class PieceSource {
 public:
  // What keys may make the source read (engine/keys/key_policy.h).
  struct Reach {
    bool file_keys = true;        // file:// keys at all (a gateway refuses them off loopback)
    bool internal = false;        // --allow-private-addresses: a public key may name internal addresses
    bool never_internal = false;  // serving strangers: no internal address, whatever the key
  };

  // `options.workers` decode threads; the loop takes pull's transfer
  // settings with room for manifests on top of `options.parallel` pieces.
  static Result<std::unique_ptr<PieceSource>> create(const Options& options, const Reach& reach);
  ~PieceSource();  // stop()s
  PieceSource(const PieceSource&) = delete;
  PieceSource& operator=(const PieceSource&) = delete;

  // A key's text (its #k= fragment, no passphrase: a server cannot ask for one).
  static Result<KeyRef> parse_key(std::string_view text);

  // Any thread; blocks. Fetches and checks the key's manifest tree, else
  // that of each alternate copy the key names.
  Result<std::shared_ptr<const OpenedKey>> open(const KeyRef& key);

  PieceFetch new_fetch();
  // Any thread; blocks. Piece `index` of `key`, checked and deciphered, into
  // `into` (exactly the piece's size, else kCorrupt).
  Status fetch(const PieceFetch& handle, const OpenedKey& key, std::uint64_t index, std::span<std::byte> into);

  // Cancels every open and fetch in flight; later ones fail with kCancelled.
  void stop();

 private:
  struct Impl;
  explicit PieceSource(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sx::engine
