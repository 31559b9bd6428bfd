#include "net/event_loop.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

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
#include "net/address_class.h"
#include "net/http_error.h"
#include "net/rate_limiter.h"

namespace sx::net {
namespace {

struct EasyCleanup {
  void operator()(CURL* h) const noexcept { curl_easy_cleanup(h); }
};
using EasyHandle = std::unique_ptr<CURL, EasyCleanup>;
struct SlistFree {
  void operator()(curl_slist* list) const noexcept { curl_slist_free_all(list); }
};
struct MultiCleanup {
  void operator()(CURLM* m) const noexcept { curl_multi_cleanup(m); }
};
using MultiHandle = std::unique_ptr<CURLM, MultiCleanup>;
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
  std::unique_ptr<asio::steady_timer> backoff;
};

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

// CURLOPT_OPENSOCKETFUNCTION for requests that may reach public addresses
// only: an internal one (after DNS, on any redirect) refuses the request,
// never retried, before a packet is sent.
curl_socket_t open_public_socket(void* data, curlsocktype, curl_sockaddr* address) {
  auto& t = *static_cast<Transfer*>(data);
  if (is_internal_address(&address->addr)) {
    char shown[INET6_ADDRSTRLEN] = "?";
    if (address->family == AF_INET)
      ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&address->addr)->sin_addr, shown, sizeof shown);
    else if (address->family == AF_INET6)
      ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&address->addr)->sin6_addr, shown, sizeof shown);
    t.refused = Error{Errc::kDenied, std::string("refused to connect to the internal address ") + shown +
                                         ": a key that is not on a private network may not reach one "
                                         "(--allow-private-addresses allows it)"};
    return CURL_SOCKET_BAD;
  }
  return ::socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
}

// The body so far, wherever it lands.
std::span<const std::byte> body_so_far(const Transfer& t) {
  if (!t.request.response_buffer.empty()) return t.request.response_buffer.first(t.received);
  return std::as_bytes(std::span<const char>(t.text.data(), t.text.size()));
}

// Runs check_body once the head of a 2xx body is in (or at its end).
bool judge(Transfer& t) {
  t.judged = true;
  long status = 0;
  curl_easy_getinfo(t.easy.get(), CURLINFO_RESPONSE_CODE, &status);
  if (status < 200 || status >= 300) return true;
  const char* type = nullptr;
  curl_easy_getinfo(t.easy.get(), CURLINFO_CONTENT_TYPE, &type);
  auto verdict = t.request.check_body(body_so_far(t), type ? std::string_view(type) : std::string_view());
  if (!verdict) {
    t.refused = std::move(verdict).error();
    return false;
  }
  t.allowed = *verdict;
  return t.received <= t.allowed;
}

size_t on_body(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::size_t n = size * count;
  if (t->download_limit && !t->download_limit->take(n)) {
    t->paused = true;
    return CURL_WRITEFUNC_PAUSE;  // curl keeps the chunk and hands it again on resume
  }
  std::span<std::byte> buffer = t->request.response_buffer;
  if (t->request.body_sink && !t->sink_declined) {
    long status = 0;
    curl_easy_getinfo(t->easy.get(), CURLINFO_RESPONSE_CODE, &status);
    auto took = status >= 200 && status < 300 ? t->request.body_sink->offer(std::as_bytes(std::span(data, n)))
                                              : Result<BodySink::Take>(BodySink::Take::kDeclined);
    if (!took) {
      t->refused = std::move(took).error();
      return 0;
    }
    if (*took == BodySink::Take::kTaken) {
      t->received += n;
      t->judged = true;  // the sink judges what it takes
      return n;
    }
    t->sink_declined = true;
    t->judged = false;
    const auto held = status >= 200 && status < 300 ? t->request.body_sink->held() : std::span<const std::byte>();
    if (held.size() > buffer.size()) {
      t->overflow = true;
      return 0;
    }
    if (!held.empty()) std::memcpy(buffer.data(), held.data(), held.size());
    t->received = held.size();
  }
  const std::size_t room = buffer.empty() ? t->request.max_text_bytes - t->text.size() : buffer.size() - t->received;
  if (n > room || t->received + n > t->allowed) {
    t->overflow = true;
    return 0;  // aborts with CURLE_WRITE_ERROR
  }
  if (!buffer.empty()) std::memcpy(buffer.data() + t->received, data, n);
  else t->text.append(data, n);
  t->received += n;
  if (t->request.check_body && !t->judged && t->received >= kBodyHeadBytes && !judge(*t)) {
    if (!t->refused) t->overflow = true;
    return 0;
  }
  return n;
}

size_t on_read(char* out, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::size_t n = std::min(size * count, t->request.body.size() - t->read_offset);
  if (t->upload_limit && n > 0) {
    n = std::min<std::size_t>(n, 64 << 10);  // small chunks keep the cap smooth
    if (!t->upload_limit->take(n)) {
      t->paused = true;
      return CURL_READFUNC_PAUSE;
    }
  }
  std::memcpy(out, t->request.body.data() + t->read_offset, n);
  t->read_offset += n;
  return n;
}

