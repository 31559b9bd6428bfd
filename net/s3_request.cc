#include "net/s3_request.h"

#include <openssl/sha.h>

#include "base/text.h"

namespace sx::net {
namespace {

// Hex SHA-256 of a body (net/ does not use codec/: OpenSSL directly).
std::string sha256_hex(std::span<const std::byte> bytes) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest);
  return text::to_hex(std::span<const std::uint8_t>(digest, sizeof digest));
}

}  // namespace

void s3_trust(const S3Config& config, Request& request) { request.ca_file = config.ca_bundle; }

void s3_sign(const S3Config& config, Request& request, const std::string& payload_hash) {
  if (!config.credentials) return;
  request.aws_sigv4 = config.sigv4_provider();
  request.userpwd = config.credentials->access_key + ":" + config.credentials->secret_key;
  request.headers.push_back("x-amz-content-sha256: " + payload_hash);
  if (!config.credentials->session_token.empty())
    request.headers.push_back("x-amz-security-token: " + config.credentials->session_token);
}

Request s3_put_request(const S3Config& config, std::string_view bucket, std::string_view key,
                       std::span<const std::byte> body, const std::string& acl, bool sign_payload) {
  Request request;
  request.method = Method::kPut;
  request.url = config.object_url(bucket, key);
  request.body = body;
  request.return_http_errors = true;
  request.headers.push_back("Content-Type: image/png");
  s3_trust(config, request);
  if (!acl.empty()) request.headers.push_back("x-amz-acl: " + acl);
  // UNSIGNED-PAYLOAD by default: the piece CRC and the file SHA-256 already
  // verify the bytes end to end, and hashing each body costs a core at ~1.5 GB/s.
  s3_sign(config, request, sign_payload ? sha256_hex(body) : "UNSIGNED-PAYLOAD");
  return request;
}

Request s3_object_request(const S3Config& config, Method method, const std::string& url) {
  Request request;
  request.method = method;
  request.url = url;
  request.return_http_errors = true;
  if (config.serves(url)) {
    s3_sign(config, request, "UNSIGNED-PAYLOAD");
    s3_trust(config, request);
  }
  return request;
}

}  // namespace sx::net
