// Tests sx::Storage's lifecycle: cancellation belongs to one operation, a
// blocked input is cancellable, and nothing throws out of the library.
#include <doctest/doctest.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <algorithm>
#include <future>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "net/backend.h"
#include "sx/progress.h"
#include "sx/storage.h"

using namespace sx;
namespace fs = std::filesystem;

namespace {

struct TempDir {
  fs::path path = fs::temp_directory_path() / ("sxengine-storage-" + std::to_string(::getpid()));
  TempDir() { fs::create_directories(path); }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

}  // namespace

TEST_CASE("a cancel() before an operation cancels it, and only it") {
  TempDir dir;
  Options options;
  options.backend = "dir:" + (dir.path / "store").string();
  Storage storage(options);
  std::ofstream(dir.path / "file.bin") << "hello, storage";
  storage.cancel();  // between operations: latched for the next one
  auto first = storage.upload((dir.path / "file.bin").string());
  REQUIRE_FALSE(first);
  CHECK(first.error().code == Errc::kCancelled);
  auto second = storage.upload((dir.path / "file.bin").string());
  CHECK(second);
}

TEST_CASE("a cancelled push does not cancel the next one, and a FIFO with no writer is cancellable") {
  TempDir dir;
  Options options;
  options.backend = "dir:" + (dir.path / "store").string();
  Storage storage(options);

  const fs::path fifo = dir.path / "fifo";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  auto blocked = std::async(std::launch::async, [&] { return storage.upload(fifo.string()); });
  // Cancel until the push (waiting for a writer) gives up: no sleep decides the outcome.
  while (blocked.wait_for(std::chrono::milliseconds(20)) != std::future_status::ready) storage.cancel();
  auto result = blocked.get();
  REQUIRE_FALSE(result);
  CHECK(result.error().code == Errc::kCancelled);
  // The loop's last cancel() may have come just after the push ended: then it
  // is latched for the next operation. One throwaway operation absorbs it.
  (void)storage.info("file:///nowhere/ab/0123456789abcdef0123456789abcdef.png");

  std::ofstream(dir.path / "file.bin") << "hello, storage";
  auto key = storage.upload((dir.path / "file.bin").string());
  REQUIRE(key);
  auto pulled = storage.download(*key, (dir.path / "out.bin").string());
  REQUIRE(pulled);
  std::ifstream in(*pulled);
  CHECK(std::string(std::istreambuf_iterator<char>(in), {}) == "hello, storage");
}

TEST_CASE("a Storage initialises libsodium before any key is drawn") {
  Storage storage(Options{});
  CHECK(sodium_init() == 1);  // 1: already initialised
}

TEST_CASE("a dir: backend relative to a deleted working directory is an error, not an exception") {
  TempDir dir;
  const fs::path gone = dir.path / "gone";
  fs::create_directories(gone);
  const fs::path cwd = fs::current_path();
  REQUIRE(::chdir(gone.c_str()) == 0);
  fs::remove(gone);
  auto backend = net::open_backend("dir:relative", net::BackendOptions{}, [] { return Result<net::EventLoop*>(nullptr); });
  REQUIRE(::chdir(cwd.c_str()) == 0);
  REQUIRE_FALSE(backend);
  CHECK(backend.error().code == Errc::kIo);
}

// Out of memory inside an operation is an error, not an abort: a child
// process with a small address space pushes with pieces that cannot fit.
#if !defined(__SANITIZE_ADDRESS__)
#include <sys/resource.h>
#include <sys/wait.h>

TEST_CASE("an allocation failure inside a push is an error, not a crash") {
  TempDir dir;
  {
    std::ofstream out(dir.path / "big.bin", std::ios::binary);
    std::string chunk(1 << 20, 'x');
    for (int i = 0; i < 300; ++i) out << chunk;
  }
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    const rlimit limit{std::size_t{900} << 20, std::size_t{900} << 20};
    ::setrlimit(RLIMIT_AS, &limit);
    Options options;
    options.backend = "dir:" + (dir.path / "store").string();
    options.piece_bytes = std::size_t{200} << 20;  // window slots of 2 × 200 MiB: the third cannot be had
    options.workers = 2;
    options.compress = Options::Compress::kNone;
    Storage storage(options);
    auto key = storage.upload((dir.path / "big.bin").string());
    ::_exit(!key && key.error().code == Errc::kLimit && key.error().message.find("out of memory") != std::string::npos
                ? 0 : 1);
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  CHECK(WIFEXITED(status));  // not killed by an uncaught std::bad_alloc
  CHECK(WEXITSTATUS(status) == 0);
}
#endif

TEST_CASE("progress events reach the sink on one thread of their own, in order, before the call returns") {
  TempDir dir;
  struct Recorder final : ProgressSink {
    std::mutex mutex;  // guards all below (the engine must not need it: one thread delivers)
    std::set<std::thread::id> threads;
    std::vector<std::string> events;
    void add(std::string event) {
      std::lock_guard lock(mutex);
      threads.insert(std::this_thread::get_id());
      events.push_back(std::move(event));
    }
    void on_start(std::string_view op, std::uint64_t, std::uint64_t) override { add("start " + std::string(op)); }
    void on_piece(std::uint64_t, std::uint64_t) override { add("piece"); }
    void on_retry(std::string_view, int, std::string_view) override { add("retry"); }
    void on_finish(std::uint64_t, double, long) override { add("finish"); }
  } recorder;
  Options options;
  options.backend = "dir:" + (dir.path / "store").string();
  options.piece_bytes = 4096;
  options.progress = &recorder;
  Storage storage(options);
  {
    std::ofstream out(dir.path / "file.bin", std::ios::binary);
    for (int i = 0; i < 20000; ++i) out.put(static_cast<char>(i * 7));
  }
  auto key = storage.upload((dir.path / "file.bin").string());
  REQUIRE(key);
  {
    std::lock_guard lock(recorder.mutex);
    REQUIRE(!recorder.events.empty());
    CHECK(recorder.events.front() == "start push");
    CHECK(recorder.events.back() == "finish");  // delivered before upload() returned
  }
  REQUIRE(storage.download(*key, (dir.path / "out.bin").string()));
  std::lock_guard lock(recorder.mutex);
  CHECK(recorder.threads.size() == 1);
  CHECK(recorder.threads.count(std::this_thread::get_id()) == 0);
  CHECK(std::count(recorder.events.begin(), recorder.events.end(), "piece") >= 10);
  CHECK(recorder.events.back() == "finish");
}
