#include "net/request_setup.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <string>

#include "net/address_class.h"
#include "net/transfer_body.h"
#include "net/url_redaction.h"

namespace sx::net {
namespace {

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

CURLcode build_form(Transfer& t) {
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

}  // namespace

Status set_up_request(Transfer& t, const TransferOptions& options, bool public_only) {
  CURL* e = t.easy.get();
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
  t.stall_bytes = static_cast<curl_off_t>(low_speed) * static_cast<curl_off_t>(options.stall_timeout.count());
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
  if (!headers_ok) return make_error(Errc::kIo, "out of memory building request headers");
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
    return make_error(Errc::kInvalidArgument, std::string(method_name(r.method)) + " " + url_for_messages(r.url) +
                                                  ": libcurl refused an option: " + curl_easy_strerror(code));
  return {};
}

}  // namespace sx::net
