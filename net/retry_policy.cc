#include "net/retry_policy.h"

#include <curl/curl.h>

#include <algorithm>

namespace sx::net {

Errc classify_transfer(int curl_code, long http_status, std::string_view s3_code) {
  if (s3_code == "RequestTimeout" || s3_code == "SlowDown" || s3_code == "InternalError" ||
      s3_code == "ServiceUnavailable")
    return Errc::kTransient;
  switch (static_cast<CURLcode>(curl_code)) {
    case CURLE_OK:
      break;
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
      return Errc::kTransient;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_LOGIN_DENIED:
      return Errc::kDenied;
    case CURLE_WRITE_ERROR:
    case CURLE_FILESIZE_EXCEEDED:
      return Errc::kLimit;  // the response outgrew what the piece can be
    case CURLE_TOO_MANY_REDIRECTS:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
      return Errc::kInvalidArgument;
    case CURLE_ABORTED_BY_CALLBACK:
      return Errc::kCancelled;
    default:
      return Errc::kIo;
  }
  if (http_status >= 200 && http_status < 300) return Errc::kIo;  // not an error; caller checks
  switch (http_status) {
    case 401:
    case 403:
      return Errc::kDenied;
    case 404:
    case 410:
      return Errc::kNotFound;
    case 408:
    case 425:
    case 429:
    case 500:
    case 502:
    case 503:
    case 504:
      return Errc::kTransient;
    default:
      return http_status >= 500 ? Errc::kIo : Errc::kInvalidArgument;
  }
}

RetryPolicy::RetryPolicy(RetryOptions options)
    : options_(options), budget_(options.budget), rng_(std::random_device{}()) {}

void RetryPolicy::on_success() {
  std::lock_guard lock(mutex_);
  budget_ = std::min(options_.budget, budget_ + 0.2);
}

RetryDecision RetryPolicy::decide(Errc code, int curl_code, long http_status, int attempt,
                                  std::optional<std::chrono::seconds> retry_after,
                                  Idempotency idempotency, bool request_sent) {
  if (code != Errc::kTransient) return {};
  if (attempt >= options_.max_retries)
    return {false, {}, "gave up after " + std::to_string(attempt) + " retries"};
  if (idempotency == Idempotency::kNotIdempotent && request_sent) {
    // The server may have stored it: retry only what it certainly refused,
    // and the rest at most twice (a duplicate image costs less than a failure).
    const bool refused = curl_code == CURLE_COULDNT_CONNECT || http_status == 429 ||
                         http_status == 503;
    if (!refused && attempt >= 2)
      return {false, {}, "not retried again: the upload may have been stored"};
  }
  std::lock_guard lock(mutex_);
  if (budget_ < 1)
    return {false, {}, "retry budget exhausted (" + std::to_string(retries_.load()) +
                           " retries in this run): the server looks down"};
  budget_ -= 1;
  // Full jitter: wait uniform(0, min(cap, base << attempt)) so that clients
  // which failed together do not all come back together.
  const auto cap = std::min<std::int64_t>(options_.max_delay.count(),
                                          options_.base_delay.count() << std::min(attempt, 20));
  std::uniform_int_distribution<std::int64_t> jitter(0, std::max<std::int64_t>(cap, 1));
  std::chrono::milliseconds delay(jitter(rng_));
  if (retry_after) {
    const auto asked = std::chrono::duration_cast<std::chrono::milliseconds>(*retry_after);
    delay = std::max(delay, std::min(asked, options_.max_delay));
  }
  ++retries_;
  return {true, delay, {}};
}

}  // namespace sx::net
