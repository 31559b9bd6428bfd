// From a client's ?key= to an opened file: the key parsed, the manifest
// taken from the cache or fetched (and checked against the key's policy,
// engine/keys/checked_manifest.h). Also how an engine error becomes an HTTP status, with a
// reason that never shows the key's #k=/#s= fragment.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "gateway/manifest_cache.h"
#include "gateway/piece_fetcher.h"
#include "sx/error.h"

namespace sx::gateway {

inline constexpr std::size_t kMaxKeyBytes = 8192;

struct HttpFailure {
  unsigned status = 500;
  std::string reason;  // one line, safe to show and log
};

class KeyOpener {
 public:
  // What the key may make the gateway read is the fetcher's key policy.
  KeyOpener(ManifestCache& manifests, PieceFetcher& fetcher) : manifests_(manifests), fetcher_(fetcher) {}

  // Connection thread; blocks while the manifest is fetched.
  Result<std::shared_ptr<const OpenedFile>> open(std::string_view key_text);

 private:
  ManifestCache& manifests_;
  PieceFetcher& fetcher_;
};

// 400 bad key, 403 refused or wrong content key, 404 no such manifest, 502
// the backend failed or served something broken, 503 stopping.
HttpFailure http_failure(const Error& error);

// Cuts every "#k=…"/"#s=…" (and its percent-encoded form) out of `text`.
std::string scrub_secrets(std::string_view text);

}  // namespace sx::gateway
