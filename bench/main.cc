// sxengine-bench: throughput benchmarks against baselines measured in the
// same run. A program of its own (`sxengine bench` runs it) so that the
// shipped sxengine carries none of the baselines nor the replaced operator new.
#include <CLI/CLI.hpp>

#include "bench/bench.h"
#include "sx/storage.h"

int main(int argc, char** argv) {
  sx::Runtime runtime;
  CLI::App app{"sxengine bench: throughput against baselines measured in the same run"};
  app.name("sxengine bench");
  app.require_subcommand(1);
  sx::bench::BenchOptions o;

  CLI::App* codec = app.add_subcommand("codec", "encode/decode vs stb_image and libspng");
  codec->add_option("--size", o.piece_bytes, "payload bytes")->transform(CLI::AsSizeValue(false))->capture_default_str();
  codec->add_option("--rounds", o.rounds, "best of N")->check(CLI::Range(1, 1000))->capture_default_str();
  codec->add_flag("--json", o.json, "one JSON object");

  CLI::App* transfer = app.add_subcommand("transfer", "push/pull vs raw libcurl PUT/GET");
  transfer->add_option("--backend,--server", o.server,
                       "http(s)://HOST/PREFIX/ or s3://BUCKET/PREFIX (default: start a private nginx)");
  transfer->add_option("--endpoint", o.endpoint, "S3 endpoint URL (default: AWS_ENDPOINT_URL)");
  transfer->add_option("--cacert", o.cacert, "trusted CAs (PEM) for an https server, for sxengine and raw curl");
  transfer->add_flag("--http1.1", o.http1, "HTTP/1.1 only on both sides (default: HTTP/2 over TLS when offered)");
  transfer->add_option("--size", o.file_bytes, "bytes to move")->transform(CLI::AsSizeValue(false))->capture_default_str();
  transfer->add_option("--piece-size", o.piece_bytes, "payload bytes per piece")
      ->transform(CLI::AsSizeValue(false))->capture_default_str();
  transfer->add_option("--parallel", o.parallel, "requests in flight")->check(CLI::Range(1, 1024))->capture_default_str();
  transfer->add_option("--rounds", o.rounds, "best of N")->check(CLI::Range(1, 100))->capture_default_str();
  transfer->add_flag("--json", o.json, "one JSON object");

  CLI::App* local = app.add_subcommand("local", "push/pull to a local store vs cp, encrypted and not");
  local->add_option("--size", o.file_bytes, "file bytes")->transform(CLI::AsSizeValue(false))->capture_default_str();
  local->add_option("--piece-size", o.piece_bytes, "payload bytes per piece")
      ->transform(CLI::AsSizeValue(false))->capture_default_str();
  local->add_option("--rounds", o.rounds, "best of N")->check(CLI::Range(1, 100))->capture_default_str();
  local->add_flag("--json", o.json, "one JSON object");

  CLI::App* crypto = app.add_subcommand("crypto", "AES-256-GCM vs XChaCha20-Poly1305 per core");
  crypto->add_option("--size", o.piece_bytes, "payload bytes")->transform(CLI::AsSizeValue(false))->capture_default_str();
  crypto->add_option("--rounds", o.rounds, "best of N")->check(CLI::Range(1, 1000))->capture_default_str();
  crypto->add_flag("--json", o.json, "one JSON object");

  CLI::App* parity = app.add_subcommand("parity", "Reed-Solomon (ISA-L) encode/decode per core vs memcpy and AES-GCM");
  parity->add_option("--size", o.piece_bytes, "payload bytes per piece")->transform(CLI::AsSizeValue(false))->capture_default_str();
  parity->add_option("--backends", o.backends, "stripe width B")->check(CLI::Range(2, 16))->capture_default_str();
  parity->add_option("--parity", o.parity, "parity pieces K (< B)")->check(CLI::Range(1, 15))->capture_default_str();
  parity->add_option("--rounds", o.rounds, "best of N")->check(CLI::Range(1, 1000))->capture_default_str();
  parity->add_flag("--json", o.json, "one JSON object");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  if (codec->parsed()) return sx::bench::run_codec_bench(o);
  if (transfer->parsed()) return sx::bench::run_transfer_bench(o);
  if (local->parsed()) return sx::bench::run_local_bench(o);
  if (parity->parsed()) return sx::bench::run_parity_bench(o);
  return sx::bench::run_crypto_bench(o);
}
