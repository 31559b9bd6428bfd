#include "net/event_loop.h"

#include <curl/curl.h>

#include <asio.hpp>
#include <atomic>
#include <deque>
#include <optional>
#include <unordered_set>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <unordered_map>

#include "base/exception_error.h"
#include "net/http_error.h"
#include "net/rate_limiter.h"
#include "net/request_setup.h"
#include "net/transfer.h"
#include "net/transfer_body.h"
#include "net/url_redaction.h"

namespace sx::net {
namespace {

struct MultiCleanup {
  void operator()(CURLM* m) const noexcept { curl_multi_cleanup(m); }
};
using MultiHandle = std::unique_ptr<CURLM, MultiCleanup>;

}  // namespace

struct BackoffTimer {
  explicit BackoffTimer(asio::io_context& io) : timer(io) {}
  asio::steady_timer timer;
};
void BackoffTimerDelete::operator()(BackoffTimer* timer) const noexcept { delete timer; }

namespace {

// A socket curl asked us to watch. Curl owns the descriptor: we release it,
// never close it.
struct Watch {
  explicit Watch(asio::io_context& io) : descriptor(io) {}
  asio::posix::stream_descriptor descriptor;
  int action = 0;
  bool reading = false;
  bool writing = false;
  bool removed = false;
};

}  // namespace

std::string_view method_name(Method method) {
  switch (method) {
    case Method::kGet: return "GET";
    case Method::kPut: return "PUT";
    case Method::kPost: return "POST";
    case Method::kDelete: return "DELETE";
    case Method::kHead: return "HEAD";
  }
  return "?";
}

struct EventLoop::Impl {
  explicit Impl(TransferOptions opts)
      : options(opts), policy(opts.retry), upload_limit(opts.max_bytes_per_second),
        download_limit(opts.max_bytes_per_second) {
    proxied = !options.proxy.empty();
    for (const char* name : {"http_proxy", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"})
      if (const char* value = std::getenv(name); value && *value) proxied = true;
  }

  TransferOptions options;
  RetryPolicy policy;
  RetryObserver observer;
  RateLimiter upload_limit;
  RateLimiter download_limit;
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> work{io.get_executor()};
  asio::steady_timer curl_timer{io};
  asio::steady_timer resume_timer{io};  // --bwlimit: resumes paused transfers
  bool resume_armed = false;
  asio::steady_timer stall_timer{io};  // the stall watch's tick
  bool stall_armed = false;
  std::unordered_map<curl_socket_t, std::shared_ptr<Watch>> watches;
  // Loop thread only, like everything below.
  std::unordered_map<Transfer*, std::unique_ptr<Transfer>> transfers;  // in multi or backing off
  std::deque<std::unique_ptr<Transfer>> waiting;                       // past max_in_flight
  std::unordered_set<OperationId> cancelled_operations;
  std::unordered_set<OperationId> public_only_operations;  // restrict_to_public
  bool proxied = false;  // a proxy is configured (option or environment): it makes the connections
  bool shutting_down = false;
  // Declared after the timer and watches its callbacks touch: destroyed first
  // (curl_multi_cleanup may call on_socket).
  MultiHandle multi;
  std::thread thread;

  Status start_loop() {
    multi.reset(curl_multi_init());
    if (!multi) return make_error(Errc::kIo, "libcurl cannot create a multi handle");
    CURLMcode code = CURLM_OK;
    const auto set = [&](CURLMoption option, auto value) {
      if (code == CURLM_OK) code = curl_multi_setopt(multi.get(), option, value);
    };
    set(CURLMOPT_SOCKETFUNCTION, &Impl::on_socket);
    set(CURLMOPT_SOCKETDATA, this);
    set(CURLMOPT_TIMERFUNCTION, &Impl::on_timer);
    set(CURLMOPT_TIMERDATA, this);
    if (options.max_host_connections > 0)
      set(CURLMOPT_MAX_HOST_CONNECTIONS, static_cast<long>(options.max_host_connections));
    if (options.max_in_flight > 0)
      set(CURLMOPT_MAX_TOTAL_CONNECTIONS, static_cast<long>(options.max_in_flight));
    set(CURLMOPT_PIPELINING, options.http1_only ? long{CURLPIPE_NOTHING} : long{CURLPIPE_MULTIPLEX});

    if (code != CURLM_OK)
      return make_error(Errc::kIo, std::string("libcurl refused a multi option: ") + curl_multi_strerror(code));
    thread = std::thread([this] { io.run(); });
    return {};
  }

  void shutdown() {
    shutting_down = true;
    fail_matching([](const Transfer&) { return true; }, Errc::kCancelled, "cancelled");
    multi.reset();  // may call on_socket: watches are still alive
    for (auto& [fd, watch] : watches) {
      watch->removed = true;
      watch->descriptor.release();
    }
    watches.clear();
    curl_timer.cancel();
    resume_timer.cancel();
    stall_timer.cancel();
    work.reset();
  }

  // Fails every transfer, running or waiting, that `match` selects.
  template <class Match>
  void fail_matching(const Match& match, Errc code, const std::string& why) {
    std::vector<std::unique_ptr<Transfer>> failed;
    for (auto it = transfers.begin(); it != transfers.end();) {
      if (!match(*it->second)) {
        ++it;
        continue;
      }
      Transfer& t = *it->second;
      if (t.backoff) t.backoff->timer.cancel();
      if (multi) curl_multi_remove_handle(multi.get(), t.easy.get());
      failed.push_back(std::move(it->second));
      it = transfers.erase(it);
    }
    for (auto it = waiting.begin(); it != waiting.end();) {
      if (!match(**it)) {
        ++it;
        continue;
      }
      failed.push_back(std::move(*it));
      it = waiting.erase(it);
    }
    for (auto& t : failed) t->done(make_error(code, why + ": " + url_for_messages(t->request.url)));
    start_waiting();
  }

  // ---- curl callbacks: record and return; never call back into curl ----

  static int on_socket(CURL*, curl_socket_t fd, int what, void* user, void*) {
    auto* self = static_cast<Impl*>(user);
    auto it = self->watches.find(fd);
    if (what == CURL_POLL_REMOVE) {
      if (it != self->watches.end()) {
        it->second->removed = true;
        it->second->descriptor.release();
        self->watches.erase(it);
      }
      return 0;
    }
    if (it == self->watches.end()) {
      auto watch = std::make_shared<Watch>(self->io);
      asio::error_code ec;
      watch->descriptor.assign(fd, ec);
      if (ec) return -1;
      it = self->watches.emplace(fd, std::move(watch)).first;
    }
    it->second->action = what;
    self->arm(fd, it->second);
    return 0;
  }

  static int on_timer(CURLM*, long timeout_ms, void* user) {
    auto* self = static_cast<Impl*>(user);
    if (timeout_ms < 0) {
      self->curl_timer.cancel();
      return 0;
    }
    self->curl_timer.expires_after(std::chrono::milliseconds(timeout_ms));
    self->curl_timer.async_wait([self](const asio::error_code& ec) {
      if (!ec && self->multi) self->socket_action(CURL_SOCKET_TIMEOUT, 0);
    });
    return 0;
  }

  // ---- loop side ----

  void arm(curl_socket_t fd, const std::shared_ptr<Watch>& watch) {
    if ((watch->action & CURL_POLL_IN) && !watch->reading) {
      watch->reading = true;
      watch->descriptor.async_wait(asio::posix::stream_descriptor::wait_read,
                                   [this, fd, watch](const asio::error_code& ec) {
                                     watch->reading = false;
                                     if (ec || watch->removed) return;
                                     if (watch->action & CURL_POLL_IN)
                                       socket_action(fd, CURL_CSELECT_IN);
                                     if (!watch->removed) arm(fd, watch);
                                   });
    }
    if ((watch->action & CURL_POLL_OUT) && !watch->writing) {
      watch->writing = true;
      watch->descriptor.async_wait(asio::posix::stream_descriptor::wait_write,
                                   [this, fd, watch](const asio::error_code& ec) {
                                     watch->writing = false;
                                     if (ec || watch->removed) return;
                                     if (watch->action & CURL_POLL_OUT)
                                       socket_action(fd, CURL_CSELECT_OUT);
                                     if (!watch->removed) arm(fd, watch);
                                   });
    }
  }

  void socket_action(curl_socket_t fd, int events) {
    int running = 0;
    const CURLMcode code = curl_multi_socket_action(multi.get(), fd, events, &running);
    collect_finished();
    arm_resume();
    if (code != CURLM_OK && code != CURLM_BAD_SOCKET)  // a socket curl just closed is harmless
      fail_matching([](const Transfer&) { return true; }, Errc::kIo,
                    std::string("libcurl failed: ") + curl_multi_strerror(code));
  }

  // Paused transfers (empty bucket) are resumed when tokens are back.
  void arm_resume() {
    if (resume_armed || (!upload_limit.limited() && !download_limit.limited())) return;
    bool any_paused = false;
    for (auto& [raw, t] : transfers) any_paused = any_paused || t->paused;
    if (!any_paused) return;
    resume_armed = true;
    resume_timer.expires_after(std::max(upload_limit.wait(), download_limit.wait()));
    resume_timer.async_wait([this](const asio::error_code& ec) {
      resume_armed = false;
      if (ec || !multi) return;
      std::vector<Transfer*> paused;
      for (auto& [raw, t] : transfers)
        if (t->paused) paused.push_back(raw);
      for (Transfer* t : paused) {
        if (!transfers.count(t)) continue;  // finished meanwhile
        t->paused = false;
        curl_easy_pause(t->easy.get(), CURLPAUSE_CONT);  // may pause it again at once
      }
      collect_finished();
      arm_resume();
    });
  }

  // The stall watch: a transfer that moved fewer than stall_bytes in
  // stall_timeout is ended as a stall and retried like a timeout. Measured
  // from the last time it moved that much, on a tick of our own: curl's
  // low-speed check averages over its last 5 s and runs only when the handle
  // is woken, so a host that took the socket buffer and then fell silent
  // went unseen for several seconds more (bench/silent_host.sh).
  void arm_stall_watch() {
    if (stall_armed || transfers.empty() || options.stall_timeout.count() <= 0) return;
    stall_armed = true;
    const auto tick = std::min<std::chrono::milliseconds>(std::chrono::milliseconds(500), options.stall_timeout / 4);
    stall_timer.expires_after(std::max(tick, std::chrono::milliseconds(10)));
    stall_timer.async_wait([this](const asio::error_code& ec) {
      stall_armed = false;
      if (ec || !multi) return;
      end_stalled();
      arm_stall_watch();
    });
  }

  void end_stalled() {
    const auto now = std::chrono::steady_clock::now();
    std::vector<Transfer*> stalled;
    for (auto& [raw, t] : transfers) {
      if (!t->in_multi) continue;  // backing off between attempts
      curl_off_t up = 0, down = 0, connected = 0;
      curl_easy_getinfo(t->easy.get(), CURLINFO_SIZE_UPLOAD_T, &up);
      curl_easy_getinfo(t->easy.get(), CURLINFO_SIZE_DOWNLOAD_T, &down);
      curl_easy_getinfo(t->easy.get(), CURLINFO_PRETRANSFER_TIME_T, &connected);
      const curl_off_t moved = up + down;
      // Connecting has its own timeout; a paused transfer waits for tokens.
      if (connected == 0 || t->paused || moved - t->progress_bytes >= std::max<curl_off_t>(1, t->stall_bytes)) {
        t->progress_mark = now;
        t->progress_bytes = moved;
      } else if (now - t->progress_mark >= options.stall_timeout) {
        stalled.push_back(raw);
      }
    }
    for (Transfer* t : stalled) {
      curl_multi_remove_handle(multi.get(), t->easy.get());
      t->in_multi = false;
      t->stalled = true;
      finished(*t, CURLE_OPERATION_TIMEDOUT);
    }
  }

  bool is_cancelled(const Transfer& t) const {
    return shutting_down || (t.request.operation != 0 && cancelled_operations.count(t.request.operation));
  }

  void begin(std::unique_ptr<Transfer> owned) {
    if (is_cancelled(*owned)) {
      owned->done(make_error(Errc::kCancelled, "cancelled: " + url_for_messages(owned->request.url)));
      return;
    }
    if (options.max_in_flight > 0 && transfers.size() >= options.max_in_flight) {
      waiting.push_back(std::move(owned));
      return;
    }
    Transfer* t = owned.get();
    transfers.emplace(t, std::move(owned));
    attempt(*t);
  }

  // Starts waiting transfers while there is room under max_in_flight.
  void start_waiting() {
    while (!waiting.empty() && !shutting_down &&
           (options.max_in_flight == 0 || transfers.size() < options.max_in_flight)) {
      std::unique_ptr<Transfer> next = std::move(waiting.front());
      waiting.pop_front();
      begin(std::move(next));
    }
  }

  // Sets up the easy handle and hands it to the multi handle; a failure of
  // libcurl here completes the transfer (it would otherwise wait forever).
  void attempt(Transfer& t) {
    if (!t.easy) t.easy.reset(curl_easy_init());
    if (!t.easy) return complete(t, make_error(Errc::kIo, "libcurl cannot create a transfer"));
    CURL* e = t.easy.get();
    curl_easy_reset(e);
    t.upload_limit = upload_limit.limited() ? &upload_limit : nullptr;
    t.download_limit = download_limit.limited() ? &download_limit : nullptr;
    t.reset_for_attempt();
    const Request& r = t.request;
    const bool public_only = !proxied && r.operation != 0 && public_only_operations.count(r.operation) > 0;
    if (auto ready = set_up_request(t, options, public_only); !ready) return complete(t, std::move(ready).error());
    if (const CURLMcode added = curl_multi_add_handle(multi.get(), e); added != CURLM_OK)
      return complete(t, make_error(Errc::kIo, std::string(method_name(r.method)) + " " + url_for_messages(r.url) +
                                                   ": libcurl cannot start the transfer: " + curl_multi_strerror(added)));
    t.in_multi = true;
    arm_stall_watch();
  }


  void collect_finished() {
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi.get(), &left)) {
      if (msg->msg != CURLMSG_DONE) continue;
      CURL* e = msg->easy_handle;
      const CURLcode code = msg->data.result;
      Transfer* t = nullptr;
      curl_easy_getinfo(e, CURLINFO_PRIVATE, &t);
      curl_multi_remove_handle(multi.get(), e);
      t->in_multi = false;
      finished(*t, code);
    }
  }

