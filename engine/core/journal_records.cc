#include "engine/core/journal_records.h"

#include <charconv>
#include <sstream>

#include "codec/checksum.h"
#include "codec/manifest.h"

namespace sx::engine {

std::string sealed_line(std::string_view text) {
  const auto bytes = std::as_bytes(std::span<const char>(text.data(), text.size()));
  return std::string(text) + " " + codec::hex32(codec::crc32(bytes)) + "\n";
}

namespace {

// The text of a whole, intact line; false for a torn or damaged one.
bool unseal(std::string_view line, std::string& text) {
  if (line.size() < 9 || line[line.size() - 9] != ' ') return false;
  text = std::string(line.substr(0, line.size() - 9));
  const auto bytes = std::as_bytes(std::span<const char>(text.data(), text.size()));
  return codec::hex32(codec::crc32(bytes)) == line.substr(line.size() - 8);
}

bool is_hex_digest(std::string_view digest) {
  if (digest.size() != 32) return false;
  for (const char c : digest)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

}  // namespace

std::vector<std::string> intact_lines(std::string_view all) {
  std::vector<std::string> lines;
  std::size_t at = 0;
  for (std::size_t end; (end = all.find('\n', at)) != std::string_view::npos; at = end + 1) {
    std::string text;
    if (!unseal(all.substr(at, end - at), text)) break;  // torn: drop it and the rest
    lines.push_back(std::move(text));
  }
  return lines;
}

std::string format_push_record(const ResumedPiece& resumed) {
  const codec::PieceEntry& piece = resumed.entry;
  return std::to_string(piece.index) + " " + std::to_string(piece.size) + " " + codec::hex32(piece.crc32) + " " +
         piece.key + " " + resumed.digest;
}

std::optional<ResumedPiece> parse_push_record(std::string_view line) {
  ResumedPiece resumed;
  codec::PieceEntry& piece = resumed.entry;
  std::istringstream in{std::string(line)};
  std::string crc, rest;
  if (!(in >> piece.index >> piece.size >> crc >> piece.key >> resumed.digest) || (in >> rest) || crc.size() != 8 ||
      !is_hex_digest(resumed.digest))
    return std::nullopt;
  const auto [end, ec] = std::from_chars(crc.data(), crc.data() + 8, piece.crc32, 16);
  if (ec != std::errc() || end != crc.data() + 8) return std::nullopt;
  return resumed;
}

std::optional<std::pair<std::uint64_t, std::string>> parse_pull_record(std::string_view line) {
  const auto space = line.find(' ');
  if (space == std::string_view::npos || !is_hex_digest(line.substr(space + 1))) return std::nullopt;
  std::uint64_t index = 0;
  const auto [end, ec] = std::from_chars(line.data(), line.data() + space, index);
  if (ec != std::errc() || end != line.data() + space) return std::nullopt;
  return std::pair(index, std::string(line.substr(space + 1)));
}

}  // namespace sx::engine
