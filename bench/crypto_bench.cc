// `sxengine bench crypto`: the AEAD choice, measured. AES-256-GCM (OpenSSL,
// what pieces use) next to XChaCha20-Poly1305 (libsodium) and memcpy.
#include <fmt/format.h>

#include <chrono>
#include <cstring>
#include <functional>
#include <vector>

#include "bench/bench.h"
#include "codec/piece_crypto.h"

namespace sx::bench {

int run_crypto_bench(const BenchOptions& options) {
  const std::size_t n = options.piece_bytes;
  std::vector<std::byte> plain(n, std::byte{7}), out(n + codec::kTagBytes);
  const codec::ContentKey key = codec::random_key();
  codec::PieceCipher cipher(key);
  auto best = [&](const std::function<void()>& body) {
    double gbps = 0;
    for (int i = 0; i < options.rounds; ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      body();
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      gbps = std::max(gbps, n / s / 1e9);
    }
    return gbps;
  };
  const double copy = best([&] { std::memcpy(out.data(), plain.data(), n); });
  const double aes = best([&] { (void)cipher.seal({0, 1}, plain, out); });
  const double aes_open = best([&] { (void)cipher.open({0, 1}, out, out); });
  const double xchacha = best([&] { codec::xchacha_seal(key, plain, out); });
  if (options.json) {
    fmt::print("{{\"bytes\":{},\"memcpy_gbps\":{:.3f},\"aes_256_gcm_seal_gbps\":{:.3f},\"aes_256_gcm_open_gbps\":{:.3f},"
               "\"xchacha20_poly1305_seal_gbps\":{:.3f}}}\n", n, copy, aes, aes_open, xchacha);
  } else {
    fmt::print("crypto bench: {} MiB payload, best of {}, one core\n", n >> 20, options.rounds);
    fmt::print("memcpy                       {:7.3f} GB/s\n", copy);
    fmt::print("AES-256-GCM seal (OpenSSL)   {:7.3f} GB/s   open {:.3f} GB/s   <- used for pieces\n", aes, aes_open);
    fmt::print("XChaCha20-Poly1305 (sodium)  {:7.3f} GB/s = {:.2f} x AES-256-GCM\n", xchacha, xchacha / aes);
  }
  return 0;
}

}  // namespace sx::bench
