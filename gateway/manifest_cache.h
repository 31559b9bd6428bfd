// Opened keys (checked manifests) kept for the next request of the same key,
// least recently used first out, bounded by an estimate of their bytes.
// Failures are not kept: a missing manifest is asked for again next time.
#pragma once

#include <cstddef>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "gateway/piece_fetcher.h"

namespace sx::gateway {

class ManifestCache {
 public:
  explicit ManifestCache(std::size_t capacity_bytes) : capacity_(capacity_bytes) {}

  std::shared_ptr<const OpenedFile> find(const std::string& id);
  void insert(std::shared_ptr<const OpenedFile> file);

  // What a manifest costs in memory, about: its piece table and strings.
  static std::size_t cost(const OpenedFile& file);

 private:
  struct Item {
    std::shared_ptr<const OpenedFile> file;
    std::size_t bytes = 0;
    std::list<std::string>::iterator position;
  };
  const std::size_t capacity_;
  std::mutex mutex_;  // guards items_, order_, used_
  std::unordered_map<std::string, Item> items_;
  std::list<std::string> order_;  // most recently used last
  std::size_t used_ = 0;
};

}  // namespace sx::gateway
