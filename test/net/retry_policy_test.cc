// Tests net/retry_policy.cc and net/http_error.cc.
#include <doctest/doctest.h>

#include <curl/curl.h>

#include "net/http_error.h"
#include "net/retry_policy.h"

using namespace sx;
using namespace sx::net;
using std::chrono::milliseconds;
using std::chrono::seconds;

TEST_CASE("transfers are classified by curl code and HTTP status") {
  CHECK(classify_transfer(CURLE_COULDNT_CONNECT, 0) == Errc::kTransient);
  CHECK(classify_transfer(CURLE_OPERATION_TIMEDOUT, 0) == Errc::kTransient);
  CHECK(classify_transfer(CURLE_RECV_ERROR, 0) == Errc::kTransient);
  CHECK(classify_transfer(CURLE_PARTIAL_FILE, 200) == Errc::kTransient);
  CHECK(classify_transfer(CURLE_PEER_FAILED_VERIFICATION, 0) == Errc::kDenied);
  CHECK(classify_transfer(CURLE_WRITE_ERROR, 200) == Errc::kLimit);
  for (long status : {408L, 425L, 429L, 500L, 502L, 503L, 504L})
    CHECK(classify_transfer(CURLE_OK, status) == Errc::kTransient);
  CHECK(classify_transfer(CURLE_OK, 401) == Errc::kDenied);
  CHECK(classify_transfer(CURLE_OK, 403) == Errc::kDenied);
  CHECK(classify_transfer(CURLE_OK, 404) == Errc::kNotFound);
  CHECK(classify_transfer(CURLE_OK, 400) == Errc::kInvalidArgument);
  CHECK(classify_transfer(CURLE_OK, 501) == Errc::kIo);
}

TEST_CASE("only transient errors are retried, with capped full-jitter backoff") {
  RetryOptions options;
  options.max_retries = 3;
  options.base_delay = milliseconds(100);
  options.max_delay = milliseconds(1000);
  RetryPolicy policy(options);
  CHECK_FALSE(policy.decide(Errc::kDenied, 0, 403, 0, {}, Idempotency::kIdempotent, true).retry);
  CHECK_FALSE(policy.decide(Errc::kCorrupt, 0, 200, 0, {}, Idempotency::kIdempotent, true).retry);
  CHECK_FALSE(policy.decide(Errc::kNotFound, 0, 404, 0, {}, Idempotency::kIdempotent, true).retry);
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto d = policy.decide(Errc::kTransient, 0, 503, attempt, {}, Idempotency::kIdempotent, true);
    CHECK(d.retry);
    CHECK(d.delay <= std::min(milliseconds(1000), milliseconds(100 << attempt)));
  }
  auto last = policy.decide(Errc::kTransient, 0, 503, 3, {}, Idempotency::kIdempotent, true);
  CHECK_FALSE(last.retry);
  CHECK(last.why_not.find("gave up after 3 retries") != std::string::npos);
  CHECK(policy.retries() == 3);
}

TEST_CASE("Retry-After is honoured up to the cap") {
  RetryOptions options;
  options.max_delay = milliseconds(5000);
  RetryPolicy policy(options);
  auto d = policy.decide(Errc::kTransient, 0, 429, 0, seconds(2), Idempotency::kIdempotent, true);
  CHECK(d.retry);
  CHECK(d.delay >= milliseconds(2000));
  d = policy.decide(Errc::kTransient, 0, 429, 0, seconds(3600), Idempotency::kIdempotent, true);
  CHECK(d.delay == milliseconds(5000));
}

TEST_CASE("the shared retry budget ends an outage instead of storming") {
  RetryOptions options;
  options.budget = 5;
  options.max_retries = 100;
  options.base_delay = milliseconds(1);
  RetryPolicy policy(options);
  int granted = 0;
  for (int i = 0; i < 20; ++i)
    granted += policy.decide(Errc::kTransient, 0, 503, 0, {}, Idempotency::kIdempotent, true).retry;
  CHECK(granted == 5);
  auto refused = policy.decide(Errc::kTransient, 0, 503, 0, {}, Idempotency::kIdempotent, true);
  CHECK(refused.why_not.find("retry budget exhausted") != std::string::npos);
  for (int i = 0; i < 5; ++i) policy.on_success();  // successes earn a retry back
  CHECK(policy.decide(Errc::kTransient, 0, 503, 0, {}, Idempotency::kIdempotent, true).retry);
}

TEST_CASE("a POST that may have been stored is retried at most twice") {
  RetryPolicy policy(RetryOptions{});
  CHECK(policy.decide(Errc::kTransient, CURLE_RECV_ERROR, 0, 1, {}, Idempotency::kNotIdempotent, true).retry);
  CHECK_FALSE(policy.decide(Errc::kTransient, CURLE_RECV_ERROR, 0, 2, {}, Idempotency::kNotIdempotent, true).retry);
  // Refused outright (429, 503, connection refused): safe to retry further.
  CHECK(policy.decide(Errc::kTransient, 0, 429, 5, {}, Idempotency::kNotIdempotent, true).retry);
  CHECK(policy.decide(Errc::kTransient, CURLE_COULDNT_CONNECT, 0, 5, {}, Idempotency::kNotIdempotent, false).retry);
}

TEST_CASE("error bodies become short details, never a server's text") {
  const char* xml =
      "<?xml version=\"1.0\"?><Error><Code>SignatureDoesNotMatch</Code><Message></Message>"
      "<BucketName>b</BucketName></Error>";
  CHECK(s3_error_code(xml) == "SignatureDoesNotMatch");
  CHECK(describe_error_body(xml) == " (SignatureDoesNotMatch)");
  CHECK(describe_error_body(R"({"error":"rate limited"})").empty());
  CHECK(describe_error_body("<html>...</html>").empty());
  CHECK(describe_error_body("<Error><Code>root:x:0:0</Code></Error>").empty());  // not a code's shape
  CHECK(describe_error_body("<Error><Code>NoSuchKey</Code><Message>secret text</Message></Error>") == " (NoSuchKey)");
}
