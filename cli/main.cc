// The sxengine program: argv → exit code (0 ok, 1 failure, 2 usage).
// CLI11's exceptions stop here.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <atomic>
#include <csignal>
#include <thread>

#include "bench/bench.h"
#include "cli/progress_printer.h"
#include "sx/storage.h"

namespace {

volatile std::sig_atomic_t g_interrupted = 0;  // the one allowed global (SIGINT)

void on_sigint(int) { g_interrupted = 1; }

// Turns Ctrl-C into Storage::cancel() from a normal thread.
class InterruptWatcher {
 public:
  explicit InterruptWatcher(sx::Storage& storage)
      : thread_([this, &storage] {
          while (!stop_) {
            if (g_interrupted) {
              storage.cancel();
              return;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
          }
        }) {
    std::signal(SIGINT, on_sigint);
    std::signal(SIGTERM, on_sigint);
  }
  ~InterruptWatcher() {
    stop_ = true;
    thread_.join();
  }

 private:
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

int fail(sx::cli::ProgressPrinter* printer, const sx::Error& error) {
  if (printer) printer->close_line();
  if (g_interrupted)
    fmt::print(stderr, "sxengine: interrupted: {}\n", sx::cli::printable(error.message));
  else
    fmt::print(stderr, "sxengine: error: {}\n", sx::cli::printable(error.message));
  return 1;
}

std::string json_escape(std::string_view text) {
  std::string out;
  for (const char c : text) {
    if (c == '"' || c == '\\') out += '\\', out += c;
    else if (static_cast<unsigned char>(c) < 0x20) out += fmt::format("\\u{:04x}", static_cast<int>(c));
    else out += c;
  }
  return out;
}

void add_transfer_options(CLI::App* cmd, sx::Options& o) {
  cmd->add_option("--parallel", o.parallel, "piece requests in flight (network backends)")
      ->check(CLI::Range(1, 1024))->capture_default_str();
  cmd->add_option("--workers", o.workers, "encode/decode threads (0: one per core)")
      ->check(CLI::Range(0, 256))->capture_default_str();
  cmd->add_option("--retries", o.retries, "retries per request")->check(CLI::Range(0, 100))->capture_default_str();
  cmd->add_option("--stall-timeout", o.stall_timeout_s, "seconds below 1 KiB/s before a transfer is retried")
      ->check(CLI::Range(1, 3600))->capture_default_str();
  cmd->add_option("--connect-timeout", o.connect_timeout_s, "seconds")->check(CLI::Range(1, 600))->capture_default_str();
  cmd->add_option("--request-timeout", o.request_timeout_s, "seconds one request may take in all")
      ->check(CLI::Range(1, 86400))->capture_default_str();
  cmd->add_flag("--insecure", o.insecure, "do NOT verify TLS certificates (unsafe)");
  cmd->add_option("--endpoint", o.endpoint, "S3 endpoint URL (default: AWS_ENDPOINT_URL, else AWS)");
}

}  // namespace

int main(int argc, char** argv) {
  sx::Runtime runtime;
  CLI::App app{"sxengine: store any file as PNG pieces on backends in cyber space"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "sxengine 0.1.0");

  sx::Options options;
  bool quiet = false, json = false;
  std::string path, name, key, out;

  CLI::App* push = app.add_subcommand("push", "store a file; prints its download key");
  push->add_option("FILE", path, "file to push, - for stdin")->required();
  push->add_option("--backend", options.backend,
                   "dir:PATH, file:///PATH, http(s)://HOST/PREFIX/, s3://BUCKET/PREFIX, host:NAME, "
                   "host:{JSON}, sxcu:PATH (default: the local store)");
  push->add_option("--piece-size", options.piece_bytes, "payload bytes per piece (8M, 512K, ...)")
      ->transform(CLI::AsSizeValue(false))->check(CLI::Range(std::size_t{1024}, std::size_t{255} << 20))
      ->capture_default_str();
  auto* width = push->add_option("--width", options.width, "piece image width in pixels")->check(CLI::Range(1u, 16384u));
  auto* height = push->add_option("--height", options.height, "piece image height in pixels")->check(CLI::Range(1u, 16384u));
  width->needs(height);
  height->needs(width);
  push->add_option("--name", name, "file name stored in the manifest (default: FILE's)");
  push->add_flag("--no-encrypt", [&options](std::int64_t) { options.encrypt = false; },
                 "store public, unencrypted pieces (as storagex did)");
  push->add_option("--passphrase", options.passphrase,
                   "derive the key from a passphrase with Argon2id (also SXENGINE_PASSPHRASE)")
      ->envname("SXENGINE_PASSPHRASE");
  std::string compress = "auto";
  push->add_option("--compress", compress, "zstd before encryption: auto (when a sample shrinks), none, zstd")
      ->check(CLI::IsMember({"auto", "none", "zstd"}))->capture_default_str();
  push->add_option("--level", options.deflate_level, "0 stored (fastest) or deflate level 1..12")
      ->check(CLI::Range(0, 12))->capture_default_str();
  push->add_option("--acl", options.acl, "S3 canned ACL for every object (public-read: keys pull without credentials)")
      ->check(CLI::IsMember({"private", "public-read", "authenticated-read", "bucket-owner-read",
                             "bucket-owner-full-control"}));
  push->add_flag("--s3-sign-payload", options.s3_sign_payload,
                 "S3: sign each body's SHA-256 instead of UNSIGNED-PAYLOAD");
  add_transfer_options(push, options);
  push->add_flag("-q,--quiet", quiet, "no progress output");
  push->add_flag("--json", json, "NDJSON events on stdout; the last one carries the key");

  CLI::App* pull = app.add_subcommand("pull", "rebuild a file from its download key");
  pull->add_option("KEY", key, "download key (file:// or http(s):// URL)")->required();
  pull->add_option("OUT", out, "output file or directory (default: the stored name, here)");
  pull->add_flag("-f,--force", options.force, "replace an existing output file");
  pull->add_option("--passphrase", options.passphrase, "passphrase of a #s= key (also SXENGINE_PASSPHRASE)")
      ->envname("SXENGINE_PASSPHRASE");
  add_transfer_options(pull, options);
  pull->add_flag("-q,--quiet", quiet, "no progress output");
  pull->add_flag("--json", json, "NDJSON events on stdout");

  CLI::App* info = app.add_subcommand("info", "show what a download key holds");
  info->add_option("KEY", key, "download key")->required();
  info->add_flag("--json", json, "one JSON object");
  info->add_option("--passphrase", options.passphrase, "passphrase of a #s= key (also SXENGINE_PASSPHRASE)")
      ->envname("SXENGINE_PASSPHRASE");
  add_transfer_options(info, options);

  sx::bench::BenchOptions bench_options;
  CLI::App* bench = app.add_subcommand("bench", "throughput benchmarks against baselines");
  bench->require_subcommand(1);
  CLI::App* bench_codec = bench->add_subcommand("codec", "encode/decode vs stb_image and libspng");
  bench_codec->add_option("--size", bench_options.piece_bytes, "payload bytes")
      ->transform(CLI::AsSizeValue(false))->capture_default_str();
  bench_codec->add_option("--rounds", bench_options.rounds, "best of N")->check(CLI::Range(1, 1000))->capture_default_str();
  bench_codec->add_flag("--json", bench_options.json, "one JSON object");
  CLI::App* bench_transfer = bench->add_subcommand("transfer", "push/pull vs raw libcurl PUT/GET");
  bench_transfer->add_option("--backend,--server", bench_options.server,
                             "http(s)://HOST/PREFIX/ or s3://BUCKET/PREFIX (default: start a private nginx)");
  bench_transfer->add_option("--endpoint", bench_options.endpoint, "S3 endpoint URL (default: AWS_ENDPOINT_URL)");
  bench_transfer->add_option("--size", bench_options.file_bytes, "bytes to move")
      ->transform(CLI::AsSizeValue(false))->capture_default_str();
  bench_transfer->add_option("--piece-size", bench_options.piece_bytes, "payload bytes per piece")
      ->transform(CLI::AsSizeValue(false))->capture_default_str();
  bench_transfer->add_option("--parallel", bench_options.parallel, "requests in flight")
      ->check(CLI::Range(1, 1024))->capture_default_str();
  bench_transfer->add_option("--rounds", bench_options.rounds, "best of N")->check(CLI::Range(1, 100))->capture_default_str();
  bench_transfer->add_flag("--json", bench_options.json, "one JSON object");

  CLI::App* bench_local = bench->add_subcommand("local", "push/pull to a local store vs cp, encrypted and not");
  bench_local->add_option("--size", bench_options.file_bytes, "file bytes")->transform(CLI::AsSizeValue(false))->capture_default_str();
  bench_local->add_option("--piece-size", bench_options.piece_bytes, "payload bytes per piece")
      ->transform(CLI::AsSizeValue(false))->capture_default_str();
  bench_local->add_option("--rounds", bench_options.rounds, "best of N")->check(CLI::Range(1, 100))->capture_default_str();
  bench_local->add_flag("--json", bench_options.json, "one JSON object");
  CLI::App* bench_crypto = bench->add_subcommand("crypto", "AES-256-GCM vs XChaCha20-Poly1305 per core");
  bench_crypto->add_option("--size", bench_options.piece_bytes, "payload bytes")->transform(CLI::AsSizeValue(false))->capture_default_str();
  bench_crypto->add_option("--rounds", bench_options.rounds, "best of N")->check(CLI::Range(1, 1000))->capture_default_str();
  bench_crypto->add_flag("--json", bench_options.json, "one JSON object");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }

