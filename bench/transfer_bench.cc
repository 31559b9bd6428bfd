// `sxengine bench transfer`: push and pull a generated file through a server
// next to plain libcurl PUT/GET of the same bytes at the same parallelism,
// interleaved round by round so both see the same machine.
#include <fcntl.h>
#include <sys/resource.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
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

// Wall and CPU (user + system of this process: raw curl runs in it too,
// nginx does not) of one call.
struct Timed {
  double seconds = 0;
  double cpu = 0;
};

double cpu_seconds() {
  rusage usage {};
  ::getrusage(RUSAGE_SELF, &usage);
  const auto tv = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return tv(usage.ru_utime) + tv(usage.ru_stime);
}

Timed timed(auto&& body) {
  const double cpu0 = cpu_seconds();
  const double seconds = seconds_of(body);
  return Timed{seconds, cpu_seconds() - cpu0};
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  return n == 0 ? 0 : n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
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

  raw.cacert = options.cacert;
  raw.http1 = options.http1;
  Options o;
  o.cacert = options.cacert;
  o.http1_only = options.http1;
  o.backend = backend;
  o.endpoint = options.endpoint;
  o.piece_bytes = options.piece_bytes;
  o.parallel = options.parallel;
  o.force = true;
  o.compress = Options::Compress::kNone;  // random data; auto would sample and skip
  Storage storage(o);  // the default: encrypted
  o.encrypt = false;
  Storage plain_storage(o);

  // Each round measures the baseline and sxengine back to back; the figures
  // are medians over rounds of each ratio (wall and CPU), so both sides of a
  // ratio saw the same moment of this shared machine.
  struct Round {
    Timed put, get, get_file, push, pull, plain_push, plain_pull;
  };
  std::vector<Round> rounds;
  bool ok = true;
  std::string failure;
  auto measure = [&](Storage& s, Timed& push_time, Timed& pull_time, bool verify) {
    Result<std::string> key = make_error(Errc::kIo, "");
    push_time = timed([&] { key = s.upload((dir / "input.bin").string()); });
    if (!key) return ok = false, failure = key.error().message, void();
    Result<std::string> pulled = make_error(Errc::kIo, "");
    pull_time = timed([&] { pulled = s.download(*key, (dir / "output.bin").string()); });
    if (!pulled) ok = false, failure = pulled.error().message;
    else if (verify && !same_bytes((dir / "output.bin").string(), data)) ok = false, failure = "pulled bytes differ";
    std::filesystem::remove(dir / "output.bin");
  };
  for (int round = 0; round < options.rounds && ok; ++round) {
    Round r;
    double put = 0, get = 0, get_file = 0;
    r.put = timed([&] { put = raw_put(raw, data, options.piece_bytes, options.parallel); });
    r.get = timed([&] { get = raw_get(raw, data.size(), options.piece_bytes, options.parallel); });
    r.get_file = timed([&] {
      get_file = raw_get(raw, data.size(), options.piece_bytes, options.parallel, (dir / "raw.bin").string());
    });
    if (put < 0 || get < 0 || get_file < 0) ok = false, failure = "raw curl transfer failed";
    measure(storage, r.push, r.pull, round == 0);
    if (ok) measure(plain_storage, r.plain_push, r.plain_pull, round == 0);
    rounds.push_back(r);
  }
  std::filesystem::remove_all(dir);
  if (!ok) {
    fmt::print(stderr, "sxengine: bench transfer failed: {}\n", failure);
    return 1;
  }
  const double mb = static_cast<double>(data.size()) / 1e6;
  const auto med = [&](auto&& of) {
    std::vector<double> v;
    for (const Round& r : rounds) v.push_back(of(r));
    return median(v);
  };
  const double push_mbps = med([&](const Round& r) { return mb / r.push.seconds; });
  const double pull_mbps = med([&](const Round& r) { return mb / r.pull.seconds; });
  const double plain_push_mbps = med([&](const Round& r) { return mb / r.plain_push.seconds; });
  const double plain_pull_mbps = med([&](const Round& r) { return mb / r.plain_pull.seconds; });
  const double put_mbps = med([&](const Round& r) { return mb / r.put.seconds; });
  const double get_mbps = med([&](const Round& r) { return mb / r.get.seconds; });
  const double get_file_mbps = med([&](const Round& r) { return mb / r.get_file.seconds; });
  const double push_ratio = med([](const Round& r) { return r.put.seconds / r.push.seconds; });
  const double pull_ratio = med([](const Round& r) { return r.get_file.seconds / r.pull.seconds; });
  const double push_cpu = med([](const Round& r) { return r.push.cpu / r.put.cpu; });
  const double pull_cpu = med([](const Round& r) { return r.pull.cpu / r.get_file.cpu; });
  const double push_plain_ratio = med([](const Round& r) { return r.plain_push.seconds / r.push.seconds; });
  const double pull_plain_ratio = med([](const Round& r) { return r.plain_pull.seconds / r.pull.seconds; });
  if (options.json) {
    fmt::print("{{\"server\":\"{}\",\"bytes\":{},\"piece_bytes\":{},\"parallel\":{},\"rounds\":{},"
               "\"push_mbps\":{:.1f},\"pull_mbps\":{:.1f},\"push_plain_mbps\":{:.1f},\"pull_plain_mbps\":{:.1f},"
               "\"raw_put_mbps\":{:.1f},\"raw_get_mbps\":{:.1f},\"raw_get_to_file_mbps\":{:.1f},"
               "\"push_ratio\":{:.3f},\"pull_ratio_to_file\":{:.3f},\"push_cpu_ratio\":{:.3f},\"pull_cpu_ratio\":{:.3f},"
               "\"push_encrypted_vs_plain\":{:.3f},\"pull_encrypted_vs_plain\":{:.3f}}}\n",
               nginx ? "private nginx" : options.server, data.size(), options.piece_bytes, options.parallel,
               options.rounds, push_mbps, pull_mbps, plain_push_mbps, plain_pull_mbps, put_mbps, get_mbps,
               get_file_mbps, push_ratio, pull_ratio, push_cpu, pull_cpu, push_plain_ratio, pull_plain_ratio);
  } else {
    fmt::print("transfer bench: {} MB in {} KiB pieces, --parallel {}, median of {} alternating rounds, server {}\n", mb,
               options.piece_bytes >> 10, options.parallel, options.rounds,
               nginx ? "private nginx on 127.0.0.1" : options.server);
    fmt::print("push (encrypted)     {:8.1f} MB/s = {:.2f} x raw curl PUT's speed ({:.1f} MB/s), {:.2f} x its CPU\n",
               push_mbps, push_ratio, put_mbps, push_cpu);
    fmt::print("pull (encrypted)     {:8.1f} MB/s = {:.2f} x raw curl GET to a file's speed ({:.1f} MB/s), {:.2f} x its CPU\n",
               pull_mbps, pull_ratio, get_file_mbps, pull_cpu);
    fmt::print("                     (raw curl GET to memory: {:.1f} MB/s)\n", get_mbps);
    fmt::print("push (--no-encrypt)  {:8.1f} MB/s; encrypted runs at {:.2f} x its speed\n", plain_push_mbps,
               push_plain_ratio);
    fmt::print("pull (--no-encrypt)  {:8.1f} MB/s; encrypted runs at {:.2f} x its speed\n", plain_pull_mbps,
               pull_plain_ratio);
  }
  return 0;
}

}  // namespace sx::bench
