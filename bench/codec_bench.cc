// Codec throughput: sxengine's piece writer/reader vs stb_image(_write) and
// libspng on the same random payload, with memcpy as the machine's ceiling.
// Counts heap allocations per piece on sxengine's paths (goal: zero).
#include <fmt/format.h>
#include <spng.h>
#include <stb_image.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <new>
#include <random>
#include <vector>

#include "bench/bench.h"
#include "codec/piece_reader.h"
#include "codec/piece_stream.h"
#include "codec/piece_writer.h"

extern "C" unsigned char* stbi_write_png_to_mem(const unsigned char* pixels, int stride_bytes,
                                                int x, int y, int n, int* out_len);

namespace {
std::atomic<long> g_allocations{0};  // bench-only counter behind operator new
}

void* operator new(std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace sx::bench {
namespace {

// Best of `rounds` in GB/s of `bytes` per call.
double best_gbps(int rounds, std::size_t bytes, const std::function<void()>& body) {
  double best = 0;
  for (int i = 0; i < rounds; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    body();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::max(best, bytes / s / 1e9);
  }
  return best;
}

std::vector<std::byte> spng_encode(const std::byte* rgb, std::uint32_t w, std::uint32_t h, int level) {
  spng_ctx* ctx = spng_ctx_new(SPNG_CTX_ENCODER);
  spng_set_option(ctx, SPNG_ENCODE_TO_BUFFER, 1);
  spng_set_option(ctx, SPNG_IMG_COMPRESSION_LEVEL, level);
  spng_set_option(ctx, SPNG_FILTER_CHOICE, SPNG_DISABLE_FILTERING);
  spng_ihdr ihdr{w, h, 8, SPNG_COLOR_TYPE_TRUECOLOR, 0, 0, 0};
  spng_set_ihdr(ctx, &ihdr);
  spng_encode_image(ctx, rgb, std::size_t{w} * h * 3, SPNG_FMT_PNG, SPNG_ENCODE_FINALIZE);
  std::size_t len = 0;
  int error = 0;
  void* out = spng_get_png_buffer(ctx, &len, &error);
  std::vector<std::byte> png(static_cast<std::byte*>(out), static_cast<std::byte*>(out) + len);
  std::free(out);
  spng_ctx_free(ctx);
  return png;
}

}  // namespace

int run_codec_bench(const BenchOptions& options) {
  const auto geometry = codec::geometry_for_piece_size(options.piece_bytes, codec::kDefaultLimits);
  if (!geometry) {
    fmt::print(stderr, "sxengine: error: {}\n", geometry.error().message);
    return 2;
  }
  const std::size_t n = options.piece_bytes;
  std::vector<std::byte> payload(n);
  std::mt19937_64 rng(42);
  for (std::size_t i = 0; i + 8 <= n; i += 8) {
    const std::uint64_t v = rng();
    std::memcpy(payload.data() + i, &v, 8);
  }
  const std::uint32_t w = geometry->width, h = geometry->rows_for(n);
  std::vector<std::byte> png(codec::max_png_bytes(*geometry));
  std::vector<std::byte> pixels(codec::pixel_bytes(geometry->width, geometry->height));
  std::vector<std::byte> copy(n);
  const int rounds = options.rounds;

  const double memcpy_gbps = best_gbps(rounds, n, [&] { std::memcpy(copy.data(), payload.data(), n); });
  std::size_t png_len = 0;
  bool ok = true;
  long encode_allocs = 0, decode_allocs = 0;  // counted around the codec calls only
  const double encode = best_gbps(rounds, n, [&] {
    codec::PieceHeader header;
    const long before = g_allocations.load();
    auto r = codec::write_piece(header, payload, *geometry, png);
    encode_allocs += g_allocations.load() - before;
    ok = ok && r.has_value();
    png_len = r ? *r : 0;
  });
  const double decode = best_gbps(rounds, n, [&] {
    const long before = g_allocations.load();
    auto r = codec::read_piece(std::span<const std::byte>(png.data(), png_len), pixels, codec::kDefaultLimits);
    decode_allocs += g_allocations.load() - before;
    ok = ok && r.has_value() && r->payload.size() == n &&
         std::memcmp(r->payload.data(), payload.data(), n) == 0;
  });

  // What pull does over the network: the same image read in curl-sized
  // chunks (256 KiB) by the streaming reader, straight into the payload.
  codec::PieceStream stream;
  std::vector<std::byte> streamed_out(n);
  const double stream_decode = best_gbps(rounds, n, [&] {
    stream.begin({0, w, h, codec::PiecePlace{0, 0}}, streamed_out, nullptr);
    const std::span<const std::byte> image(png.data(), png_len);
    for (std::size_t at = 0; ok && at < image.size(); at += 256 << 10)
      ok = stream.write(image.subspan(at, std::min<std::size_t>(256 << 10, image.size() - at))).has_value();
    auto r = stream.finish();
    ok = ok && r.has_value() && r->payload.size() == n && std::memcmp(r->payload.data(), payload.data(), n) == 0;
  });

  // Baselines get the same pixel bytes the piece holds.
  std::memcpy(pixels.data(), payload.data(), n);
  const int slow_rounds = std::max(1, rounds / 5);
  std::vector<std::byte> stb_png;
  const double stb_encode = best_gbps(slow_rounds, n, [&] {
    int len = 0;
    unsigned char* out = stbi_write_png_to_mem(reinterpret_cast<const unsigned char*>(pixels.data()), 0,
                                               static_cast<int>(w), static_cast<int>(h), 3, &len);
    stb_png.assign(reinterpret_cast<std::byte*>(out), reinterpret_cast<std::byte*>(out) + len);
    std::free(out);
  });
  const double stb_decode = best_gbps(slow_rounds, n, [&] {
    int x = 0, y = 0, c = 0;
    unsigned char* img = stbi_load_from_memory(reinterpret_cast<const unsigned char*>(stb_png.data()),
                                               static_cast<int>(stb_png.size()), &x, &y, &c, 3);
    ok = ok && img != nullptr;
    stbi_image_free(img);
  });
  std::vector<std::byte> spng_png;
  const double spng_encode_gbps = best_gbps(slow_rounds, n, [&] { spng_png = spng_encode(pixels.data(), w, h, 0); });
  std::vector<std::byte> spng_out(codec::pixel_bytes(w, h));
  const double spng_decode = best_gbps(slow_rounds, n, [&] {
    spng_ctx* ctx = spng_ctx_new(0);
    spng_set_png_buffer(ctx, spng_png.data(), spng_png.size());
    ok = ok && spng_decode_image(ctx, spng_out.data(), spng_out.size(), SPNG_FMT_RGB8, 0) == 0;
    spng_ctx_free(ctx);
  });

  if (options.json) {
    fmt::print(
        "{{\"piece_bytes\":{},\"memcpy_gbps\":{:.3f},\"encode_gbps\":{:.3f},\"decode_gbps\":{:.3f},"
        "\"stb_encode_gbps\":{:.4f},\"stb_decode_gbps\":{:.4f},\"spng_encode_gbps\":{:.4f},"
        "\"spng_decode_gbps\":{:.4f},\"stream_decode_gbps\":{:.3f},\"encode_allocations_per_piece\":{:.2f},"
        "\"decode_allocations_per_piece\":{:.2f},\"verified\":{}}}\n",
        n, memcpy_gbps, encode, decode, stb_encode, stb_decode, spng_encode_gbps, spng_decode, stream_decode,
        static_cast<double>(encode_allocs) / rounds, static_cast<double>(decode_allocs) / rounds, ok);
  } else {
    fmt::print("codec bench: {} MiB random payload, {}x{} px, best of {} (baselines best of {}), one core\n",
               n >> 20, w, h, rounds, slow_rounds);
    fmt::print("memcpy               {:8.3f} GB/s  (this machine's copy ceiling)\n", memcpy_gbps);
    fmt::print("sxengine encode      {:8.3f} GB/s = {:.2f} x memcpy, {:.0f} x stb_image_write, {:.1f} x libspng (level 0)\n",
               encode, encode / memcpy_gbps, encode / stb_encode, encode / spng_encode_gbps);
    fmt::print("sxengine decode      {:8.3f} GB/s = {:.2f} x memcpy, {:.1f} x stb_image, {:.1f} x libspng\n", decode,
               decode / memcpy_gbps, decode / stb_decode, decode / spng_decode);
    fmt::print("sxengine stream read {:8.3f} GB/s = {:.2f} x memcpy (pull's reader, 256 KiB chunks)\n", stream_decode,
               stream_decode / memcpy_gbps);
    fmt::print("stb_image_write      {:8.4f} GB/s   stb_image  {:8.4f} GB/s\n", stb_encode, stb_decode);
    fmt::print("libspng encode (l0)  {:8.4f} GB/s   decode     {:8.4f} GB/s\n", spng_encode_gbps, spng_decode);
    fmt::print("allocations/piece    encode {:.2f}, decode {:.2f}   round trip verified: {}\n",
               static_cast<double>(encode_allocs) / rounds, static_cast<double>(decode_allocs) / rounds,
               ok ? "yes" : "NO");
  }
  if (!ok || encode_allocs > 0 || decode_allocs > 0) {
    fmt::print(stderr, "sxengine: bench codec FAILED: {}\n",
               ok ? "the codec allocated on its hot path" : "round trip mismatch");
    return 1;
  }
  return 0;
}

}  // namespace sx::bench