int on_seek(void* user, curl_off_t offset, int origin) {
  auto* t = static_cast<Transfer*>(user);
  if (origin != SEEK_SET || offset < 0 || static_cast<std::size_t>(offset) > t->request.body.size())
    return CURL_SEEKFUNC_CANTSEEK;
  t->read_offset = static_cast<std::size_t>(offset);
  return CURL_SEEKFUNC_OK;
}

// Drops "user:password@" from every URL in `text` (a proxy's credentials in
// a libcurl message never reach a log).
std::string redact_userinfo(std::string text) {
  for (std::size_t scheme = text.find("://"); scheme != std::string::npos; scheme = text.find("://", scheme + 3)) {
    const std::size_t start = scheme + 3;
    const std::size_t end = text.find_first_of("/ ?#\"'", start);
    const std::size_t at = text.rfind('@', end == std::string::npos ? text.size() : end);
    if (at != std::string::npos && at >= start && (end == std::string::npos || at < end))
      text.replace(start, at + 1 - start, "");
  }
  return text;
}

// Redacts the query string (presigned URLs carry their signature there) and
// any credentials.
std::string url_for_messages(const std::string& url) {
  const auto query = url.find('?');
  return redact_userinfo(query == std::string::npos ? url : url.substr(0, query) + "?…");
}

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
      if (t.backoff) t.backoff->cancel();
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
    t.paused = false;
    t.read_offset = 0;
    t.received = 0;
    t.overflow = false;
    t.judged = false;
    t.allowed = SIZE_MAX;
    t.refused.reset();
    t.sink_declined = false;
    if (t.request.body_sink) t.request.body_sink->restart();
    t.text.clear();
    t.errbuf[0] = '\0';
    CURLcode code = CURLE_OK;
    const auto set = [&](CURLoption option, auto value) {
      if (code == CURLE_OK) code = curl_easy_setopt(e, option, value);
    };
    const Request& r = t.request;
    set(CURLOPT_URL, r.url.c_str());
    set(CURLOPT_PRIVATE, &t);
    set(CURLOPT_NOSIGNAL, 1L);
    set(CURLOPT_ERRORBUFFER, t.errbuf);
    set(CURLOPT_PROTOCOLS_STR, "http,https");
    // Redirects never downgrade: an https key only follows https.
    const bool https = r.url.rfind("https:", 0) == 0;
    set(CURLOPT_REDIR_PROTOCOLS_STR, https ? "https" : "http,https");
    set(CURLOPT_FOLLOWLOCATION, r.method == Method::kGet ? 1L : 0L);
    const bool public_only = !proxied && r.operation != 0 && public_only_operations.count(r.operation) > 0;
    set(CURLOPT_OPENSOCKETFUNCTION, public_only ? &open_public_socket : nullptr);
    set(CURLOPT_OPENSOCKETDATA, public_only ? &t : nullptr);
    set(CURLOPT_MAXREDIRS, options.max_redirects);
    set(CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options.connect_timeout.count()));
    // Under --bwlimit a transfer may rightly crawl: its share of the cap, not a stall.
    long low_speed = options.low_speed_bytes;
    if (options.max_bytes_per_second > 0) {
      const std::uint64_t share =
          options.max_bytes_per_second / (2 * std::max<std::size_t>(1, options.max_in_flight));
      low_speed = std::min<long>(low_speed, static_cast<long>(std::max<std::uint64_t>(1, share)));
    }
    set(CURLOPT_LOW_SPEED_LIMIT, low_speed);
    set(CURLOPT_LOW_SPEED_TIME, static_cast<long>(options.stall_timeout.count()));
    set(CURLOPT_TIMEOUT_MS, static_cast<long>(options.request_timeout.count() * 1000));
    set(CURLOPT_TCP_KEEPALIVE, 1L);
    set(CURLOPT_BUFFERSIZE, 256L * 1024);
    set(CURLOPT_UPLOAD_BUFFERSIZE, 1024L * 1024);
    set(CURLOPT_WRITEFUNCTION, &on_body);
    set(CURLOPT_WRITEDATA, &t);
    // A Content-Length past what the body may be is refused before a byte is read.
    const std::size_t max_body = r.response_buffer.empty() ? r.max_text_bytes : r.response_buffer.size();
    set(CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(max_body));
    if (options.insecure) {
      set(CURLOPT_SSL_VERIFYPEER, 0L);
      set(CURLOPT_SSL_VERIFYHOST, 0L);
    }
    const std::string& ca_file = r.ca_file.empty() ? options.ca_file : r.ca_file;
    if (!ca_file.empty()) set(CURLOPT_CAINFO, ca_file.c_str());
    if (!options.ca_path.empty()) set(CURLOPT_CAPATH, options.ca_path.c_str());
    if (!options.proxy.empty()) set(CURLOPT_PROXY, options.proxy.c_str());
    // HTTP/2 over TLS when offered, and wait for a connection that can
    // multiplex rather than open another: --parallel 32 to one host then
    // runs over a few connections.
    set(CURLOPT_HTTP_VERSION, options.http1_only ? long{CURL_HTTP_VERSION_1_1} : long{CURL_HTTP_VERSION_2TLS});
    // Only over TLS, where HTTP/2 can be negotiated: on plain http:// waiting
    // would serialize the requests to a host.
    set(CURLOPT_PIPEWAIT, !options.http1_only && https ? 1L : 0L);
    curl_slist* headers = nullptr;
    bool headers_ok = true;
    const auto add_header = [&](const char* line) {
      curl_slist* longer = curl_slist_append(headers, line);
      if (!longer) headers_ok = false;
      else headers = longer;
    };
    for (const std::string& h : r.headers) add_header(h.c_str());
    if (r.method == Method::kPost) {
      // Image hosts refuse often (413, 401, 429): with 100-continue they say
      // so before the body is sent, instead of resetting mid-body and losing
      // the status. Bounded: curl sends anyway after 1 s without an answer.
      set(CURLOPT_EXPECT_100_TIMEOUT_MS, 1000L);
    } else if (r.aws_sigv4.empty()) {
      add_header("Expect:");  // no 100-continue stall
    } else {
      // libcurl 7.88's SigV4 signs an "Expect:" removal as an empty header the
      // server never sees (SignatureDoesNotMatch): keep the header, never wait.
      set(CURLOPT_EXPECT_100_TIMEOUT_MS, 0L);
    }
    t.headers.reset(headers);
    if (!headers_ok) return complete(t, make_error(Errc::kIo, "out of memory building request headers"));
    set(CURLOPT_HTTPHEADER, headers);
    if (!r.aws_sigv4.empty()) {
      set(CURLOPT_AWS_SIGV4, r.aws_sigv4.c_str());
      set(CURLOPT_USERPWD, r.userpwd.c_str());
    }
    switch (r.method) {
      case Method::kGet:
        set(CURLOPT_HTTPGET, 1L);
        break;
      case Method::kHead:
        set(CURLOPT_NOBODY, 1L);
        break;
      case Method::kDelete:
        set(CURLOPT_CUSTOMREQUEST, "DELETE");
        break;
      case Method::kPut:
        set(CURLOPT_UPLOAD, 1L);
        set(CURLOPT_READFUNCTION, &on_read);
        set(CURLOPT_READDATA, &t);
        set(CURLOPT_SEEKFUNCTION, &on_seek);
        set(CURLOPT_SEEKDATA, &t);
        set(CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(r.body.size()));
        break;
      case Method::kPost:
        if (code == CURLE_OK) code = build_form(t);
        break;
    }
    if (code != CURLE_OK)
      return complete(t, make_error(Errc::kInvalidArgument, std::string(method_name(r.method)) + " " +
                                                               url_for_messages(r.url) + ": libcurl refused an option: " +
                                                               curl_easy_strerror(code)));
    if (const CURLMcode added = curl_multi_add_handle(multi.get(), e); added != CURLM_OK)
      return complete(t, make_error(Errc::kIo, std::string(method_name(r.method)) + " " + url_for_messages(r.url) +
                                                   ": libcurl cannot start the transfer: " + curl_multi_strerror(added)));
  }

  static CURLcode build_form(Transfer& t) {
    CURL* e = t.easy.get();
    curl_mime* mime = curl_mime_init(e);
    if (!mime) return CURLE_OUT_OF_MEMORY;
    t.mime.reset(mime);
    CURLcode code = CURLE_OK;
    for (const FormPart& field : t.request.form) {
      curl_mimepart* part = curl_mime_addpart(mime);
      if (!part) return CURLE_OUT_OF_MEMORY;
      const auto check = [&](CURLcode c) {
        if (code == CURLE_OK) code = c;
      };
      check(curl_mime_name(part, field.name.c_str()));
      if (field.file) {
        // Streams the caller's buffer: a known size, so curl sends Content-Length.
        check(curl_mime_data_cb(part, static_cast<curl_off_t>(t.request.body.size()), &on_read,
                                [](void* user, curl_off_t offset, int origin) {
                                  return on_seek(user, offset, origin);
                                },
                                nullptr, &t));
        check(curl_mime_filename(part, field.value.c_str()));
        if (!field.content_type.empty()) check(curl_mime_type(part, field.content_type.c_str()));
      } else {
        check(curl_mime_data(part, field.value.data(), field.value.size()));
      }
    }
    if (code != CURLE_OK) return code;
    return curl_easy_setopt(e, CURLOPT_MIMEPOST, mime);
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
      if (!t.backoff) t.backoff = std::make_unique<asio::steady_timer>(io);
      t.backoff->expires_after(decision.delay);
      Transfer* raw = &t;
      t.backoff->async_wait([this, raw](const asio::error_code& ec) {
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
