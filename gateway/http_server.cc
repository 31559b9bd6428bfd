// serve(): libmicrohttpd in thread-per-connection mode in front of the range
// reader (docs/GATEWAY.md). Each connection's thread may block: in the
// access handler while a manifest or the first piece is fetched, in the body
// callback while the next piece arrives, in the upload's pipe. Nothing here
// parses HTTP; routes, statuses and headers only.
#include "gateway/gateway.h"

#include <malloc.h>
#include <microhttpd.h>
#include <poll.h>

#include <atomic>
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <thread>

#include "base/exception_error.h"
#include "gateway/byte_range.h"
#include "gateway/file_headers.h"
#include "gateway/key_listing.h"
#include "gateway/key_opener.h"
#include "gateway/key_path.h"
#include "gateway/listen_address.h"
#include "gateway/manifest_cache.h"
#include "gateway/piece_cache.h"
#include "gateway/piece_fetcher.h"
#include "gateway/range_reader.h"
#include "gateway/upload.h"

namespace sx::gateway {
namespace {

constexpr std::size_t kBlockBytes = 256 << 10;  // what MHD asks of the body callback at a time
constexpr std::size_t kMaxNameBytes = 255;

struct ResponseDeleter {
  void operator()(MHD_Response* r) const noexcept { MHD_destroy_response(r); }
};
using ResponseHandle = std::unique_ptr<MHD_Response, ResponseDeleter>;

// One request's state (MHD's con_cls), from its first call to its completion.
struct Request {
  std::string method;
  std::string path;  // decoded path, never the query (which holds the key)
  unsigned status = 0;
  std::shared_ptr<std::atomic<std::uint64_t>> sent = std::make_shared<std::atomic<std::uint64_t>>(0);
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  std::unique_ptr<Upload> upload;
  std::optional<Error> upload_error;
  bool holds_upload_slot = false;
  bool answered = false;
};

bool peer_closed(int fd) {
  if (fd < 0) return false;
  pollfd p{fd, POLLRDHUP, 0};
  return ::poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  const std::size_t n = std::min(a.size(), b.size());
  for (std::size_t i = 0; i < n; ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

std::string printable(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 300)) out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
  return out;
}

class Server {
 public:
  Server(const GatewayOptions& options, const ServeHooks& hooks, const MemoryBudget& budget)
      : options_(options), hooks_(hooks), cache_(budget.pieces), manifests_(budget.manifests) {}

  Status run();

 private:
  static MHD_Result on_request(void* cls, MHD_Connection* c, const char* url, const char* method, const char* version,
                               const char* upload_data, std::size_t* upload_data_size, void** con_cls);
  static void on_completed(void* cls, MHD_Connection* c, void** con_cls, MHD_RequestTerminationCode toe);
  void finish_request(Request& r, MHD_RequestTerminationCode toe);
  static void on_mhd_log(void* cls, const char* format, va_list ap);

  MHD_Result handle(MHD_Connection* c, Request& r, const char* upload_data, std::size_t* upload_data_size);
  // What serve_bytes answers with: a file, or a tree's file as a span of the key's stream.
  struct ServedFile {
    std::string name;  // for Content-Type and Content-Disposition
    std::uint64_t offset = 0;
    std::uint64_t size = 0;
    std::string etag;
    std::string last_modified;  // "" when the manifest records no time
  };
  MHD_Result handle_file(MHD_Connection* c, Request& r, bool head);
  MHD_Result handle_key_path(MHD_Connection* c, Request& r, bool head);
  MHD_Result serve_bytes(MHD_Connection* c, Request& r, bool head, std::shared_ptr<const OpenedFile> file,
                         const ServedFile& served);
  MHD_Result handle_upload(MHD_Connection* c, Request& r, const char* data, std::size_t* size);
  MHD_Result answer_text(MHD_Connection* c, Request& r, unsigned status, std::string_view text,
                         const std::function<void(MHD_Response*)>& headers = {});
  MHD_Result answer_failure(MHD_Connection* c, Request& r, const Error& error) {
    const HttpFailure f = http_failure(error);
    return answer_text(c, r, f.status, f.reason + "\n");
  }
  void log(std::string_view line) {
    std::lock_guard lock(log_mutex_);
    if (hooks_.log) hooks_.log(scrub_secrets(line));
  }

