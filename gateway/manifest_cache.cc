#include "gateway/manifest_cache.h"

namespace sx::gateway {

std::size_t ManifestCache::cost(const OpenedFile& file) {
  std::size_t bytes = sizeof(OpenedFile) + file.url().size() + file.manifest().name.size();
  for (const codec::PieceEntry& piece : file.manifest().pieces) bytes += sizeof(piece) + piece.key.size();
  return bytes;
}

std::shared_ptr<const OpenedFile> ManifestCache::find(const std::string& id) {
  std::lock_guard lock(mutex_);
  auto it = items_.find(id);
  if (it == items_.end()) return nullptr;
  order_.splice(order_.end(), order_, it->second.position);
  return it->second.file;
}

void ManifestCache::insert(std::shared_ptr<const OpenedFile> file) {
  const std::size_t bytes = cost(*file);
  if (bytes > capacity_) return;  // used by its request, then dropped
  std::lock_guard lock(mutex_);
  if (items_.count(file->id())) return;
  while (used_ + bytes > capacity_ && !order_.empty()) {
    auto victim = items_.find(order_.front());
    used_ -= victim->second.bytes;
    items_.erase(victim);
    order_.pop_front();
  }
  order_.push_back(file->id());
  used_ += bytes;
  const std::string id = file->id();
  items_.emplace(id, Item{std::move(file), bytes, std::prev(order_.end())});
}

}  // namespace sx::gateway
