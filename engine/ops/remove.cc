#include "engine/ops/remove.h"

#include <algorithm>
#include <future>

#include "engine/ops/manifest_tree.h"

namespace sx::engine {
namespace {

Status remove_one(net::Backend& backend, const std::string& key) {
  std::promise<Status> promise;
  auto future = promise.get_future();
  backend.remove(key, [&promise](Status s) { promise.set_value(std::move(s)); });
  return future.get();
}

}  // namespace

Result<RemoveReport> remove(Context& ctx, net::Backend& backend, const CheckedManifest& checked,
                            const std::optional<codec::ContentKey>& content_key, bool force) {
  const codec::Manifest& manifest = checked.manifest();
  const std::string& url = checked.url();
  // Encrypted pieces are unique to their push (its own key); unencrypted
  // ones are content-addressed and may be shared. The local store counts
  // references; HTTP and S3 cannot, so sharing there needs --force.
  const bool counts_references = url.rfind("file://", 0) == 0;
  if (manifest.encryption == "none" && !counts_references && !force)
    return make_error(Errc::kInvalidArgument,
                      "this key is unencrypted: its pieces may be shared with identical pieces of another "
                      "unencrypted push to the same place, which rm cannot see on this backend; --force deletes them anyway");
  RemoveReport report;
  // Data pieces first, the manifest last: an interrupted rm leaves a key
  // that still names what is left, and rm can be run again.
  std::vector<std::string> keys;
  for (const codec::PieceEntry& piece : manifest.pieces) keys.push_back(piece.key);
  for (const codec::PieceEntry& piece : manifest.parity_pieces) keys.push_back(piece.key);
  // A striped key's other manifest copies (their hosts may be gone: then
  // their roots are counted as not removed below, and rm can be run again).
  std::vector<std::string> copies{url};
  copies.insert(copies.end(), ctx.manifest_alternates.begin(), ctx.manifest_alternates.end());
  for (const std::string& copy : copies) {
    if (std::find(checked.manifest_keys().begin(), checked.manifest_keys().end(), copy) != checked.manifest_keys().end())
      continue;
    auto tree = fetch_manifest_tree(ctx, backend, copy, content_key);
    if (!tree) {
      keys.push_back(copy);
      continue;
    }
    for (auto it = tree->manifest_keys.rbegin(); it != tree->manifest_keys.rend(); ++it) keys.push_back(*it);
  }
  for (auto it = checked.manifest_keys().rbegin(); it != checked.manifest_keys().rend(); ++it) keys.push_back(*it);
  for (const std::string& key : keys) {
    if (ctx.cancelled()) return make_error(Errc::kCancelled, "rm cancelled");
    if (auto allowed = checked.policy().may_change(key); !allowed) {
      report.skipped.push_back(allowed.error().message);
      continue;
    }
    Status removed = remove_one(backend, key);
    if (removed) {
      ++report.removed;
    } else if (removed.error().code == Errc::kNotFound) {
      ++report.already_gone;
    } else {
      Error e = std::move(removed).error();
      e.message += " (" + std::to_string(report.removed) + " of " + std::to_string(keys.size()) +
                   " objects removed; rm can be run again)";
      return e;
    }
  }
  report.objects = keys.size();
  return report;
}

}  // namespace sx::engine