  options.compress = compress == "none"   ? sx::Options::Compress::kNone
                     : compress == "zstd" ? sx::Options::Compress::kZstd
                                          : sx::Options::Compress::kAuto;
  if (bench_codec->parsed()) return sx::bench::run_codec_bench(bench_options);
  if (bench_transfer->parsed()) return sx::bench::run_transfer_bench(bench_options);
  if (bench_local->parsed()) return sx::bench::run_local_bench(bench_options);
  if (bench_crypto->parsed()) return sx::bench::run_crypto_bench(bench_options);

  sx::cli::ProgressPrinter printer(sx::cli::choose_progress_mode(quiet || info->parsed(), json && !info->parsed()));
  options.progress = &printer;
  if (options.insecure)
    fmt::print(stderr, "sxengine: warning: --insecure: TLS certificates are NOT verified; anyone on the path "
                       "can read and change this transfer\n");
  sx::Storage storage(options);
  InterruptWatcher watcher(storage);

  if (push->parsed()) {
    auto result = storage.upload(path, name);
    if (!result) return fail(&printer, result.error());
    if (json)
      fmt::print("{{\"event\":\"key\",\"key\":\"{}\"}}\n", json_escape(*result));
    else
      fmt::print("{}\n", *result);
    return 0;
  }
  if (pull->parsed()) {
    auto result = storage.download(key, out);
    if (!result) return fail(&printer, result.error());
    if (json)
      fmt::print("{{\"event\":\"written\",\"path\":\"{}\"}}\n", json_escape(*result));
    else if (!quiet)
      fmt::print(stderr, "sxengine: wrote {}\n", sx::cli::printable(*result));
    return 0;
  }
  auto result = storage.info(key);
  if (!result) return fail(&printer, result.error());
  const sx::FileInfo& i = *result;
  if (json) {
    fmt::print("{{\"name\":\"{}\",\"size\":{},\"sha256\":\"{}\",\"pieces\":{},\"piece_size\":{},"
               "\"width\":{},\"height\":{},\"format\":\"{}\",\"manifest_levels\":{},\"encryption\":\"{}\"}}\n",
               json_escape(i.name), i.size, i.sha256, i.pieces, i.piece_bytes, i.width, i.height,
               i.format, i.manifest_levels, i.encryption);
  } else {
    fmt::print("name:       {}\nsize:       {} bytes\nsha256:     {}\npieces:     {} of up to {} bytes ({}x{} px)\n"
               "format:     {}\nmanifest:   {} level{}\nencryption: {}\n",
               sx::cli::printable(i.name), i.size, i.sha256.empty() ? "(none: storagex v1)" : i.sha256, i.pieces,
               i.piece_bytes, i.width, i.height, i.format, i.manifest_levels, i.manifest_levels == 1 ? "" : "s",
               i.encryption == "none" ? "none (public pieces)" : i.encryption);
  }
  return 0;
}