  const GatewayOptions& options_;
  const ServeHooks& hooks_;
  PieceCache cache_;
  ManifestCache manifests_;
  std::unique_ptr<PieceFetcher> fetcher_;
  std::unique_ptr<KeyOpener> opener_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> uploads_{0};
  std::mutex log_mutex_;  // guards calls of hooks_.log (lines are not interleaved)
};

// A response body: the range reader and the first bytes, read before the
// headers went out (so a key whose first piece fails gets a 502, not a cut body).
struct Body {
  std::atomic<bool>* stopping;
  int fd = -1;
  std::unique_ptr<RangeReader> reader;
  std::vector<std::byte> first;
  std::shared_ptr<std::atomic<std::uint64_t>> sent;
  std::function<void(std::string_view)> log;
};

ssize_t read_body_unguarded(Body* body, std::uint64_t position, char* buffer, std::size_t max);

// libmicrohttpd's content reader: no exception crosses its C frames (it
// would terminate the server); one cuts this response short, logged.
ssize_t read_body(void* cls, std::uint64_t position, char* buffer, std::size_t max) {
  auto* body = static_cast<Body*>(cls);
  try {
    return read_body_unguarded(body, position, buffer, max);
  } catch (...) {
    try {
      body->log("serve: response cut: " + error_from_exception(std::current_exception()).message);
    } catch (...) {
    }
    return MHD_CONTENT_READER_END_WITH_ERROR;
  }
}

ssize_t read_body_unguarded(Body* body, std::uint64_t position, char* buffer, std::size_t max) {
  std::size_t n = 0;
  if (position < body->first.size()) {
    n = std::min<std::size_t>(max, body->first.size() - position);
    std::memcpy(buffer, body->first.data() + position, n);
  } else {
    auto got = body->reader->read(position, {reinterpret_cast<std::byte*>(buffer), max},
                                  [body] { return body->stopping->load() || peer_closed(body->fd); });
    if (!got) {
      if (got.error().code != Errc::kCancelled) body->log("serve: response cut: " + got.error().message);
      return MHD_CONTENT_READER_END_WITH_ERROR;
    }
    if (*got == 0) return MHD_CONTENT_READER_END_OF_STREAM;
    n = *got;
  }
  *body->sent += n;
  return static_cast<ssize_t>(n);
}

void free_body(void* cls) { delete static_cast<Body*>(cls); }

MHD_Result Server::answer_text(MHD_Connection* c, Request& r, unsigned status, std::string_view text,
                               const std::function<void(MHD_Response*)>& headers) {
  ResponseHandle response(MHD_create_response_from_buffer(text.size(), const_cast<char*>(text.data()),
                                                          MHD_RESPMEM_MUST_COPY));
  if (!response) return MHD_NO;
  MHD_add_response_header(response.get(), "Content-Type", "text/plain; charset=utf-8");
  MHD_add_response_header(response.get(), "X-Content-Type-Options", "nosniff");
  if (headers) headers(response.get());
  r.status = status;
  r.answered = true;
  if (r.method != "HEAD") *r.sent += text.size();
  return MHD_queue_response(c, status, response.get());
}

MHD_Result Server::on_request(void* cls, MHD_Connection* c, const char* url, const char* method, const char*,
                              const char* upload_data, std::size_t* upload_data_size, void** con_cls) {
  auto* self = static_cast<Server*>(cls);
  auto* r = static_cast<Request*>(*con_cls);
  if (!r) {
    r = new Request;
    r->method = method;
    r->path = url;
    *con_cls = r;
    // Answered on the next call, once MHD has the whole request: a response
    // queued before makes it close the connection (no keep-alive).
    if (r->method != "PUT") return MHD_YES;
  }
  try {
    return self->handle(c, *r, upload_data, upload_data_size);
  } catch (...) {  // no exception crosses libmicrohttpd's C frames
    try {
      self->log("serve: " + error_from_exception(std::current_exception()).message);
    } catch (...) {
    }
    return MHD_NO;
  }
}

void Server::on_completed(void* cls, MHD_Connection*, void** con_cls, MHD_RequestTerminationCode toe) {
  auto* self = static_cast<Server*>(cls);
  std::unique_ptr<Request> r(static_cast<Request*>(*con_cls));
  *con_cls = nullptr;
  if (!r) return;
  try {
    self->finish_request(*r, toe);
  } catch (...) {  // the log line is lost, never the server
  }
}

void Server::finish_request(Request& request, MHD_RequestTerminationCode toe) {
  Request* r = &request;
  Server* self = this;
  if (r->upload) {
    r->upload->abort();  // a body not finished (the client left): nothing is kept
    r->upload.reset();
  }
  if (r->holds_upload_slot) --self->uploads_;
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - r->started).count();
  char line[128];
  std::snprintf(line, sizeof line, " %u %llu B %.3f s%s", r->status, static_cast<unsigned long long>(r->sent->load()),
                seconds, toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " (cut short)");
  self->log("serve: " + r->method + " " + printable(redact_key_path(r->path)) + line);
}

void Server::on_mhd_log(void* cls, const char* format, va_list ap) {
  char text[512];
  std::vsnprintf(text, sizeof text, format, ap);
  std::string line = text;
  while (!line.empty() && line.back() == '\n') line.pop_back();
  static_cast<Server*>(cls)->log("serve: libmicrohttpd: " + line);
}

MHD_Result Server::handle(MHD_Connection* c, Request& r, const char* upload_data, std::size_t* upload_data_size) {
  if (r.upload || r.upload_error) return handle_upload(c, r, upload_data, upload_data_size);
  // A body nothing here reads (a GET's, a refused PUT's): discarded.
  if (*upload_data_size > 0 && (r.method != "PUT" || r.answered)) {
    *upload_data_size = 0;
    return MHD_YES;
  }
  if (r.answered) return MHD_YES;
  const bool get = r.method == "GET", head = r.method == "HEAD";
  if (r.path == "/healthz") {
    if (!get && !head) return answer_text(c, r, 405, "method not allowed\n");
    return answer_text(c, r, 200, "ok\n");
  }
  if (!options_.token.empty()) {
    const char* auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    const std::string_view given = auth ? auth : "";
    if (given.substr(0, 7) != "Bearer " || !constant_time_equal(given.substr(7), options_.token))
      return answer_text(c, r, 401, "a bearer token is required\n",
                         [](MHD_Response* resp) { MHD_add_response_header(resp, "WWW-Authenticate", "Bearer"); });
  }
  if (r.path == "/file" || r.path.rfind("/file/", 0) == 0) {
    if (!get && !head)
      return answer_text(c, r, 405, "method not allowed\n",
                         [](MHD_Response* resp) { MHD_add_response_header(resp, "Allow", "GET, HEAD"); });
    return handle_file(c, r, head);
  }
  if (r.path.rfind(kKeyPathPrefix, 0) == 0) {
    if (!get && !head)
      return answer_text(c, r, 405, "method not allowed\n",
                         [](MHD_Response* resp) { MHD_add_response_header(resp, "Allow", "GET, HEAD"); });
    return handle_key_path(c, r, head);
  }
  if (r.path.rfind("/upload/", 0) == 0) {
    if (!options_.allow_upload) return answer_text(c, r, 403, "uploads are off (start serve with --allow-upload)\n");
    if (r.method != "PUT")
      return answer_text(c, r, 405, "method not allowed\n",
                         [](MHD_Response* resp) { MHD_add_response_header(resp, "Allow", "PUT"); });
    return handle_upload(c, r, upload_data, upload_data_size);
  }
  return answer_text(c, r, 404, "no such path (try /file?key=KEY, /file/NAME?key=KEY, /k/KEY/, /healthz)\n");
}

MHD_Result Server::handle_file(MHD_Connection* c, Request& r, bool head) {
  // With its length: a %00 in the key must not cut it short unseen.
  const char* key = nullptr;
  std::size_t key_size = 0;
  if (MHD_lookup_connection_value_n(c, MHD_GET_ARGUMENT_KIND, "key", 3, &key, &key_size) != MHD_YES) key = nullptr;
  auto opened = opener_->open(key ? std::string_view(key, key_size) : std::string_view());
  if (!opened) return answer_failure(c, r, opened.error());
  const codec::Manifest& m = (*opened)->manifest();
  ServedFile served{m.name, 0, m.size, etag(m, (*opened)->url()), {}};
  return serve_bytes(c, r, head, std::move(*opened), served);
}

MHD_Result Server::handle_key_path(MHD_Connection* c, Request& r, bool head) {
  auto path = parse_key_path(r.path);
  if (!path) return answer_failure(c, r, path.error());
  auto opened = opener_->open(path->key);
  if (!opened) return answer_failure(c, r, opened.error());
  const codec::Manifest& m = (*opened)->manifest();
  const KeyNode node = find_node(m, path->rest);
  if (node.kind == KeyNode::Kind::kMissing || (node.kind == KeyNode::Kind::kFile && path->directory))
    return answer_text(c, r, 404, "no such file or directory in this key\n");
  if (node.kind == KeyNode::Kind::kDirectory && !path->directory)  // as a web server does: links inside are relative
    return answer_text(c, r, 301, "a directory: its listing ends in /\n", [&](MHD_Response* resp) {
      MHD_add_response_header(resp, "Location", (std::string(last_component(r.path)) + "/").c_str());
    });
  if (node.kind == KeyNode::Kind::kDirectory) {
    const std::string html = listing_html(m, path->rest);
    return answer_text(c, r, 200, html, [](MHD_Response* resp) {
      MHD_del_response_header(resp, "Content-Type", "text/plain; charset=utf-8");
      MHD_add_response_header(resp, "Content-Type", "text/html; charset=utf-8");
      MHD_add_response_header(resp, "Content-Security-Policy", "sandbox");
    });
  }
  ServedFile served{node.name, node.offset, node.size,
                    m.is_tree() ? etag(m, (*opened)->url(), path->rest) : etag(m, (*opened)->url()),
                    node.mtime_ns ? http_date(*node.mtime_ns / 1'000'000'000) : std::string()};
  return serve_bytes(c, r, head, std::move(*opened), served);
}

MHD_Result Server::serve_bytes(MHD_Connection* c, Request& r, bool head, std::shared_ptr<const OpenedFile> file,
                               const ServedFile& served) {
  const std::uint64_t size = served.size;
  const std::string& tag = served.etag;
  const char* range_header = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Range");
  const char* if_range = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "If-Range");
  // If-Range with another validator (or a date: only the ETag is compared)
  // asks for the whole file.
  const bool range_allowed = !if_range || std::string_view(if_range) == tag;
  RangeAnswer answer = range_allowed && range_header ? parse_range(range_header, size) : RangeAnswer{};
  if (answer.kind == RangeKind::kUnsatisfiable)
    return answer_text(c, r, 416, "range not satisfiable\n", [&](MHD_Response* resp) {
      MHD_add_response_header(resp, "Content-Range", ("bytes */" + std::to_string(size)).c_str());
      MHD_add_response_header(resp, "Accept-Ranges", "bytes");
    });
  const bool partial = answer.kind == RangeKind::kSingle;
  ByteRange range = partial ? answer.range : ByteRange{0, size == 0 ? 0 : size - 1};
  const std::uint64_t length = size == 0 ? 0 : range.length();

  ResponseHandle response;
  if (length == 0 || head) {
    // HEAD: the headers of the GET, with its Content-Length, and no body.
    response.reset(length == 0 ? MHD_create_response_from_buffer(0, nullptr, MHD_RESPMEM_PERSISTENT)
                               : MHD_create_response_from_callback(
                                     length, kBlockBytes,
                                     [](void*, std::uint64_t, char*, std::size_t) -> ssize_t {
                                       return MHD_CONTENT_READER_END_WITH_ERROR;
                                     },
                                     nullptr, nullptr));
  } else {
    auto body = std::make_unique<Body>();
    body->stopping = &stopping_;
    const MHD_ConnectionInfo* info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    body->fd = info ? info->connect_fd : -1;
    // The reader counts in the key's stream: a tree's file is a span of it.
    const ByteRange in_stream{served.offset + range.first, served.offset + range.last};
    body->reader = std::make_unique<RangeReader>(cache_, *fetcher_, std::move(file), in_stream, options_.read_ahead,
                                                 std::chrono::seconds(options_.piece_wait_s));
    body->sent = r.sent;
    body->log = [this](std::string_view line) { log(line); };
    body->first.resize(std::min<std::uint64_t>(length, kBlockBytes));
    auto first = body->reader->read(0, body->first, [this, fd = body->fd] { return stopping_.load() || peer_closed(fd); });
    if (!first) return answer_failure(c, r, first.error());
    body->first.resize(*first);
    response.reset(MHD_create_response_from_callback(length, kBlockBytes, &read_body, body.get(), &free_body));
    if (response) body.release();  // MHD frees it with free_body
  }
  if (!response) return MHD_NO;
  MHD_Response* resp = response.get();
  MHD_add_response_header(resp, "Content-Type", content_type(served.name).c_str());
  MHD_add_response_header(resp, "Content-Disposition", content_disposition(served.name).c_str());
  MHD_add_response_header(resp, "Accept-Ranges", "bytes");
  MHD_add_response_header(resp, "ETag", tag.c_str());
  if (!served.last_modified.empty()) MHD_add_response_header(resp, "Last-Modified", served.last_modified.c_str());
  MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
  // A stored HTML file must not run scripts with the gateway's origin.
  MHD_add_response_header(resp, "Content-Security-Policy", "sandbox");
  if (partial)
    MHD_add_response_header(resp, "Content-Range",
                            ("bytes " + std::to_string(range.first) + "-" + std::to_string(range.last) + "/" +
                             std::to_string(size))
                                .c_str());
  r.status = partial ? 206 : 200;
  r.answered = true;
  return MHD_queue_response(c, r.status, resp);
}

MHD_Result Server::handle_upload(MHD_Connection* c, Request& r, const char* data, std::size_t* size) {
  if (!r.upload && !r.upload_error) {  // the first call: headers only
    const std::string name = r.path.substr(std::strlen("/upload/"));
    bool bad = name.empty() || name.size() > kMaxNameBytes || name == "." || name == "..";
    for (char ch : name) bad |= static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f || ch == '/' || ch == '\\';
    if (bad) return answer_text(c, r, 400, "the name after /upload/ must be 1..255 bytes, no '/' or controls\n");
    if (++uploads_ > options_.max_uploads) {
      --uploads_;
      return answer_text(c, r, 503, "too many uploads at once; try again later\n",
                         [](MHD_Response* resp) { MHD_add_response_header(resp, "Retry-After", "5"); });
    }
    r.holds_upload_slot = true;
    auto upload = Upload::start(options_.engine, name);
    if (!upload) return answer_failure(c, r, upload.error());
    r.upload = std::move(*upload);
    return MHD_YES;
  }
  if (*size > 0) {  // a part of the body
    if (r.upload && !r.upload_error)
      if (auto written = r.upload->write({data, *size}); !written) r.upload_error = std::move(written).error();
    *size = 0;
    return MHD_YES;
  }
  // The body is complete.
  if (!r.upload) return MHD_YES;
  auto key = r.upload->finish();
  r.upload.reset();
  if (!key) return answer_failure(c, r, key.error());
  if (r.upload_error) return answer_failure(c, r, *r.upload_error);
  return answer_text(c, r, 201, *key + "\n");
}

Status Server::run() {
  auto address = parse_listen_address(options_.listen);
  if (!address) return std::move(address).error();
  // Off loopback, strangers could make the gateway read this machine's disk
  // or reach the hosts of its network: neither unless the operator says so.
  engine::PieceSource::Reach reach;
  reach.file_keys = address->loopback || options_.allow_file_keys;
  reach.internal = options_.engine.allow_private_addresses;
  reach.never_internal = !address->loopback && !options_.engine.allow_private_addresses;
  auto fetcher = PieceFetcher::create(options_.engine, cache_, reach);
  if (!fetcher) return std::move(fetcher).error();
  fetcher_ = std::move(*fetcher);
  opener_ = std::make_unique<KeyOpener>(manifests_, *fetcher_);

  unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
  if (address->ipv6) flags |= MHD_USE_IPv6;
  MHD_Daemon* daemon = MHD_start_daemon(
      flags, 0, nullptr, nullptr, &Server::on_request, this, MHD_OPTION_EXTERNAL_LOGGER, &Server::on_mhd_log, this,
      MHD_OPTION_SOCK_ADDR,
      reinterpret_cast<sockaddr*>(&address->address), MHD_OPTION_CONNECTION_LIMIT,
      static_cast<unsigned>(options_.max_connections), MHD_OPTION_CONNECTION_TIMEOUT,
      static_cast<unsigned>(options_.idle_timeout_s), MHD_OPTION_NOTIFY_COMPLETED, &Server::on_completed, this,
      MHD_OPTION_END);
  if (!daemon) {
    fetcher_->stop();
    return make_error(Errc::kIo, "cannot listen on " + options_.listen + " (in use, or not an address of this machine?)");
  }
  const MHD_DaemonInfo* info = MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_BIND_PORT);
  const unsigned port = info ? info->port : 0;
  if (hooks_.ready) hooks_.ready("http://" + address->host + ":" + std::to_string(port) + "/");
  while (!(hooks_.stop && hooks_.stop())) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  // Waiting responses see stopping_ within 100 ms; the fetches they wait on are cancelled.
  stopping_ = true;
  fetcher_->stop();
  MHD_stop_daemon(daemon);
  return {};
}

}  // namespace

