// A request the event loop performs and what comes back. No curl or Asio here.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "net/retry_policy.h"
#include "sx/error.h"

namespace sx::net {

enum class Method { kGet, kPut, kPost, kDelete, kHead };

// Judges the first bytes of a 2xx body as they arrive (`head` holds at least
// kBodyHeadBytes, or the whole body when it is shorter) and returns the most
// bytes the body may have; an error refuses the body there and then, so a
// hostile server's junk is never buffered. `content_type` is the server's.
inline constexpr std::size_t kBodyHeadBytes = 64;
using BodyCheck = std::function<Result<std::size_t>(std::span<const std::byte> head,
                                                    std::string_view content_type)>;

// Transfers of one operation (a push, a pull) share an id so that the
// operation can be cancelled alone; 0 belongs to no operation.
using OperationId = std::uint64_t;

// Takes a 2xx GET body as it arrives instead of a copy into response_buffer
// first (pull deciphers pieces straight out of curl's buffer). The loop
// offers every chunk in order; a sink may decline only before it has taken
// anything but the bytes it holds, and then gets nothing more: the body goes
// to response_buffer as usual, held() first. An error refuses the body (no
// retry). restart() runs before a retry sends the request again. Bodies of
// other statuses are never offered.
class BodySink {
 public:
  enum class Take { kTaken, kDeclined };
  virtual ~BodySink() = default;
  virtual Result<Take> offer(std::span<const std::byte> chunk) = 0;
  virtual std::span<const std::byte> held() const = 0;
  virtual void restart() = 0;
};

struct FormPart {
  std::string name;
  std::string value;          // text field, or the file name when `file` is set
  bool file = false;          // the request body goes here as a file part
  std::string content_type;   // for the file part
};

struct Request {
  Method method = Method::kGet;
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  // PUT body, or the file of a multipart POST. Owned by the caller until the
  // completion runs.
  std::span<const std::byte> body;
  std::vector<FormPart> form;  // non-empty: multipart/form-data POST
  // GET bodies land here; a body that does not fit fails with kLimit (a
  // hostile or broken server cannot make us buffer without bound).
  std::span<std::byte> response_buffer;
  // Optional, beside response_buffer (which takes the body it declines);
  // owned by the caller until the completion runs. check_body is not asked
  // about a body the sink took: the sink judges it.
  BodySink* body_sink = nullptr;
  // Without a buffer the body is kept in Response::text, up to this many bytes
  // (more fails with kLimit).
  std::size_t max_text_bytes = std::size_t{1} << 20;
  std::string aws_sigv4;  // CURLOPT_AWS_SIGV4 provider string; empty: unsigned
  std::string userpwd;    // "key:secret" for SigV4; never logged
  Idempotency idempotency = Idempotency::kIdempotent;
  // When set, a final HTTP error (retries spent or not retriable) completes
  // with its Response (status, error body in `text`) so the backend can word
  // the message; transport failures still complete with an Error.
  bool return_http_errors = false;
  BodyCheck check_body;  // optional
  std::string ca_file;   // overrides TransferOptions::ca_file (S3's AWS_CA_BUNDLE)
  OperationId operation = 0;
  // Retries for this request at most (-1: TransferOptions' own). Pulls with
  // parity lower it: a lost piece is rebuilt rather than waited for.
  int max_retries = -1;
};

struct Response {
  long status = 0;
  std::size_t body_bytes = 0;  // written to response_buffer
  std::string text;            // small bodies when no buffer is given, and error bodies
  int retries = 0;
  Errc error_class = Errc::kIo;  // for a returned HTTP error: what the policy made of it
};

// Runs once per request on the loop thread; must return quickly (hand heavy
// work to the worker pool).
using Completion = std::function<void(Result<Response>)>;

// Called on the loop thread when a request is about to be retried.
using RetryObserver = std::function<void(const std::string& url, int attempt,
                                         const std::string& reason)>;

struct TransferOptions {
  std::chrono::milliseconds connect_timeout{10000};
  // A transfer slower than low_speed_bytes per second for stall_timeout is
  // aborted and retried (a stalled connection, not a slow link).
  std::chrono::seconds stall_timeout{30};
  long low_speed_bytes = 1024;
  // Whole-request ceiling, however the bytes trickle (a server that feeds
  // 1 KiB/s forever would pass the stall check).
  std::chrono::seconds request_timeout{600};
  long max_redirects = 5;
  bool insecure = false;  // --insecure: skip TLS verification
  std::string ca_file;    // trusted CAs (PEM bundle); "" = libcurl's default
  std::string ca_path;    // a directory of hashed CA certificates; ""
  std::string proxy;      // "" = libcurl reads the *_proxy variables itself
  bool http1_only = false;
  RetryOptions retry;
  std::size_t max_host_connections = 0;  // 0: no limit besides max_in_flight
  // Requests in flight at once, all hosts together (--parallel): a hard cap,
  // since image hosts ban clients over their connection limit. Requests past
  // it wait in submission order. 0: no cap.
  std::size_t max_in_flight = 0;
  // --bwlimit: bytes per second, each direction, all transfers together. 0: none.
  std::uint64_t max_bytes_per_second = 0;
};

std::string_view method_name(Method method);

}  // namespace sx::net
