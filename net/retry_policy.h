// The one place that decides whether a failed transfer is tried again and
// when (DESIGN.md §Transfers). Thread-safe: one policy serves every transfer.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>

#include "sx/error.h"

namespace sx::net {

struct RetryOptions {
  int max_retries = 8;  // per request; --retries
  std::chrono::milliseconds base_delay{200};
  std::chrono::milliseconds max_delay{20000};
  // Retries the whole run may spend; each success earns back a fifth of one,
  // so a flaky server keeps working but an outage ends instead of storming.
  double budget = 100;
};

// Maps a finished transfer to an error class. `curl_code` is a CURLcode
// (0 = OK); `http_status` 0 when no response arrived.
// `s3_code` is the Code of an S3 XML error body, if any: S3 answers some
// retriable conditions (RequestTimeout) with 400.
Errc classify_transfer(int curl_code, long http_status, std::string_view s3_code = {});

enum class Idempotency {
  kIdempotent,     // PUT/GET/DELETE: same request, same outcome
  kNotIdempotent,  // multipart POST: a retry may create a second object
};

struct RetryDecision {
  bool retry = false;
  std::chrono::milliseconds delay{0};
  std::string why_not;  // when !retry after a retriable error: "retry budget exhausted", ...
};

class RetryPolicy {
 public:
  explicit RetryPolicy(RetryOptions options);

  // `attempt` counts retries already made for this request. `retry_after` is
  // the server's Retry-After, honoured up to max_delay. `request_sent` is
  // whether any of the body left (for non-idempotent requests).
  RetryDecision decide(Errc code, int curl_code, long http_status, int attempt,
                       std::optional<std::chrono::seconds> retry_after, Idempotency idempotency,
                       bool request_sent);
  void on_success();
  long retries() const { return retries_.load(); }

 private:
  RetryOptions options_;
  std::mutex mutex_;   // guards budget_ and rng_
  double budget_;
  std::minstd_rand rng_;
  std::atomic<long> retries_{0};
};

}  // namespace sx::net
