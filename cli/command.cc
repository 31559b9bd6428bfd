#include "cli/command.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/interrupt.h"
#include "cli/progress_printer.h"
#include "sx/storage.h"

namespace sx::cli {

void add_transfer_options(CLI::App* cmd, Options& o) {
  cmd->add_option("--parallel", o.parallel, "piece requests in flight (a hard cap, all hosts together)")
      ->check(CLI::Range(1, 1024))->capture_default_str();
  cmd->add_option("--workers", o.workers, "encode/decode threads (0: one per core)")
      ->check(CLI::Range(0, 256))->capture_default_str();
  cmd->add_option("--retries", o.retries, "retries per request")->check(CLI::Range(0, 100))->capture_default_str();
  cmd->add_option("--stall-timeout", o.stall_timeout_s, "seconds below 1 KiB/s before a transfer is retried")
      ->check(CLI::Range(1, 3600))->capture_default_str();
  cmd->add_option("--connect-timeout", o.connect_timeout_s, "seconds")->check(CLI::Range(1, 600))->capture_default_str();
  cmd->add_option("--request-timeout", o.request_timeout_s, "seconds one request may take in all")
      ->check(CLI::Range(1, 86400))->capture_default_str();
  cmd->add_option("--bwlimit", o.bwlimit_bytes_per_s,
                  "cap on bytes per second in each direction, all connections together (10M = 10 MiB/s)")
      ->transform(CLI::AsSizeValue(false))
      ->check(CLI::Validator(
          [](std::string& value) {  // "-1" would wrap to no limit at all
            return value.find('-') != std::string::npos ? std::string("a limit cannot be negative") : std::string();
          },
          ""));
  cmd->add_flag("--insecure", o.insecure, "do NOT verify TLS certificates (unsafe)");
  cmd->add_option("--cacert", o.cacert, "trust the CAs in this PEM file (else CURL_CA_BUNDLE, SSL_CERT_FILE)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--capath", o.capath, "trust the CAs in this hashed directory (else SSL_CERT_DIR)")
      ->check(CLI::ExistingDirectory);
  cmd->add_option("--proxy", o.proxy, "proxy URL for every request (else http_proxy, HTTPS_PROXY, ALL_PROXY, NO_PROXY)");
  cmd->add_flag("--allow-private-addresses", o.allow_private_addresses,
                "let a key that is not on a private network name pieces on loopback, private or link-local addresses");
  cmd->add_flag("--http1.1", o.http1_only, "HTTP/1.1 only (default: HTTP/2 over TLS when offered, multiplexed)");
  cmd->add_option("--endpoint", o.endpoint, "S3 endpoint URL (default: AWS_ENDPOINT_URL, else AWS)");
}

int run_with_storage(CommandLine& line, bool progress,
                     const std::function<int(Storage& storage, ProgressPrinter& printer)>& body) {
  ProgressPrinter printer(choose_progress_mode(line.quiet || !progress, line.json));
  line.options.progress = &printer;
  if (line.options.insecure)
    fmt::print(stderr, "sxengine: warning: --insecure: TLS certificates are NOT verified; anyone on the path "
                       "can read and change this transfer\n");
  Storage storage(line.options);
  InterruptWatcher watcher(storage);
  return body(storage, printer);
}

}  // namespace sx::cli
