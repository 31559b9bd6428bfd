// What a download key may make sxengine touch (docs/SECURITY.md §Keys from
// strangers). A key and the manifest it leads to are input from whoever made
// the key; the policy is drawn from the key's own manifest URLs (its URL and
// its &m= copies) alone, never from what the manifest says:
// - reading: a piece, parity, slice or copy URL may be file:// only when the
//   key has a file:// manifest copy, and then only inside that copy's store
//   root (ROOT of ROOT/ab/NAME.png); http(s):// otherwise. A key none of
//   whose manifest copies is on an internal address (net/address_class.h)
//   may not name internal addresses, literally or by DNS (checked again on
//   every connection), unless the user allows it;
// - signing: S3 credentials go only to objects of a key with a manifest copy
//   on the configured endpoint (net::BackendOptions::sign_keys);
// - changing (rm's DELETEs, repair's PUTs in place): only objects under a
//   place one of the key's manifest copies lives in (the URL's directory; a
//   store root for file://) whose name has the shape sxengine gives its
//   objects (32 hex digits, ".png").
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "sx/error.h"

namespace sx::engine {

struct KeyPolicyOptions {
  bool allow_file = true;      // file:// keys at all (a gateway refuses them off loopback)
  bool allow_internal = false; // --allow-private-addresses: a public key may name internal addresses
  bool never_internal = false; // a gateway serving strangers: no internal address, whatever the key
  std::string s3_endpoint;     // --endpoint (else AWS_ENDPOINT_URL): where credentials may go
};

class KeyPolicy {
 public:
  // From the key's manifest URLs (its URL first). Errors name the URL that
  // no policy allows (not file:// or http(s)://, a file:// key refused).
  static Result<KeyPolicy> for_key(const std::vector<std::string>& manifest_urls, const KeyPolicyOptions& options);
  // A policy that allows what this process itself made (a push re-reading
  // its own objects, tests).
  static KeyPolicy trusting();

  // May `url` be fetched? `what` names it in the error ("piece 3").
  Status may_read(std::string_view url, std::string_view what) const;
  // May `url` be deleted or written over?
  Status may_change(std::string_view url) const;
  // Requests may reach public addresses only (EventLoop::restrict_to_public).
  bool public_only() const { return public_only_; }
  // S3 credentials may sign requests for this key's objects.
  bool may_sign() const { return may_sign_; }

 private:
  std::vector<std::string> file_roots_;  // directories, with a trailing '/'
  std::vector<std::string> places_;      // URL prefixes (a directory: trailing '/'), file:// roots as file URLs
  bool public_only_ = false;
  bool may_sign_ = false;
  bool trusting_ = false;
};

// True when `name` (the last path segment) has the shape of an object name
// sxengine gives: 32 lowercase hex digits then ".png".
bool is_sxengine_object_name(std::string_view name);

}  // namespace sx::engine