  void finished(Transfer& t, CURLcode code) {
    CURL* e = t.easy.get();
    // A short body never reached the head's size: judge it whole.
    if (code == CURLE_OK && t.request.check_body && !t.judged && !judge(t) && !t.refused) t.overflow = true;
    if (t.refused) {
      Error refused = std::move(*t.refused);
      refused.message = std::string(method_name(t.request.method)) + " " + url_for_messages(t.request.url) +
                        ": " + refused.message;
      return complete(t, std::move(refused));
    }
    long status = 0;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    if (code == CURLE_OK && !t.overflow && status >= 200 && status < 300) {
      policy.on_success();
      Response response{status, t.received, std::move(t.text), t.retries};
      complete(t, std::move(response));
      return;
    }
    std::string_view error_body = t.text;
    if (!t.request.response_buffer.empty())
      error_body = std::string_view(reinterpret_cast<const char*>(t.request.response_buffer.data()),
                                    std::min<std::size_t>(t.received, 4096));
    Errc errc = t.overflow || code == CURLE_FILESIZE_EXCEEDED ? Errc::kLimit
                                                              : classify_transfer(code, status, s3_error_code(error_body));
    std::string message;
    if (t.overflow || code == CURLE_FILESIZE_EXCEEDED) {
      message = "response larger than a piece can be, refused";
    } else if (code == CURLE_UNSUPPORTED_PROTOCOL && t.request.url.rfind("https:", 0) == 0) {
      message = "refused a redirect away from https (a downgrade would expose the transfer)";
    } else if (t.stalled) {
      message = "stalled: fewer than " + std::to_string(t.stall_bytes) + " bytes moved in " +
                std::to_string(options.stall_timeout.count()) + " s (--stall-timeout)";
    } else if (code != CURLE_OK) {
      message = redact_userinfo(t.errbuf[0] ? t.errbuf : curl_easy_strerror(code));
      if (code == CURLE_PEER_FAILED_VERIFICATION || code == CURLE_SSL_CACERT_BADFILE)
        message += "; to trust a private CA give --cacert FILE or --capath DIR (or SSL_CERT_FILE, SSL_CERT_DIR, "
                   "CURL_CA_BUNDLE; AWS_CA_BUNDLE for S3)";
    } else {
      message = "HTTP " + std::to_string(status) + describe_error_body(error_body);
    }
    curl_off_t retry_after_s = 0;
    curl_easy_getinfo(e, CURLINFO_RETRY_AFTER, &retry_after_s);
    curl_off_t uploaded = 0;
    curl_easy_getinfo(e, CURLINFO_SIZE_UPLOAD_T, &uploaded);
    std::optional<std::chrono::seconds> retry_after;
    if (retry_after_s > 0) retry_after = std::chrono::seconds(retry_after_s);
    RetryDecision decision = policy.decide(errc, code, status, t.retries, retry_after,
                                           t.request.idempotency, uploaded > 0 || t.read_offset > 0);
    if (t.request.max_retries >= 0 && t.retries >= t.request.max_retries) decision.retry = false;
    const std::string where = std::string(method_name(t.request.method)) + " " +
                              url_for_messages(t.request.url);
    if (decision.retry) {
      ++t.retries;
      if (observer) observer(url_for_messages(t.request.url), t.retries, message);
      if (!t.backoff) t.backoff.reset(new BackoffTimer(io));
      t.backoff->timer.expires_after(decision.delay);
      Transfer* raw = &t;
      t.backoff->timer.async_wait([this, raw](const asio::error_code& ec) {
        if (ec || !transfers.count(raw)) return;
        attempt(*raw);
      });
      return;
    }
    if (t.request.return_http_errors && code == CURLE_OK && !t.overflow) {
      Response response{status, t.received, std::string(error_body), t.retries};
      response.error_class = errc;
      complete(t, std::move(response));
      return;
    }
    if (!decision.why_not.empty()) message += "; " + decision.why_not;
    complete(t, make_error(errc, where + ": " + message));
  }

