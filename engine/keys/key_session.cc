#include "engine/keys/key_session.h"

#include "engine/core/png_body_check.h"
#include "net/event_loop.h"

namespace sx::engine {

net::BackendOptions backend_options(const Options& options, net::OperationId operation) {
  net::BackendOptions b;
  b.endpoint = options.endpoint;
  b.acl = options.acl;
  b.sign_payload = options.s3_sign_payload;
  b.explicit_cacert = !options.cacert.empty();
  b.operation = operation;
  b.check_body = png_body_check(codec::kDefaultLimits);
  return b;
}

namespace {

net::BackendOptions for_key(const Options& options, net::OperationId operation, const KeyPolicy& policy) {
  net::BackendOptions b = backend_options(options, operation);
  b.sign_keys = policy.may_sign();
  return b;
}

}  // namespace

KeySession::KeySession(const Options& options, ThreadPool& pool, CancelToken& cancel, net::OperationId operation,
                       const KeyPolicy& policy, net::LoopProvider loop, std::function<long()> retries,
                       std::function<void()> stop_requests)
    : policy_(policy),
      router_(for_key(options, operation, policy), loop),
      guard_(router_, policy),
      ctx_{options, pool, cancel, codec::kDefaultLimits, codec::ManifestLimits{}, std::move(retries)} {
  // A key that is not on an internal address reaches none, checked on every
  // connection its operation opens (net/address_class.h).
  if (policy.public_only())
    if (auto l = loop()) (*l)->restrict_to_public(operation);
  ctx_.limit_get_retries = [this](int max_retries) { router_.limit_retries(max_retries); };
  ctx_.stop_requests = std::move(stop_requests);
}

Result<CheckedManifest> KeySession::open(const std::string& url, const std::vector<std::string>& alternates,
                                         const std::optional<codec::ContentKey>& content_key) {
  if (auto first = router_.route(url); !first) return std::move(first).error();
  ctx_.manifest_alternates = alternates;
  return open_manifest(ctx_, router_, policy_, url, content_key);
}

}  // namespace sx::engine
