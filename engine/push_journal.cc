#include "engine/push_journal.h"

#include <charconv>
#include <sstream>

#include "base/text.h"
#include "codec/checksum.h"
#include "engine/orphans.h"

namespace sx::engine {
namespace {

std::string sha256_hex(std::string_view text) {
  return text::to_hex(codec::sha256(std::as_bytes(std::span<const char>(text.data(), text.size()))));
}

// "index size crc32 key": one stored piece.
bool parse_record(const std::string& line, codec::PieceEntry& piece) {
  std::istringstream in(line);
  std::string crc;
  if (!(in >> piece.index >> piece.size >> crc >> piece.key) || crc.size() != 8) return false;
  const auto [end, ec] = std::from_chars(crc.data(), crc.data() + 8, piece.crc32, 16);
  return ec == std::errc() && end == crc.data() + 8 && piece.key.find_first_of(" \n") == std::string::npos;
}

}  // namespace

std::string PushJournal::format(const codec::PieceEntry& piece) {
  return std::to_string(piece.index) + " " + std::to_string(piece.size) + " " + codec::hex32(piece.crc32) + " " +
         piece.key;
}

Result<std::optional<PushJournal>> PushJournal::open(const Options& o, const std::string& backend,
                                                     const std::string& name, const InputFile& input,
                                                     const PiecePlan& plan, DownloadKey& fresh) {
  const std::optional<std::string> source = input.identity();
  if (!source) return std::optional<PushJournal>{};
  // Everything that changes what is stored: same identity, same pieces.
  const std::string identity = sha256_hex(
      "sxengine push journal 1\n" + *source + "\n" + backend + "\n" + name + "\n" + std::to_string(plan.piece_bytes) +
      " " + std::to_string(plan.geometry.width) + "x" + std::to_string(plan.geometry.height) + "\n" +
      (o.encrypt ? "encrypt" : "plain") + " " + sha256_hex(o.passphrase) + " " +
      std::to_string(static_cast<int>(o.compress)) + " " + std::to_string(o.deflate_level));
  const std::string path = state_dir() + "/push/" + identity + ".journal";
  std::string secret = format_download_key(fresh);  // "#k=…", "#s=…", or "" (no fragment)
  secret = "x" + secret;  // a URL stand-in, so the fragment parses as a key does
  std::vector<std::string> records;
  auto file = JournalFile::open(path, identity, secret, records);
  if (!file) return std::move(file).error();
  PushJournal journal(std::move(*file));
  if (journal.resumed()) {
    auto key = parse_download_key(secret);
    if (!key) return make_error(Errc::kCorrupt, "push journal " + path + " holds a damaged key; --no-resume starts over");
    fresh.key = key->key;
    fresh.salt = key->salt;
    for (const std::string& line : records) {
      codec::PieceEntry piece;
      if (parse_record(line, piece)) journal.stored_[piece.index] = std::move(piece);
    }
  }
  return std::optional(std::move(journal));
}

}  // namespace sx::engine
