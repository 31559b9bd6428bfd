// `sxengine bench local`: push to and pull from a local store next to `cp`
// of the same file on the same file system, encrypted and not, in one run.
#include <fmt/format.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <vector>

#include "bench/bench.h"
#include "sx/storage.h"

namespace sx::bench {
namespace {

// Runs a real tool (cp, sync) the way a user would; false on failure.
bool run_tool(const char* path, const char* name, const std::string& a, const std::string& b = {}) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (b.empty()) ::execl(path, name, a.c_str(), nullptr);
    else ::execl(path, name, a.c_str(), b.c_str(), nullptr);
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

struct Timing {
  double push = 1e9, pull = 1e9;
};

}  // namespace

int run_local_bench(const BenchOptions& options) {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / fmt::format("sxbench-local-{}", ::getpid());
  std::filesystem::create_directories(dir);
  const std::string input = (dir / "input.bin").string();
  {
    std::vector<char> block(std::size_t{8} << 20);
    std::mt19937_64 rng(3);
    std::ofstream out(input, std::ios::binary);
    for (std::size_t done = 0; done < options.file_bytes; done += block.size()) {
      for (std::size_t i = 0; i + 8 <= block.size(); i += 8) {
        const std::uint64_t v = rng();
        std::memcpy(block.data() + i, &v, 8);
      }
      out.write(block.data(), static_cast<std::streamsize>(std::min(block.size(), options.file_bytes - done)));
    }
  }
  auto make = [&](bool encrypt) {
    Options o;
    o.backend = "dir:" + (dir / (encrypt ? "store-enc" : "store-plain")).string();
    o.piece_bytes = options.piece_bytes;
    o.encrypt = encrypt;
    o.compress = Options::Compress::kNone;  // random data: auto would sample and skip anyway
    o.force = true;
    return o;
  };
  Storage encrypted(make(true)), plain(make(false));
  double cp = 1e9, cp_sync = 1e9;
  Timing enc, pub;
  bool ok = true;
  std::string failure;
  auto run = [&](Storage& storage, Timing& t) {
    Result<std::string> key = make_error(Errc::kIo, "");
    t.push = std::min(t.push, seconds_of([&] { key = storage.upload(input); }));
    if (!key) return ok = false, failure = key.error().message, void();
    Result<std::string> pulled = make_error(Errc::kIo, "");
    t.pull = std::min(t.pull, seconds_of([&] { pulled = storage.download(*key, (dir / "pulled.bin").string()); }));
    if (!pulled) ok = false, failure = pulled.error().message;
    std::filesystem::remove(dir / "pulled.bin");
  };
  for (int round = 0; round < options.rounds && ok; ++round) {
    const std::string copy = (dir / "copy.bin").string();
    const double cp_once = seconds_of([&] { ok = run_tool("/bin/cp", "cp", input, copy); });
    // cp then `sync FILE` (fsync): what pull does before it renames.
    const double sync_once = seconds_of([&] { ok = ok && run_tool("/bin/sync", "sync", copy); });
    cp = std::min(cp, cp_once);
    cp_sync = std::min(cp_sync, cp_once + sync_once);
    ::sync();  // each contender starts with no dirty pages of the others
    std::filesystem::remove(copy);
    if (!ok) failure = "cp or sync failed";
    run(encrypted, enc);
    ::sync();
    run(plain, pub);
    ::sync();
    std::filesystem::remove_all(dir / "store-enc");
    std::filesystem::remove_all(dir / "store-plain");
  }
  std::filesystem::remove_all(dir);
  if (!ok) {
    fmt::print(stderr, "sxengine: bench local failed: {}\n", failure);
    return 1;
  }
  const double mb = static_cast<double>(options.file_bytes) / 1e6;
  if (options.json) {
    fmt::print("{{\"bytes\":{},\"rounds\":{},\"cp_mbps\":{:.1f},\"cp_fsync_mbps\":{:.1f},\"push_mbps\":{:.1f},\"pull_mbps\":{:.1f},"
               "\"push_plain_mbps\":{:.1f},\"pull_plain_mbps\":{:.1f},\"push_vs_cp\":{:.3f},\"pull_vs_cp\":{:.3f},"
               "\"pull_vs_cp_fsync\":{:.3f},\"push_encrypted_vs_plain\":{:.3f},\"pull_encrypted_vs_plain\":{:.3f}}}\n",
               options.file_bytes, options.rounds, mb / cp, mb / cp_sync, mb / enc.push, mb / enc.pull, mb / pub.push, mb / pub.pull,
               cp / enc.push, cp / enc.pull, cp_sync / enc.pull, pub.push / enc.push, pub.pull / enc.pull);
  } else {
    fmt::print("local bench: {:.0f} MB random file, {} KiB pieces, best of {}, store on the same file system\n", mb,
               options.piece_bytes >> 10, options.rounds);
    fmt::print("cp                      {:8.1f} MB/s   cp + fsync (sync FILE) {:.1f} MB/s\n", mb / cp, mb / cp_sync);
    fmt::print("push (encrypted)        {:8.1f} MB/s = {:.2f} x cp\n", mb / enc.push, cp / enc.push);
    fmt::print("pull (encrypted)        {:8.1f} MB/s = {:.2f} x cp, {:.2f} x cp + fsync (pull --fsync is the fair match for that)\n", mb / enc.pull,
               cp / enc.pull, cp_sync / enc.pull);
    fmt::print("push (--no-encrypt)     {:8.1f} MB/s = {:.2f} x cp; encrypted keeps {:.0f}%\n", mb / pub.push,
               cp / pub.push, 100 * pub.push / enc.push);
    fmt::print("pull (--no-encrypt)     {:8.1f} MB/s = {:.2f} x cp; encrypted keeps {:.0f}%\n", mb / pub.pull,
               cp / pub.pull, 100 * pub.pull / enc.pull);
  }
  return 0;
}

}  // namespace sx::bench
