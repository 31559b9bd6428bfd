// stb_image_write's in-memory PNG encoder: libstb exports it but its header
// declares it only inside the implementation section.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <vector>

extern "C" unsigned char* stbi_write_png_to_mem(const unsigned char* pixels, int stride_bytes,
                                                int x, int y, int n, int* out_len);

namespace sx::testing {

// Encodes RGB8 pixels with stb_image_write (adaptive filters, zlib).
inline std::vector<std::byte> stb_png(const void* rgb, int width, int height) {
  int length = 0;
  unsigned char* out = stbi_write_png_to_mem(static_cast<const unsigned char*>(rgb), 0, width,
                                             height, 3, &length);
  std::vector<std::byte> png(reinterpret_cast<std::byte*>(out),
                             reinterpret_cast<std::byte*>(out) + length);
  std::free(out);
  return png;
}

}  // namespace sx::testing
