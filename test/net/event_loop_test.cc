// Tests net/event_loop.cc against a small HTTP/1.1 server in this file
// (POSIX sockets on 127.0.0.1, one thread per connection, bounded in time).
#include <doctest/doctest.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "net/event_loop.h"
#include "net/runtime.h"

using namespace sx;
using namespace sx::net;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto kCompletionTimeout = 20s;

// One request as the server read it.
struct Exchange {
  std::string method;
  std::string path;
  std::string head;  // request line and headers
  std::string body;  // Content-Length bytes
};

// A throwaway HTTP server. Each connection gets its own thread that reads one
// request and hands the socket to the test's handler; the socket is closed
// when the handler returns. Everything stops by itself: the acceptor after
// kLifetime or kMaxConnections, connections when the destructor sets stop_
// (every wait below polls in short steps and checks it).
class TestServer {
 public:
  using Handler = std::function<void(TestServer& server, int fd, const Exchange& request)>;
  static constexpr auto kLifetime = 30s;
  static constexpr int kMaxConnections = 64;

  explicit TestServer(Handler handler) : handler_(std::move(handler)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(listen_fd_ >= 0);
    const int one = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    REQUIRE(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::listen(listen_fd_, 64) == 0);
    socklen_t len = sizeof addr;
    REQUIRE(::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
  }

  ~TestServer() { stop(); }

  // Stops accepting, waits for every connection's thread. Idempotent.
  void stop() {
    stop_ = true;
    if (acceptor_.joinable()) acceptor_.join();
    std::vector<std::thread> workers;
    {
      std::lock_guard lock(mutex_);
      workers.swap(workers_);
    }
    for (std::thread& t : workers) t.join();
    if (listen_fd_ >= 0) ::close(listen_fd_);
    listen_fd_ = -1;
  }

  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;

  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  int connections() const { return connections_.load(); }
  bool stopping() const { return stop_.load(); }

  // Writes all of `data` unless the peer goes away or the server stops.
  bool send_all(int fd, std::string_view data) {
    while (!data.empty()) {
      if (!wait_for(fd, POLLOUT, Clock::now() + 10s)) return false;
      const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
      if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (n <= 0) return false;
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  // Reads and drops whatever the client sends until it closes the
  // connection (or `limit` passes, or the server stops). Returns true when
  // the client closed.
  bool wait_for_client_close(int fd, std::chrono::milliseconds limit) {
    const auto deadline = Clock::now() + limit;
    char scratch[4096];
    while (wait_for(fd, POLLIN, deadline)) {
      const ssize_t n = ::recv(fd, scratch, sizeof scratch, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return true;
    }
    return false;
  }

  static std::string response(int status, std::string_view body, std::string_view extra_headers = {}) {
    return "HTTP/1.1 " + std::to_string(status) + (status == 200 ? " OK" : " Error") +
           "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n" +
           std::string(extra_headers) + "\r\n" + std::string(body);
  }

 private:
  // True when `fd` is ready for `events`; false at the deadline or on stop.
  bool wait_for(int fd, short events, Clock::time_point deadline) {
    while (!stop_ && Clock::now() < deadline) {
      pollfd p{fd, events, 0};
      const int ready = ::poll(&p, 1, 50);
      if (ready > 0) return true;
      if (ready < 0 && errno != EINTR) return false;
    }
    return false;
  }

  void accept_loop() {
    const auto deadline = Clock::now() + kLifetime;
    while (connections_ < kMaxConnections && wait_for(listen_fd_, POLLIN, deadline)) {
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      ++connections_;
      std::lock_guard lock(mutex_);
      workers_.emplace_back([this, fd] { serve(fd); });
    }
  }

  void serve(int fd) {
    Exchange request;
    if (read_request(fd, request)) handler_(*this, fd, request);
    ::close(fd);
  }

  bool read_request(int fd, Exchange& request) {
    const auto deadline = Clock::now() + 10s;
    std::string data;
    std::size_t head_end = std::string::npos;
    std::size_t content_length = 0;
    char buffer[65536];
    while (true) {
      if (head_end == std::string::npos) {
        head_end = data.find("\r\n\r\n");
        if (head_end != std::string::npos) {
          request.head = data.substr(0, head_end);
          std::string lower = request.head;
          std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
          if (auto at = lower.find("\r\ncontent-length:"); at != std::string::npos)
            content_length = std::stoul(lower.substr(at + 17));
          const auto space = request.head.find(' ');
          request.method = request.head.substr(0, space);
          request.path = request.head.substr(space + 1, request.head.find(' ', space + 1) - space - 1);
        }
      }
      if (head_end != std::string::npos && data.size() >= head_end + 4 + content_length) {
        request.body = data.substr(head_end + 4, content_length);
        return true;
      }
      if (!wait_for(fd, POLLIN, deadline)) return false;
      const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      data.append(buffer, static_cast<std::size_t>(n));
    }
  }

  Handler handler_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::thread acceptor_;
  std::mutex mutex_;  // guards workers_
  std::vector<std::thread> workers_;
};

// A completion that can be waited for from the test thread.
struct Waiter {
  std::shared_ptr<std::promise<Result<Response>>> promise = std::make_shared<std::promise<Result<Response>>>();
  std::future<Result<Response>> future = promise->get_future();

  Completion completion() {
    return [p = promise](Result<Response> r) { p->set_value(std::move(r)); };
  }
  // Fails the test instead of hanging when the completion never comes.
  Result<Response> get() {
    REQUIRE_MESSAGE(future.wait_for(kCompletionTimeout) == std::future_status::ready,
                    "the completion did not arrive within 20 s");
    return future.get();
  }
};

std::unique_ptr<EventLoop> make_loop(TransferOptions options = {}) {
  REQUIRE(process_setup());
  auto loop = EventLoop::create(options);
  REQUIRE(loop);
  return std::move(loop).value();
}

std::string random_bytes(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

std::span<const std::byte> bytes_of(const std::string& s) { return std::as_bytes(std::span(s.data(), s.size())); }

}  // namespace

TEST_CASE("event loop: a GET lands its body in the response buffer") {
  const std::string body = random_bytes(300 * 1024, 1);
  TestServer server([&](TestServer& s, int fd, const Exchange& request) {
    if (request.method == "GET" && request.path == "/object") s.send_all(fd, TestServer::response(200, body));
    else s.send_all(fd, TestServer::response(404, "no"));
  });
  std::vector<std::byte> buffer(512 * 1024);
  auto loop = make_loop();

  Request request;
  request.url = server.url("/object");
  request.response_buffer = buffer;
  Waiter waiter;
  loop->submit(std::move(request), waiter.completion());
  auto result = waiter.get();
  REQUIRE_MESSAGE(result, result.error().message);
  CHECK(result->status == 200);
  REQUIRE(result->body_bytes == body.size());
  CHECK(std::memcmp(buffer.data(), body.data(), body.size()) == 0);
  CHECK(result->retries == 0);
}

TEST_CASE("event loop: a GET whose Content-Length exceeds the buffer fails with kLimit") {
  const std::string body(10000, 'x');
  TestServer server([&](TestServer& s, int fd, const Exchange&) { s.send_all(fd, TestServer::response(200, body)); });
  std::vector<std::byte> buffer(4096);
  auto loop = make_loop();

  Request request;
  request.url = server.url("/big");
  request.response_buffer = buffer;
  Waiter waiter;
  loop->submit(std::move(request), waiter.completion());
  auto result = waiter.get();
  REQUIRE_FALSE(result);
  CHECK(result.error().code == Errc::kLimit);
}

TEST_CASE("event loop: a PUT body arrives intact") {
  const std::string body = random_bytes(3 * 1024 * 1024 + 17, 2);
  std::mutex mutex;  // guards received
  Exchange received;
  TestServer server([&](TestServer& s, int fd, const Exchange& request) {
    {
      std::lock_guard lock(mutex);
      received = request;
    }
    s.send_all(fd, TestServer::response(200, "stored"));
  });
  auto loop = make_loop();

  Request request;
  request.method = Method::kPut;
  request.url = server.url("/bucket/piece.png");
  request.headers = {"Content-Type: image/png"};
  request.body = bytes_of(body);
  Waiter waiter;
  loop->submit(std::move(request), waiter.completion());
  auto result = waiter.get();
  REQUIRE_MESSAGE(result, result.error().message);
  CHECK(result->status == 200);
  CHECK(result->text == "stored");
  std::lock_guard lock(mutex);
  CHECK(received.method == "PUT");
  CHECK(received.path == "/bucket/piece.png");
  CHECK(received.head.find("Content-Type: image/png") != std::string::npos);
  REQUIRE(received.body.size() == body.size());
  CHECK(received.body == body);
}

TEST_CASE("event loop: a reset connection is an error, retried once") {
  TestServer server([](TestServer&, int fd, const Exchange&) {
    const linger abort_on_close{1, 0};  // close() sends RST
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof abort_on_close);
  });
  TransferOptions options;
  options.retry.max_retries = 1;
  options.retry.base_delay = 10ms;
  options.retry.max_delay = 50ms;
  std::atomic<int> observed{0};
  auto loop = make_loop(options);
  loop->set_retry_observer([&](const std::string&, int attempt, const std::string&) {
    CHECK(attempt == 1);
    ++observed;
  });

  Request request;
  request.url = server.url("/reset");
  Waiter waiter;
  loop->submit(std::move(request), waiter.completion());
  auto result = waiter.get();
  REQUIRE_FALSE(result);
  CHECK(result.error().code == Errc::kTransient);
  CHECK_MESSAGE(result.error().message.find("gave up after 1 retries") != std::string::npos, result.error().message);
  CHECK(result.error().message.find("/reset") != std::string::npos);
  CHECK(server.connections() == 2);
  CHECK(observed == 1);
  CHECK(loop->retries() == 1);
}

TEST_CASE("event loop: a stalled body fails with kTransient after stall_timeout") {
  TestServer server([](TestServer& s, int fd, const Exchange&) {
    s.send_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n");
    s.wait_for_client_close(fd, 15s);  // and never a byte of the body
  });
  TransferOptions options;
  options.stall_timeout = 1s;
  options.low_speed_bytes = 1024;
  options.retry.max_retries = 0;
  auto loop = make_loop(options);
  std::vector<std::byte> buffer(4096);

  Request request;
  request.url = server.url("/stall");
  request.response_buffer = buffer;
  const auto start = Clock::now();
  Waiter waiter;
  loop->submit(std::move(request), waiter.completion());
  auto result = waiter.get();
  const auto elapsed = Clock::now() - start;
  REQUIRE_FALSE(result);
  CHECK(result.error().code == Errc::kTransient);
  CHECK(elapsed >= 900ms);
  CHECK(elapsed < 6s);
  CHECK(server.connections() == 1);
}

TEST_CASE("event loop: a PUT to a host that takes the socket buffer and falls silent is ended by the stall watch") {
  // Listens and never accepts: the kernel completes the connection and
  // takes what fits in the socket buffers, then nothing moves.
  const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(listener >= 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  REQUIRE(::listen(listener, 4) == 0);
  socklen_t length = sizeof address;
  REQUIRE(::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length) == 0);
  TransferOptions options;
  options.stall_timeout = 1s;
  options.low_speed_bytes = 1024;
  options.retry.max_retries = 0;
  auto loop = make_loop(options);
  const std::string body = random_bytes(16 << 20, 3);  // far more than the buffers hold
  Request request;
  request.method = Method::kPut;
  request.url = "http://127.0.0.1:" + std::to_string(ntohs(address.sin_port)) + "/silent";
  request.body = bytes_of(body);
  Waiter waiter;
  loop->submit(std::move(request), waiter.completion());
  auto result = waiter.get();
  ::close(listener);
  REQUIRE_FALSE(result);
  CHECK(result.error().code == Errc::kTransient);
  CHECK_MESSAGE(result.error().message.find("stalled: fewer than 1024 bytes moved in 1 s") != std::string::npos,
                result.error().message);  // the watch's verdict, not curl's 5-second average
}

TEST_CASE("event loop: cancel fails one operation's requests and leaves the others") {
  std::promise<void> hang_arrived;
  std::atomic<bool> hang_seen{false};
  TestServer server([&](TestServer& s, int fd, const Exchange& request) {
    if (request.path == "/hang") {
      if (!hang_seen.exchange(true)) hang_arrived.set_value();
      s.wait_for_client_close(fd, 15s);  // never answers
      return;
    }
    s.send_all(fd, TestServer::response(200, "fine"));
  });
  auto loop = make_loop();

  Request hang;
  hang.url = server.url("/hang");
  hang.operation = 7;
  Waiter hung;
  loop->submit(std::move(hang), hung.completion());
  // Cancel only once the request is in flight at the server.
  REQUIRE(hang_arrived.get_future().wait_for(kCompletionTimeout) == std::future_status::ready);
  loop->cancel(7);
  auto cancelled = hung.get();
  REQUIRE_FALSE(cancelled);
  CHECK(cancelled.error().code == Errc::kCancelled);

  Request other;
  other.url = server.url("/ok");
  other.operation = 8;
  Waiter fine;
  loop->submit(std::move(other), fine.completion());
  auto ok = fine.get();
  REQUIRE_MESSAGE(ok, ok.error().message);
  CHECK(ok->status == 200);
  CHECK(ok->text == "fine");

  // Operation 7 stays cancelled for requests it submits later...
  Request late;
  late.url = server.url("/ok");
  late.operation = 7;
  Waiter late_waiter;
  const int connections_before = server.connections();
  loop->submit(std::move(late), late_waiter.completion());
  auto refused = late_waiter.get();
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == Errc::kCancelled);
  CHECK(server.connections() == connections_before);  // never sent

  // ...until it is ended; then the id can be used again.
  loop->end_operation(7);
  Request again;
  again.url = server.url("/ok");
  again.operation = 7;
  Waiter again_waiter;
  loop->submit(std::move(again), again_waiter.completion());
  auto reused = again_waiter.get();
  REQUIRE_MESSAGE(reused, reused.error().message);
  CHECK(reused->status == 200);
}

TEST_CASE("event loop: max_in_flight caps the requests open at once") {
  std::mutex mutex;  // guards open, max_open
  std::condition_variable changed;
  int open = 0;
  int max_open = 0;
  TestServer server([&](TestServer& s, int fd, const Exchange&) {
    {
      std::unique_lock lock(mutex);
      max_open = std::max(max_open, ++open);
      changed.notify_all();
      // Holds the request ~100 ms, and (to show the cap is not 1) until a
      // second request is open too, giving up on that after 2 s.
      const auto start = Clock::now();
      changed.wait_until(lock, start + 2s, [&] { return open >= 2; });
      changed.wait_until(lock, start + 100ms, [] { return false; });
      --open;
    }
    s.send_all(fd, TestServer::response(200, "done"));
  });
  TransferOptions options;
  options.max_in_flight = 2;
  auto loop = make_loop(options);

  std::vector<Waiter> waiters(6);
  for (Waiter& w : waiters) {
    Request request;
    request.url = server.url("/slow");
    loop->submit(std::move(request), w.completion());
  }
  for (Waiter& w : waiters) {
    auto result = w.get();
    REQUIRE_MESSAGE(result, result.error().message);
    CHECK(result->status == 200);
    CHECK(result->text == "done");
  }
  std::lock_guard lock(mutex);
  CHECK(max_open <= 2);
  CHECK(max_open == 2);
}

TEST_CASE("event loop: check_body refuses a body at its head without buffering the rest") {
  constexpr std::size_t kStreamBytes = 50u << 20;
  std::atomic<std::size_t> sent{0};
  TestServer server([&](TestServer& s, int fd, const Exchange&) {
    // No Content-Length: the size is known only at the end, so nothing but
    // the body check can stop it early.
    if (!s.send_all(fd, "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n"))
      return;
    const std::string chunk = "NOPE" + std::string(64 * 1024 - 4, 'j');
    while (sent < kStreamBytes && s.send_all(fd, chunk)) sent += chunk.size();
  });
  std::atomic<int> checks{0};
  std::string seen_type;  // written on the loop thread before the completion
  auto loop = make_loop();

  Request request;
  request.url = server.url("/junk");
  request.check_body = [&](std::span<const std::byte> head, std::string_view content_type) -> Result<std::size_t> {
    ++checks;
    seen_type = std::string(content_type);
    CHECK(head.size() >= kBodyHeadBytes);
    const std::string_view text(reinterpret_cast<const char*>(head.data()), head.size());
    if (text.substr(0, 2) != "OK") return make_error(Errc::kCorrupt, "test check: body does not start with OK");
    return std::size_t{1} << 30;
  };
  Waiter waiter;
  loop->submit(std::move(request), waiter.completion());
  auto result = waiter.get();
  REQUIRE_FALSE(result);
  CHECK(result.error().code == Errc::kCorrupt);
  CHECK_MESSAGE(result.error().message.find("test check: body does not start with OK") != std::string::npos,
                result.error().message);
  CHECK(result.error().message.find("/junk") != std::string::npos);
  CHECK(checks == 1);
  CHECK(seen_type == "application/octet-stream");
  loop.reset();  // closes the connection if it is still open
  server.stop();
  // The client hung up early: the server could not hand over the 50 MB.
  CHECK(sent < kStreamBytes);
}

TEST_CASE("event loop: check_body passes a body it accepts and caps its size") {
  const std::string body = "OK" + std::string(200, 'b');
  TestServer server([&](TestServer& s, int fd, const Exchange&) { s.send_all(fd, TestServer::response(200, body)); });
  auto loop = make_loop();

  const auto fetch = [&](std::size_t allowed) {
    Request request;
    request.url = server.url("/ok");
    request.check_body = [allowed](std::span<const std::byte> head, std::string_view) -> Result<std::size_t> {
      const std::string_view text(reinterpret_cast<const char*>(head.data()), head.size());
      if (text.substr(0, 2) != "OK") return make_error(Errc::kCorrupt, "test check: body does not start with OK");
      return allowed;
    };
    Waiter waiter;
    loop->submit(std::move(request), waiter.completion());
    return waiter.get();
  };
  auto accepted = fetch(body.size());
  REQUIRE_MESSAGE(accepted, accepted.error().message);
  CHECK(accepted->text == body);
  auto capped = fetch(100);  // the head is fine, the size is not
  REQUIRE_FALSE(capped);
  CHECK(capped.error().code == Errc::kLimit);
}

TEST_CASE("event loop: a completion that throws is called again with the error, and the loop lives on") {
  TestServer server([&](TestServer& s, int fd, const Exchange&) { s.send_all(fd, TestServer::response(200, "ok")); });
  auto loop = make_loop();
  std::vector<std::string> seen;  // the loop thread only, then read after the waiter
  Waiter second_call;
  Request first;
  first.url = server.url("/a");
  loop->submit(std::move(first), [&seen, p = second_call.promise](Result<Response> r) {
    if (r) {
      seen.push_back("ok");
      throw std::runtime_error("a completion's bug");
    }
    seen.push_back(r.error().message);
    p->set_value(std::move(r));
  });
  auto again = second_call.get();
  REQUIRE_FALSE(again);
  CHECK(again.error().code == Errc::kIo);
  REQUIRE(seen.size() == 2);
  CHECK(seen[0] == "ok");
  CHECK(seen[1] == "internal error: a completion's bug");
  // The loop thread survived: the next request completes.
  Request next;
  next.url = server.url("/b");
  Waiter waiter;
  loop->submit(std::move(next), waiter.completion());
  auto result = waiter.get();
  REQUIRE_MESSAGE(result, result.error().message);
  CHECK(result->status == 200);
}
