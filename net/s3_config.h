// S3 settings from where AWS tools keep them: AWS_* variables and the
// shared credentials file. No signing here: libcurl's CURLOPT_AWS_SIGV4 signs.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "sx/error.h"

namespace sx::net {

struct S3Credentials {
  std::string access_key;
  std::string secret_key;     // never logged, never in a manifest or message
  std::string session_token;  // optional
};

struct S3Config {
  std::string endpoint;  // "" = AWS (virtual-hosted https://BUCKET.s3.REGION.amazonaws.com/)
  std::string region = "us-east-1";
  std::optional<S3Credentials> credentials;
  std::string ca_bundle;  // AWS_CA_BUNDLE or the profile's ca_bundle: trusted CAs for this endpoint

  // Object URL: path-style on a custom endpoint, virtual-hosted on AWS.
  std::string object_url(std::string_view bucket, std::string_view key) const;
  // "aws:amz:REGION:s3" for CURLOPT_AWS_SIGV4.
  std::string sigv4_provider() const { return "aws:amz:" + region + ":s3"; }
  // True when `url` is on this endpoint (then GETs are signed if credentials exist).
  bool serves(std::string_view url) const;
};

// Endpoint: `endpoint_option`, else AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL;
// region: AWS_REGION / AWS_DEFAULT_REGION; credentials: AWS_ACCESS_KEY_ID +
// AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN), else the [AWS_PROFILE or
// default] section of AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials;
// CA bundle: AWS_CA_BUNDLE, else ca_bundle in AWS_CONFIG_FILE / ~/.aws/config.
S3Config load_s3_config(std::string_view endpoint_option);

// S3 bucket naming rules, checked before any request.
Status check_bucket_name(std::string_view bucket);

// Splits "s3://BUCKET/PREFIX" into bucket and prefix (prefix ends with '/' or is empty).
Result<std::pair<std::string, std::string>> parse_s3_uri(std::string_view uri);

// Percent-encodes an S3 key for a URL path (keeps '/').
std::string encode_key(std::string_view key);

}  // namespace sx::net
