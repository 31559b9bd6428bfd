// The requests the S3 backend sends, built apart from sending so that what
// is signed and which headers go out can be tested without a server.
// libcurl's CURLOPT_AWS_SIGV4 computes the signature itself.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "net/http.h"
#include "net/s3_config.h"

namespace sx::net {

// Adds SigV4 signing (and the payload hash header RGW and AWS require) when
// the config has credentials; `payload_hash` is a hex SHA-256 or "UNSIGNED-PAYLOAD".
void s3_sign(const S3Config& config, Request& request, const std::string& payload_hash);

// The endpoint's CA bundle (AWS_CA_BUNDLE, the profile's ca_bundle) for a
// request to it; an empty bundle leaves the loop's trust (--cacert, …) alone.
void s3_trust(const S3Config& config, Request& request);

// PUT of one object: path-style on a custom endpoint, an optional canned ACL,
// UNSIGNED-PAYLOAD unless `sign_payload` (then the body's SHA-256).
Request s3_put_request(const S3Config& config, std::string_view bucket, std::string_view key,
                       std::span<const std::byte> body, const std::string& acl, bool sign_payload);

// GET or DELETE of an object URL: signed only when the URL is on the
// configured endpoint (credentials never go to another host).
Request s3_object_request(const S3Config& config, Method method, const std::string& url);

}  // namespace sx::net
