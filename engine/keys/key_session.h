// Everything one operation on a key needs, made in one place for every front
// end (sx::Storage and, through it, the Python module; the gateway's piece
// and manifest fetches): the backend options of its operation, the key's
// policy applied to them (signing, public addresses only), the router that
// gives each object the backend its URL needs, behind the policy's guard,
// and the context the pipeline stages take.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "codec/piece_crypto.h"
#include "engine/keys/checked_manifest.h"
#include "engine/core/context.h"
#include "engine/keys/key_policy.h"
#include "net/backend.h"
#include "net/key_router.h"
#include "sx/options.h"

namespace sx::engine {

// The backend settings of one operation (push, a key operation, a gateway
// fetch): endpoint, ACL, payload signing, trust, its operation id, and the
// PNG body check every fetched object passes.
net::BackendOptions backend_options(const Options& options, net::OperationId operation);

class KeySession {
 public:
  // `policy`, `options`, `pool` and `cancel` outlive the session. `retries`
  // counts the requests retried so far (for the progress line);
  // `stop_requests` ends the operation's requests in flight (Context).
  KeySession(const Options& options, ThreadPool& pool, CancelToken& cancel, net::OperationId operation,
             const KeyPolicy& policy, net::LoopProvider loop, std::function<long()> retries,
             std::function<void()> stop_requests);
  KeySession(const KeySession&) = delete;
  KeySession& operator=(const KeySession&) = delete;

  Context& context() { return ctx_; }
  // Every object of the key through here: routed by URL, held to the policy.
  net::Backend& backend() { return guard_; }
  // The key's checked manifest: its URL's backend opened first (a clear
  // error for a URL no backend reads), then open_manifest with the key's
  // further manifest copies as alternates.
  Result<CheckedManifest> open(const std::string& url, const std::vector<std::string>& alternates,
                               const std::optional<codec::ContentKey>& content_key);

 private:
  const KeyPolicy& policy_;
  net::KeyRouter router_;
  PolicyGuard guard_;
  Context ctx_;
};

}  // namespace sx::engine
