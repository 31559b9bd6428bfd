// `sxengine bench transfer`: push and pull a generated file through a server
// next to plain libcurl PUT/GET of the same bytes at the same parallelism,
// interleaved round by round so both see the same machine.
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <vector>

#include "bench/bench.h"
#include "bench/nginx_server.h"
#include "bench/raw_curl.h"
#include "net/s3_config.h"
#include "sx/storage.h"

namespace sx::bench {
namespace {

bool same_bytes(const std::string& path, const std::vector<std::byte>& data) {
  std::ifstream in(path, std::ios::binary);
  std::vector<char> buffer(1 << 20);
  std::size_t at = 0;
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    const auto n = static_cast<std::size_t>(in.gcount());
    if (at + n > data.size() || std::memcmp(buffer.data(), data.data() + at, n) != 0) return false;
    at += n;
  }
  return at == data.size();
}

}  // namespace

int run_transfer_bench(const BenchOptions& options) {
  std::optional<NginxServer> nginx;
  std::string server = options.server;
  RawTarget raw;
  std::string backend;  // what sxengine pushes to
  const std::string run = fmt::format("sxbench-{}/", ::getpid());
  if (server.rfind("s3://", 0) == 0) {
    auto location = net::parse_s3_uri(server);
    if (!location) {
      fmt::print(stderr, "sxengine: error: {}\n", location.error().message);
      return 2;
    }
    const net::S3Config config = net::load_s3_config(options.endpoint);
    if (!config.credentials) {
      fmt::print(stderr, "sxengine: error: no S3 credentials (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)\n");
      return 1;
    }
    raw.prefix = config.object_url(location->first, location->second + run);
    raw.sigv4 = config.sigv4_provider();
    raw.userpwd = config.credentials->access_key + ":" + config.credentials->secret_key;
    backend = "s3://" + location->first + "/" + location->second + run + "sx/";
  } else if (server.empty()) {
    auto started = NginxServer::start();
    if (!started) {
      fmt::print(stderr, "sxengine: error: {}\n", started.error().message);
      return 1;
    }
    nginx.emplace(std::move(*started));
    server = nginx->url();
  }
  if (raw.prefix.empty()) {
    if (server.back() != '/') server.push_back('/');
    raw.prefix = server + run;
    backend = raw.prefix + "sx/";
  }

  char templ[] = "/tmp/sxbench-data.XXXXXX";
  if (!::mkdtemp(templ)) return 1;
  const std::filesystem::path dir = templ;
  std::vector<std::byte> data(options.file_bytes);
  std::mt19937_64 rng(7);
  for (std::size_t i = 0; i + 8 <= data.size(); i += 8) {
    const std::uint64_t v = rng();
    std::memcpy(data.data() + i, &v, 8);
  }
  {
    std::ofstream out(dir / "input.bin", std::ios::binary);
    out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
  }

  Options o;
  o.backend = backend;
  o.endpoint = options.endpoint;
  o.piece_bytes = options.piece_bytes;
  o.parallel = options.parallel;
  o.force = true;
  o.compress = Options::Compress::kNone;  // random data; auto would sample and skip
  Storage storage(o);  // the default: encrypted
  o.encrypt = false;
  Storage plain_storage(o);

  struct Best {
    double push = 1e9, pull = 1e9;
  } encrypted, plain;
  double best_put = 1e9, best_get = 1e9, best_get_file = 1e9;
  bool ok = true;
  std::string failure;
  auto measure = [&](Storage& s, Best& best, bool verify) {
    Result<std::string> key = make_error(Errc::kIo, "");
    const double push = seconds_of([&] { key = s.upload((dir / "input.bin").string()); });
    if (!key) return ok = false, failure = key.error().message, void();
    Result<std::string> pulled = make_error(Errc::kIo, "");
    const double pull = seconds_of([&] { pulled = s.download(*key, (dir / "output.bin").string()); });
    if (!pulled) ok = false, failure = pulled.error().message;
    else if (verify && !same_bytes((dir / "output.bin").string(), data)) ok = false, failure = "pulled bytes differ";
    best.push = std::min(best.push, push);
    best.pull = std::min(best.pull, pull);
    std::filesystem::remove(dir / "output.bin");
  };
  for (int round = 0; round < options.rounds && ok; ++round) {
    const double put = raw_put(raw, data, options.piece_bytes, options.parallel);
    const double get = raw_get(raw, data.size(), options.piece_bytes, options.parallel);
    const double get_file =
        raw_get(raw, data.size(), options.piece_bytes, options.parallel, (dir / "raw.bin").string());
    if (put < 0 || get < 0 || get_file < 0) ok = false, failure = "raw curl transfer failed";
    best_put = std::min(best_put, put);
    best_get = std::min(best_get, get);
    best_get_file = std::min(best_get_file, get_file);
    measure(storage, encrypted, round == 0);
    if (ok) measure(plain_storage, plain, round == 0);
  }
  std::filesystem::remove_all(dir);
  if (!ok) {
    fmt::print(stderr, "sxengine: bench transfer failed: {}\n", failure);
    return 1;
  }
  const double mb = static_cast<double>(data.size()) / 1e6;
  const double push_mbps = mb / encrypted.push, pull_mbps = mb / encrypted.pull;
  const double plain_push_mbps = mb / plain.push, plain_pull_mbps = mb / plain.pull;
  const double put_mbps = mb / best_put, get_mbps = mb / best_get, get_file_mbps = mb / best_get_file;
  if (options.json) {
    fmt::print("{{\"server\":\"{}\",\"bytes\":{},\"piece_bytes\":{},\"parallel\":{},\"rounds\":{},"
               "\"push_mbps\":{:.1f},\"pull_mbps\":{:.1f},\"push_plain_mbps\":{:.1f},\"pull_plain_mbps\":{:.1f},"
               "\"raw_put_mbps\":{:.1f},\"raw_get_mbps\":{:.1f},\"raw_get_to_file_mbps\":{:.1f},"
               "\"push_ratio\":{:.3f},\"pull_ratio\":{:.3f},\"pull_ratio_to_file\":{:.3f},"
               "\"push_encrypted_vs_plain\":{:.3f},\"pull_encrypted_vs_plain\":{:.3f}}}\n",
               nginx ? "private nginx" : options.server, data.size(), options.piece_bytes, options.parallel,
               options.rounds, push_mbps, pull_mbps, plain_push_mbps, plain_pull_mbps, put_mbps, get_mbps,
               get_file_mbps, push_mbps / put_mbps, pull_mbps / get_mbps, pull_mbps / get_file_mbps,
               push_mbps / plain_push_mbps, pull_mbps / plain_pull_mbps);
  } else {
    fmt::print("transfer bench: {} MB in {} KiB pieces, --parallel {}, best of {}, server {}\n", mb,
               options.piece_bytes >> 10, options.parallel, options.rounds,
               nginx ? "private nginx on 127.0.0.1" : options.server);
    fmt::print("push (encrypted)     {:8.1f} MB/s = {:.2f} x raw curl PUT ({:.1f} MB/s, this run)\n", push_mbps,
               push_mbps / put_mbps, put_mbps);
    fmt::print("pull (encrypted)     {:8.1f} MB/s = {:.2f} x raw curl GET to memory ({:.1f} MB/s, this run)\n",
               pull_mbps, pull_mbps / get_mbps, get_mbps);
    fmt::print("                                   = {:.2f} x raw curl GET written to a file and fsynced ({:.1f} MB/s)\n",
               pull_mbps / get_file_mbps, get_file_mbps);
    fmt::print("push (--no-encrypt)  {:8.1f} MB/s = {:.2f} x raw PUT; encrypted keeps {:.0f}%\n", plain_push_mbps,
               plain_push_mbps / put_mbps, 100 * push_mbps / plain_push_mbps);
    fmt::print("pull (--no-encrypt)  {:8.1f} MB/s = {:.2f} x raw GET to file; encrypted keeps {:.0f}%\n",
               plain_pull_mbps, plain_pull_mbps / get_file_mbps, 100 * pull_mbps / plain_pull_mbps);
  }
  return 0;
}

}  // namespace sx::bench