Result<MemoryBudget> memory_budget(std::size_t cache_bytes, int parallel) {
  MemoryBudget b;
  b.manifests = cache_bytes / 16;
  // A fetch in flight holds the received image and its decoded pixels
  // (engine/pull/downloader.cc) besides the payload the cache counts.
  b.fetch_buffers = static_cast<std::size_t>(std::max(1, parallel)) * 2 * kBudgetPieceBytes;
  const std::size_t fixed = b.manifests + b.fetch_buffers;
  if (cache_bytes < fixed + 4 * kBudgetPieceBytes)
    return make_error(Errc::kInvalidArgument,
                      "--cache-size " + std::to_string(cache_bytes >> 20) + "M is too small for --parallel " +
                          std::to_string(parallel) + ": it needs at least " +
                          std::to_string((fixed + 4 * kBudgetPieceBytes) >> 20) + "M (or lower --parallel)");
  b.pieces = cache_bytes - fixed;
  return b;
}

// Each Downloader::fetch mallocs the received image and its decoded pixels
// (about 2 pieces) and frees them when it returns, on many threads at once.
// glibc's default raises its mmap threshold past that size after the first
// free, so those buffers then come from the heaps, which fragment and keep
// what was freed: measured 400-1000 MiB peak RSS for 32 clients with a
// 256 MiB budget. A fixed threshold (setting it stops the raising) keeps
// every buffer of 1 MiB or more a mapping of its own, returned on free: RSS
// follows the live buffers that --cache-size bounds (measured 253 MiB). The
// cost is a page fault per page of each fetch's buffers. serve is a process
// of its own, so this touches no other command.
void tune_allocator() { mallopt(M_MMAP_THRESHOLD, 1 << 20); }

Status serve(const GatewayOptions& options, const ServeHooks& hooks) {
  tune_allocator();
  auto budget = memory_budget(options.cache_bytes, options.engine.parallel);
  if (!budget) return std::move(budget).error();
  Server server(options, hooks, *budget);
  return server.run();
}

}  // namespace sx::gateway
