// `sxengine serve`: the HTTP gateway (gateway/gateway.h, docs/GATEWAY.md).
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cstdio>

#include "cli/command.h"
#include "cli/exit_status.h"
#include "cli/interrupt.h"
#include "gateway/gateway.h"

namespace sx::cli {

CommandRunner add_serve_command(CLI::App& app) {
  auto options = std::make_shared<gateway::GatewayOptions>();
  options->engine.parallel = 8;  // pieces in flight for all clients together: each costs about 2 pieces of memory
  CLI::App* serve = app.add_subcommand("serve", "serve keys over HTTP: GET /file?key=KEY streams a file, with ranges");
  serve->add_option("--listen", options->listen, "ADDR:PORT to listen on (numeric; [::1]:PORT for IPv6)")
      ->capture_default_str();
  serve->add_option("--cache-size", options->cache_bytes,
                    "memory for pieces, fetch buffers and manifests, all clients together")
      ->transform(CLI::AsSizeValue(false))->capture_default_str();
  serve->add_option("--max-connections", options->max_connections, "connections at once; more are closed")
      ->check(CLI::Range(1, 4096))->capture_default_str();
  serve->add_option("--read-ahead", options->read_ahead, "pieces fetched ahead of a sequential reader")
      ->check(CLI::Range(0, 64))->capture_default_str();
  serve->add_option("--idle-timeout", options->idle_timeout_s, "seconds before a silent connection is closed")
      ->check(CLI::Range(1, 86400))->capture_default_str();
  serve->add_flag("--allow-upload", options->allow_upload, "accept PUT /upload/NAME (pushed to --backend)");
  serve->add_option("--backend", options->engine.backend, "where uploads are pushed (as push --backend)");
  serve->add_flag("--allow-file-keys", options->allow_file_keys,
                  "serve file:// keys when listening beyond loopback (reads this machine's disk for clients)");
  serve->add_option("--token", options->token, "require 'Authorization: Bearer TOKEN' (also SXENGINE_TOKEN)")
      ->envname("SXENGINE_TOKEN");
  add_transfer_options(serve, options->engine);

  return [serve, options]() -> int {
    if (!serve->parsed()) return -1;
    if (options->engine.insecure)
      fmt::print(stderr, "sxengine: warning: --insecure: TLS certificates are NOT verified\n");
    gateway::ServeHooks hooks;
    hooks.ready = [](const std::string& url) {
      std::printf("%s\n", url.c_str());
      std::fflush(stdout);
    };
    hooks.log = [](std::string_view line) { fmt::print(stderr, "{}\n", line); };
    hooks.stop = [] { return interrupting_signal() != 0; };
    auto served = gateway::serve(*options, hooks);
    if (!served) return fail(nullptr, served.error());
    return int{kExitOk};
  };
}

}  // namespace sx::cli
