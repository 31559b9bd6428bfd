// S3-compatible object stores (AWS S3, Ceph RGW, MinIO, R2). Requests are
// signed by libcurl's own SigV4 (CURLOPT_AWS_SIGV4); keys are object URLs.
#pragma once

#include <memory>
#include <string>

#include "net/backend.h"
#include "net/s3_config.h"

namespace sx::net {

struct S3BackendOptions {
  std::string acl;            // canned ACL for PUT ("public-read"), "" = bucket default
  bool sign_payload = false;  // x-amz-content-sha256 = body SHA-256 instead of UNSIGNED-PAYLOAD
};

std::unique_ptr<Backend> make_s3_backend(EventLoop& loop, S3Config config, std::string bucket,
                                         std::string prefix, S3BackendOptions options,
                                         const BackendOptions& common);

// GETs any URL; signs those on the configured endpoint when credentials exist
// (private buckets), sends the rest plain (public-read objects, other hosts).
std::unique_ptr<Backend> make_s3_reader(EventLoop& loop, S3Config config, const BackendOptions& options);

}  // namespace sx::net
