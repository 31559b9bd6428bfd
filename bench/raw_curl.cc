#include "bench/raw_curl.h"

#include <curl/curl.h>
#include <fmt/format.h>

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <vector>

namespace sx::bench {
namespace {

struct Body {
  std::span<const std::byte> data;
  std::size_t at = 0;
};

size_t read_body(char* out, size_t size, size_t count, void* user) {
  auto* body = static_cast<Body*>(user);
  const std::size_t n = std::min(size * count, body->data.size() - body->at);
  std::memcpy(out, body->data.data() + body->at, n);
  body->at += n;
  return n;
}

size_t discard(char*, size_t size, size_t count, void*) { return size * count; }

struct FileSink {
  int fd = -1;
  std::uint64_t at = 0;
};

size_t write_at(char* data, size_t size, size_t count, void* user) {
  auto* sink = static_cast<FileSink*>(user);
  const std::size_t n = size * count;
  if (::pwrite(sink->fd, data, n, static_cast<off_t>(sink->at)) != static_cast<ssize_t>(n)) return 0;
  sink->at += n;
  return n;
}

// Runs `pieces` transfers made by `setup(easy, index)`, `parallel` at a time.
template <class Setup>
double run_multi(std::size_t pieces, int parallel, Setup setup) {
  CURLM* multi = curl_multi_init();
  std::vector<CURL*> easies;
  std::size_t next = 0, done = 0;
  bool ok = true;
  const auto t0 = std::chrono::steady_clock::now();
  auto add = [&] {
    CURL* e = curl_easy_init();
    setup(e, next++);
    curl_multi_add_handle(multi, e);
  };
  while (next < pieces && next < static_cast<std::size_t>(parallel)) add();
  while (done < pieces) {
    int running = 0;
    curl_multi_perform(multi, &running);
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi, &left)) {
      if (msg->msg != CURLMSG_DONE) continue;
      long status = 0;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
      ok = ok && msg->data.result == CURLE_OK && status >= 200 && status < 300;
      curl_multi_remove_handle(multi, msg->easy_handle);
      curl_easy_cleanup(msg->easy_handle);
      ++done;
      if (next < pieces) add();
    }
    if (done < pieces) curl_multi_poll(multi, nullptr, 0, 100, nullptr);
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  curl_multi_cleanup(multi);
  return ok ? seconds : -1;
}

}  // namespace

void apply_target(CURL* e, const RawTarget& target, curl_slist* headers) {
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);
  if (!target.cacert.empty()) curl_easy_setopt(e, CURLOPT_CAINFO, target.cacert.c_str());
  curl_easy_setopt(e, CURLOPT_HTTP_VERSION, target.http1 ? long{CURL_HTTP_VERSION_1_1} : long{CURL_HTTP_VERSION_2TLS});
  curl_easy_setopt(e, CURLOPT_PIPEWAIT, target.http1 ? 0L : 1L);
  if (target.sigv4.empty()) return;
  curl_easy_setopt(e, CURLOPT_AWS_SIGV4, target.sigv4.c_str());
  curl_easy_setopt(e, CURLOPT_USERPWD, target.userpwd.c_str());
  curl_easy_setopt(e, CURLOPT_EXPECT_100_TIMEOUT_MS, 0L);
}

curl_slist* target_headers(const RawTarget& target) {
  if (target.sigv4.empty()) return curl_slist_append(nullptr, "Expect:");
  return curl_slist_append(nullptr, "x-amz-content-sha256: UNSIGNED-PAYLOAD");
}

double raw_put(const RawTarget& target, std::span<const std::byte> data, std::size_t piece_bytes, int parallel) {
  const std::size_t pieces = (data.size() + piece_bytes - 1) / piece_bytes;
  std::vector<Body> bodies(pieces);
  std::vector<std::string> urls(pieces);
  curl_slist* headers = target_headers(target);
  const double s = run_multi(pieces, parallel, [&](CURL* e, std::size_t i) {
    bodies[i].data = data.subspan(i * piece_bytes, std::min(piece_bytes, data.size() - i * piece_bytes));
    urls[i] = fmt::format("{}raw/{}", target.prefix, i);
    apply_target(e, target, headers);
    curl_easy_setopt(e, CURLOPT_URL, urls[i].c_str());
    curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(e, CURLOPT_READFUNCTION, &read_body);
    curl_easy_setopt(e, CURLOPT_READDATA, &bodies[i]);
    curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(bodies[i].data.size()));
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &discard);
  });
  curl_slist_free_all(headers);
  return s;
}

double raw_get(const RawTarget& target, std::size_t total_bytes, std::size_t piece_bytes, int parallel,
               const std::string& out_path, bool fsync) {
  curl_slist* headers = target_headers(target);
  const std::size_t pieces = (total_bytes + piece_bytes - 1) / piece_bytes;
  std::vector<std::string> urls(pieces);
  std::vector<FileSink> sinks(pieces);
  const int fd = out_path.empty() ? -1 : ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  double seconds = run_multi(pieces, parallel, [&](CURL* e, std::size_t i) {
    urls[i] = fmt::format("{}raw/{}", target.prefix, i);
    curl_easy_setopt(e, CURLOPT_URL, urls[i].c_str());
    apply_target(e, target, headers);
    if (fd < 0) {
      curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &discard);
    } else {
      sinks[i] = {fd, i * piece_bytes};
      curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &write_at);
      curl_easy_setopt(e, CURLOPT_WRITEDATA, &sinks[i]);
    }
  });
  if (fd >= 0) {
    const auto t0 = std::chrono::steady_clock::now();
    if (fsync && ::fsync(fd) != 0) seconds = -1;
    ::close(fd);
    if (seconds >= 0) seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    ::unlink(out_path.c_str());
  }
  curl_slist_free_all(headers);
  return seconds;
}

}  // namespace sx::bench
