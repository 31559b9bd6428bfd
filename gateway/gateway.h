// `sxengine serve`: an HTTP gateway that turns download keys into URLs
// (docs/GATEWAY.md). This header is all the CLI sees: no libmicrohttpd here.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "sx/error.h"
#include "sx/options.h"

namespace sx::gateway {

struct GatewayOptions {
  std::string listen = "127.0.0.1:8340";
  // The bound on what the gateway holds for all requests together: decoded
  // pieces (being fetched, being sent, kept for the next reader), the fetch
  // buffers of the pieces in flight, and cached manifests (memory_budget()).
  std::size_t cache_bytes = std::size_t{256} << 20;
  int max_connections = 32;  // beyond it, new connections are closed at once
  int read_ahead = 8;        // pieces fetched ahead of a sequential reader, at most
  int idle_timeout_s = 60;   // a connection silent this long is closed
  int piece_wait_s = 120;    // a piece that takes longer fails its response
  bool allow_upload = false;
  int max_uploads = 2;       // pushes at once; more get 503
  bool allow_file_keys = false;  // only matters off loopback: on it, file:// keys are served
  std::string token;         // non-empty: every request but /healthz needs "Authorization: Bearer TOKEN"
  Options engine;            // transfers (--parallel = pieces in flight), and uploads' backend
};

struct ServeHooks {
  std::function<void(const std::string& url)> ready;  // once listening: the base URL
  std::function<void(std::string_view line)> log;     // one access or error line (no secrets)
  std::function<bool()> stop;                         // polled every 100 ms: true ends serve()
};

// How --cache-size is shared out. Fetch buffers are sized for the default
// 8 MiB pieces: files pushed with larger pieces cost more per fetch.
inline constexpr std::size_t kBudgetPieceBytes = std::size_t{8} << 20;
struct MemoryBudget {
  std::size_t pieces = 0;         // the piece cache's capacity
  std::size_t fetch_buffers = 0;  // parallel × 2 pieces
  std::size_t manifests = 0;      // a sixteenth
};
// kInvalidArgument when the cache cannot hold the fetch buffers and a few pieces.
Result<MemoryBudget> memory_budget(std::size_t cache_bytes, int parallel);

// Runs the gateway until hooks.stop() says so; fails when it cannot start
// (address in use, bad --listen).
Status serve(const GatewayOptions& options, const ServeHooks& hooks);

}  // namespace sx::gateway
