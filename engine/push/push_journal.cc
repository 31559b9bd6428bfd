#include "engine/push/push_journal.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <filesystem>
#include <sstream>

#include "base/text.h"
#include "codec/checksum.h"
#include "engine/core/journal_records.h"
#include "engine/push/orphans.h"
#include "engine/core/unique_fd.h"

namespace sx::engine {
namespace {

// Removes the journals of PLACE but `keep`; one another run holds is left alone.
void remove_superseded(const std::string& dir, const std::string& place, const std::string& keep) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string file = entry.path().string();
    if (entry.path().filename().string().rfind(place + "-", 0) != 0 || file == keep) continue;
    UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd && ::flock(fd.get(), LOCK_EX | LOCK_NB) == 0) ::unlink(file.c_str());
  }
}

}  // namespace

std::string PushJournal::format(const ResumedPiece& resumed) { return format_push_record(resumed); }

Result<std::optional<PushJournal>> PushJournal::open(const Options& o, const std::string& backend,
                                                     const std::string& name, const std::optional<std::string>& source,
                                                     const PiecePlan& plan, DownloadKey& fresh,
                                                     const std::function<void(std::string)>& note) {
  if (!source) return std::optional<PushJournal>{};
  // Journals are named PLACE-ID: PLACE (the file's path, the backend, the
  // name) finds the journals of earlier pushes of this file to this place,
  // which this push supersedes (the file or the options changed, or
  // --no-resume): they go, so no stale content key is left behind.
  const std::string place =
      codec::sha256_hex(source->substr(0, source->find('\n')) + "\n" + backend + "\n" + name).substr(0, 32);
  // Everything that changes what is stored: same identity, same pieces.
  const std::string identity = codec::sha256_hex(
      "sxengine push journal 2\n" + *source + "\n" + backend + "\n" + name + "\n" + std::to_string(plan.piece_bytes) +
      " " + std::to_string(plan.geometry.width) + "x" + std::to_string(plan.geometry.height) + "\n" +
      (o.encrypt ? "encrypt" : "plain") + " " + codec::sha256_hex(o.passphrase) + " " +
      std::to_string(static_cast<int>(o.compress)) + " " + std::to_string(o.deflate_level));
  const std::string dir = state_dir() + "/push";
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);  // private: journals hold content keys
  ::chmod(dir.c_str(), 0700);
  const std::string path = dir + "/" + place + "-" + identity.substr(0, 32) + ".journal";
  remove_superseded(dir, place, o.resume ? path : std::string());
  if (!o.resume) return std::optional<PushJournal>{};
  std::string secret = format_download_key(fresh);  // "#k=…", "#s=…", or "" (no fragment)
  secret = "x" + secret;  // a URL stand-in, so the fragment parses as a key does
  std::vector<std::string> records;
  auto file = JournalFile::open(path, identity, secret, records);
  if (!file) {
    // Another run pushes this file now (it keeps the journal), or the state
    // directory cannot be written: this push goes on, resumable no more.
    if (note) note(file.error().message + "; this push cannot be resumed if it is interrupted");
    return std::optional<PushJournal>{};
  }
  PushJournal journal(std::move(*file));
  if (journal.resumed()) {
    auto key = parse_download_key(secret);
    if (!key) return make_error(Errc::kCorrupt, "push journal " + path + " holds a damaged key; --no-resume starts over");
    fresh.key = key->key;
    fresh.salt = key->salt;
    for (const std::string& line : records) {
      if (auto piece = parse_push_record(line)) journal.stored_[piece->entry.index] = std::move(*piece);
    }
  }
  return std::optional(std::move(journal));
}

}  // namespace sx::engine