  void complete(Transfer& t, Result<Response> result) {
    auto it = transfers.find(&t);
    std::unique_ptr<Transfer> owned = std::move(it->second);
    transfers.erase(it);
    owned->done(std::move(result));
    start_waiting();
  }
};

Result<std::unique_ptr<EventLoop>> EventLoop::create(TransferOptions options) {
  std::unique_ptr<EventLoop> loop(new EventLoop(options));
  if (auto started = loop->impl_->start_loop(); !started) return std::move(started).error();
  return loop;
}

EventLoop::EventLoop(TransferOptions options) : impl_(std::make_unique<Impl>(options)) {}

EventLoop::~EventLoop() {
  if (!impl_->thread.joinable()) return;  // never started
  asio::post(impl_->io, [impl = impl_.get()] { impl->shutdown(); });
  impl_->thread.join();
}

void EventLoop::submit(Request request, Completion done) {
  auto t = std::make_unique<Transfer>();
  t->request = std::move(request);
  // The loop thread's barrier: a completion that throws is called once more
  // with the error it threw (completions forward errors; the engine's run
  // once, engine/core/contained_request.h), and the loop lives on.
  t->done = [done = std::move(done)](Result<Response> result) {
    try {
      done(std::move(result));
    } catch (...) {
      const Error error = error_from_exception(std::current_exception());
      try {
        done(error);
      } catch (...) {  // nothing left to tell
      }
    }
  };
  asio::post(impl_->io, [impl = impl_.get(), t = std::move(t)]() mutable { impl->begin(std::move(t)); });
}

void EventLoop::cancel(OperationId operation) {
  asio::post(impl_->io, [impl = impl_.get(), operation] {
    impl->cancelled_operations.insert(operation);
    impl->fail_matching([operation](const Transfer& t) { return t.request.operation == operation; },
                        Errc::kCancelled, "cancelled");
  });
}

void EventLoop::end_operation(OperationId operation) {
  asio::post(impl_->io, [impl = impl_.get(), operation] {
    impl->cancelled_operations.erase(operation);
    impl->public_only_operations.erase(operation);
  });
}

void EventLoop::restrict_to_public(OperationId operation) {
  asio::post(impl_->io, [impl = impl_.get(), operation] { impl->public_only_operations.insert(operation); });
}

void EventLoop::set_retry_observer(RetryObserver observer) { impl_->observer = std::move(observer); }

long EventLoop::retries() const { return impl_->policy.retries(); }

}  // namespace sx::net
