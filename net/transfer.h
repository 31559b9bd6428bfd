// One request on its way through the event loop: the request, its easy
// handle, and what its attempts have received so far. Internal to net/: the
// loop (scheduling), request_setup (request building) and transfer_body
// (the body callbacks) share it.
#pragma once

#include <curl/curl.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "net/http.h"
#include "net/rate_limiter.h"

namespace sx::net {

struct BackoffTimer;  // the loop's (an Asio timer)
struct BackoffTimerDelete {
  void operator()(BackoffTimer* timer) const noexcept;
};

struct EasyCleanup {
  void operator()(CURL* h) const noexcept { curl_easy_cleanup(h); }
};
using EasyHandle = std::unique_ptr<CURL, EasyCleanup>;
struct SlistFree {
  void operator()(curl_slist* list) const noexcept { curl_slist_free_all(list); }
};
struct MimeFree {
  void operator()(curl_mime* mime) const noexcept { curl_mime_free(mime); }
};

struct Transfer {
  RateLimiter* upload_limit = nullptr;    // the loop's buckets (--bwlimit)
  RateLimiter* download_limit = nullptr;
  bool paused = false;  // waits for tokens; the loop resumes it
  Request request;
  Completion done;
  EasyHandle easy;
  std::unique_ptr<curl_slist, SlistFree> headers;
  std::unique_ptr<curl_mime, MimeFree> mime;
  std::size_t read_offset = 0;
  std::size_t received = 0;
  bool overflow = false;
  std::string text;
  bool judged = false;                // check_body has seen the head
  std::size_t allowed = SIZE_MAX;     // what check_body allows in all
  std::optional<Error> refused;       // check_body's (or the body sink's) verdict, when it refused
  bool sink_declined = false;         // the body sink let the body go to response_buffer
  int retries = 0;
  char errbuf[CURL_ERROR_SIZE] = {};
  std::unique_ptr<BackoffTimer, BackoffTimerDelete> backoff;  // between attempts
  // The stall watch (EventLoop): when the transfer last moved stall_bytes.
  std::chrono::steady_clock::time_point progress_mark{};
  curl_off_t progress_bytes = 0;
  curl_off_t stall_bytes = 0;  // what must move in stall_timeout, else a stall
  bool stalled = false;        // ended by the stall watch
  bool in_multi = false;       // in the multi handle (not backing off, not waiting)

  void reset_for_attempt();  // the state one attempt leaves behind
};

}  // namespace sx::net
