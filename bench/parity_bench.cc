// `sxengine bench parity`: ISA-L Reed-Solomon as push and pull use it, per
// core, next to memcpy and AES-256-GCM (the pass every encrypted byte takes
// anyway). Encode = the incremental update push runs on its reading thread
// for each data piece plus the copy of the K parity payloads out; decode =
// one lost data piece of a stripe rebuilt from the others.
#include <fmt/format.h>

#include <chrono>
#include <cstring>
#include <functional>
#include <vector>

#include "bench/bench.h"
#include "codec/erasure_code.h"
#include "codec/piece_crypto.h"

namespace sx::bench {

int run_parity_bench(const BenchOptions& options) {
  const int d = options.backends - options.parity, k = options.parity;
  auto code = codec::ErasureCode::create(d, k);
  if (!code) {
    fmt::print(stderr, "sxengine bench: error: {}\n", code.error().message);
    return 2;
  }
  const std::size_t n = options.piece_bytes;
  std::vector<std::vector<std::byte>> shards(static_cast<std::size_t>(d + k), std::vector<std::byte>(n));
  for (int i = 0; i < d; ++i)
    for (std::size_t j = 0; j < n; ++j) shards[i][j] = std::byte((i * 131 + j * 7) & 0xff);
  std::vector<std::byte*> pointers;
  for (auto& s : shards) pointers.push_back(s.data());
  std::vector<std::byte> out(n + codec::kTagBytes);
  const std::span<std::byte* const> parity(pointers.data() + d, static_cast<std::size_t>(k));
  // GB/s of data-piece bytes, best of N.
  auto best = [&](std::size_t bytes, const std::function<void()>& body) {
    double gbps = 0;
    for (int i = 0; i < options.rounds; ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      body();
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      gbps = std::max(gbps, bytes / s / 1e9);
    }
    return gbps;
  };
  const double copy = best(n, [&] { std::memcpy(out.data(), shards[0].data(), n); });
  codec::PieceCipher cipher(codec::random_key());
  const double aes = best(n, [&] { (void)cipher.seal({0, 1}, shards[0], out); });
  const double encode = best(n * d, [&] {
    for (std::byte* p : parity) std::memset(p, 0, n);
    for (int i = 0; i < d; ++i) code->update(i, shards[i], parity);
    for (std::byte* p : parity) std::memcpy(out.data(), p, n);  // into the slot's buffer
  });
  std::vector<std::vector<std::byte>> lost = shards;
  std::vector<std::byte*> lost_pointers;
  for (auto& s : lost) lost_pointers.push_back(s.data());
  bool present[codec::kMaxStripeShards];
  for (int i = 0; i < d + k; ++i) present[i] = i != 0;
  const double decode = best(n, [&] { (void)code->reconstruct(lost_pointers, std::span<const bool>(present, d + k), n); });
  const bool exact = lost[0] == shards[0];
  // What parity adds to a push's CPU per data byte, as a share of AES-GCM's.
  if (options.json) {
    fmt::print("{{\"backends\":{},\"parity\":{},\"bytes\":{},\"memcpy_gbps\":{:.3f},\"aes_256_gcm_seal_gbps\":{:.3f},"
               "\"encode_gbps\":{:.3f},\"decode_gbps\":{:.3f},\"exact\":{}}}\n",
               options.backends, k, n, copy, aes, encode, decode, exact ? "true" : "false");
  } else {
    fmt::print("parity bench: {} backends, {} data + {} parity pieces of {} MiB, best of {}, one core\n",
               options.backends, d, k, n >> 20, options.rounds);
    fmt::print("memcpy                       {:7.3f} GB/s\n", copy);
    fmt::print("AES-256-GCM seal             {:7.3f} GB/s   (every encrypted byte, on the workers)\n", aes);
    fmt::print("RS encode (update + copy)    {:7.3f} GB/s of data = {:.2f} x AES-GCM   (push's reading thread)\n",
               encode, encode / aes);
    fmt::print("RS decode, 1 piece lost      {:7.3f} GB/s of rebuilt piece{}\n", decode, exact ? "" : "  WRONG BYTES");
    fmt::print("a push at 1 GB/s of data spends {:.1f}% of one core on parity\n", 100.0 / encode);
  }
  return exact ? 0 : 1;
}

}  // namespace sx::bench
