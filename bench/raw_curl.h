// The baseline for `bench transfer`: plain libcurl multi PUT/GET of the same
// bytes at the same parallelism, no PNG, no checksums, no retries.
#pragma once

#include <cstddef>
#include <span>
#include <string>

namespace sx::bench {

// PUTs `data` cut into `piece_bytes` objects under `prefix`, `parallel` at a
// time; returns seconds, or a negative number on failure.
double raw_put(const std::string& prefix, std::span<const std::byte> data, std::size_t piece_bytes, int parallel);
// GETs them back; seconds or negative. With `out_path` each body is written
// at its offset into that file, fsynced at the end (what pull does with the
// bytes); without, bodies are discarded (the network alone).
double raw_get(const std::string& prefix, std::size_t total_bytes, std::size_t piece_bytes, int parallel,
               const std::string& out_path = {});

}  // namespace sx::bench
