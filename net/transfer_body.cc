#include "net/transfer_body.h"

#include <cstring>
#include <span>

namespace sx::net {

namespace {

// The body so far, wherever it lands.
std::span<const std::byte> body_so_far(const Transfer& t) {
  if (!t.request.response_buffer.empty()) return t.request.response_buffer.first(t.received);
  return std::as_bytes(std::span<const char>(t.text.data(), t.text.size()));
}

}  // namespace

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

void Transfer::reset_for_attempt() {
  paused = false;
  read_offset = 0;
  received = 0;
  overflow = false;
  judged = false;
  allowed = SIZE_MAX;
  refused.reset();
  sink_declined = false;
  if (request.body_sink) request.body_sink->restart();
  text.clear();
  errbuf[0] = '\0';
  stalled = false;
  progress_mark = std::chrono::steady_clock::now();
  progress_bytes = 0;
}

}  // namespace sx::net
