#include "codec/manifest.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>

#include "base/text.h"

namespace sx::codec {
namespace {

void append_json_string(fmt::memory_buffer& out, std::string_view text) {
  const std::string literal = text::json_string(text);
  out.append(literal.data(), literal.data() + literal.size());
}

Error corrupt(std::string_view what) {
  return Error{Errc::kCorrupt, fmt::format("manifest is invalid: {}", what)};
}

Result<simdjson::dom::element> parse_document(simdjson::dom::parser& parser,
                                              std::string_view json,
                                              const ManifestLimits& limits) {
  if (json.size() > limits.max_json_bytes) return corrupt("larger than the manifest size limit");
  simdjson::dom::element doc;
  if (auto error = parser.parse(json.data(), json.size()).get(doc); error)
    return corrupt(simdjson::error_message(error));
  return doc;
}

template <class T>
bool read_field(simdjson::dom::object object, std::string_view name, T& out) {
  return !object[name].get(out);
}

bool parse_hex32(std::string_view text, std::uint32_t& out) {
  if (text.size() != 8) return false;
  std::uint32_t value = 0;
  for (const char c : text) {
    value <<= 4;
    if (c >= '0' && c <= '9') value |= static_cast<std::uint32_t>(c - '0');
    else if (c >= 'a' && c <= 'f') value |= static_cast<std::uint32_t>(c - 'a' + 10);
    else return false;
  }
  out = value;
  return true;
}

// Shared rules for v1 and v2 piece lists: sorted by index, every index once,
// offsets contiguous from 0, the sum equal to the file size.
Status check_pieces(Manifest& manifest) {
  std::sort(manifest.pieces.begin(), manifest.pieces.end(),
            [](const PieceEntry& a, const PieceEntry& b) { return a.index < b.index; });
  std::uint64_t offset = 0;
  for (std::size_t i = 0; i < manifest.pieces.size(); ++i) {
    const PieceEntry& piece = manifest.pieces[i];
    if (piece.index != i)
      return corrupt(fmt::format("piece index {} is duplicated or out of sequence", piece.index));
    if (piece.offset != offset)
      return corrupt(fmt::format("piece {} starts at offset {}, expected {}", i, piece.offset,
                                 offset));
    if (piece.size == 0 || piece.size > manifest.piece_size)
      return corrupt(fmt::format("piece {} has size {} (piece size {})", i, piece.size,
                                 manifest.piece_size));
    if (piece.key.empty()) return corrupt(fmt::format("piece {} has no key", i));
    offset += piece.size;
    if (offset > manifest.size) break;
  }
  if (offset != manifest.size)
    return corrupt(fmt::format("piece sizes add up to {}, not the file size {}", offset,
                               manifest.size));
  return {};
}

// The optional striping fields (docs/FORMAT.md §10), after the data pieces
// passed check_pieces: every stripe's K parity pieces, once each, each as
// long as its stripe's longest data piece. Counts are checked before any
// allocation.
Status read_stripes(simdjson::dom::object object, const ManifestLimits& limits, Manifest& manifest) {
  simdjson::dom::object stripe;
  const auto stripe_error = object["stripe"].get(stripe);
  if (stripe_error == simdjson::NO_SUCH_FIELD) {
    if (object["parity_pieces"].error() != simdjson::NO_SUCH_FIELD) return corrupt("parity_pieces without stripe");
    return {};
  }
  std::uint64_t data = 0, parity = 0;
  if (stripe_error || !read_field(stripe, "data", data) || !read_field(stripe, "parity", parity))
    return corrupt("stripe lacks data or parity");
  if (data < 1 || data + parity < 2 || data + parity > static_cast<std::uint64_t>(kMaxBackends))
    return corrupt(fmt::format("stripe of {} data + {} parity pieces (2 to {} in all)", data, parity, kMaxBackends));
  manifest.stripe_data = static_cast<int>(data);
  manifest.stripe_parity = static_cast<int>(parity);
  const std::uint64_t expected = manifest.stripes() * parity;
  simdjson::dom::array pieces;
  if (object["parity_pieces"].get(pieces)) {
    if (expected == 0 && object["parity_pieces"].error() == simdjson::NO_SUCH_FIELD) return {};
    return corrupt("parity_pieces is not an array");
  }
  if (pieces.size() != expected || expected > limits.max_pieces)
    return corrupt(fmt::format("{} parity pieces, {} stripes of {} need {}", pieces.size(), manifest.stripes(), parity,
                               expected));
  manifest.parity_pieces.reserve(expected);
  for (simdjson::dom::element element : pieces) {
    simdjson::dom::object entry;
    PieceEntry piece;
    std::string_view key, checksum;
    if (element.get(entry) || !read_field(entry, "index", piece.index) || !read_field(entry, "key", key) ||
        !read_field(entry, "size", piece.size) || !read_field(entry, "checksum", checksum))
      return corrupt("a parity piece entry lacks index, key, size or checksum");
    if (key.empty() || key.size() > limits.max_key_bytes) return corrupt("a parity piece key is empty or too long");
    if (!parse_hex32(checksum, piece.crc32)) return corrupt("a parity piece checksum is not 8 hex digits");
    piece.key = std::string(key);
    manifest.parity_pieces.push_back(std::move(piece));
  }
  std::sort(manifest.parity_pieces.begin(), manifest.parity_pieces.end(),
            [](const PieceEntry& a, const PieceEntry& b) { return a.index < b.index; });
  for (std::size_t i = 0; i < manifest.parity_pieces.size(); ++i) {
    const PieceEntry& piece = manifest.parity_pieces[i];
    if (piece.index != i) return corrupt(fmt::format("parity piece index {} is duplicated or out of sequence", piece.index));
    const std::uint64_t longest = manifest.pieces[(i / parity) * data].size;
    if (piece.size != longest)
      return corrupt(fmt::format("parity piece {} has size {}, its stripe's longest piece {}", i, piece.size, longest));
  }
  return {};
}

// A text field that may come with its exact bytes in hex (FIELD_hex), as
// name does: the hex wins.
bool read_text(simdjson::dom::object object, std::string_view field, std::size_t max_bytes, std::string& out) {
  std::string_view text;
  if (!read_field(object, field, text)) return false;
  const std::string hex_field = std::string(field) + "_hex";
  std::string_view hex;
  if (!read_field(object, hex_field, hex)) {
    if (text.size() > max_bytes) return false;
    out = std::string(text);
    return true;
  }
  if (hex.size() % 2 || hex.size() > 2 * max_bytes || hex.find_first_not_of("0123456789abcdef") != hex.npos)
    return false;
  out.clear();
  const auto digit = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
  for (std::size_t i = 0; i < hex.size(); i += 2) out.push_back(static_cast<char>(digit(hex[i]) * 16 + digit(hex[i + 1])));
  return true;
}

// The optional tree (docs/FORMAT.md §11), after the pieces: its entries
// read, counted before any allocation, then held to check_tree_entries.
Status read_tree(simdjson::dom::object object, const ManifestLimits& limits, Manifest& manifest) {
  simdjson::dom::array entries;
  const auto error = object["tree"].get(entries);
  if (error == simdjson::NO_SUCH_FIELD) return {};
  if (error) return corrupt("tree is not an array");
  if (entries.size() == 0) return corrupt("tree has no entries");
  if (entries.size() > limits.max_tree_entries) return corrupt("tree has too many entries");
  if (manifest.stripe_data > 0) return corrupt("a tree cannot be striped (yet)");
  manifest.tree.reserve(entries.size());
  for (simdjson::dom::element element : entries) {
    simdjson::dom::object entry;
    TreeEntry e;
    std::string_view type;
    std::uint64_t mode = 0;
    if (element.get(entry) || !read_field(entry, "type", type) || !read_text(entry, "path", kMaxTreePath, e.path) ||
        !read_field(entry, "mode", mode) || !read_field(entry, "mtime_ns", e.mtime_ns))
      return corrupt("a tree entry lacks type, path, mode or mtime_ns");
    if (mode > 07777) return corrupt("a tree entry's mode is past 07777");
    e.mode = static_cast<std::uint32_t>(mode);
    if (type == "file") {
      e.type = EntryType::kFile;
      if (!read_field(entry, "size", e.size) || !read_field(entry, "offset", e.offset))
        return corrupt("a tree file lacks size or offset");
      bool duplicate = false;
      const auto dup_error = entry["dup"].get(duplicate);
      if (dup_error && dup_error != simdjson::NO_SUCH_FIELD) return corrupt("a tree file's dup is not true or false");
      e.duplicate = duplicate;
    } else if (type == "dir") {
      e.type = EntryType::kDirectory;
    } else if (type == "link") {
      e.type = EntryType::kSymlink;
      if (!read_text(entry, "target", kMaxTreePath, e.target)) return corrupt("a tree symlink lacks its target");
    } else {
      return corrupt(fmt::format("unknown tree entry type \"{}\"", type.substr(0, 16)));
    }
    manifest.tree.push_back(std::move(e));
  }
  return check_tree_entries(manifest.tree, manifest.size);
}

}  // namespace

std::string hex32(std::uint32_t value) { return fmt::format("{:08x}", value); }

std::string to_json(const Manifest& manifest) {
  fmt::memory_buffer out;
  auto it = std::back_inserter(out);
  fmt::format_to(it, R"({{"format":"{}","version":{},"name":)", kManifestFormat,
                 kManifestVersion);
  append_json_string(out, manifest.name);
  // JSON holds only UTF-8: a name that is not (Latin-1 on disk, --name $'\xff')
  // is also stored byte for byte in hex, which readers prefer.
  if (!text::valid_utf8(manifest.name)) {
    const std::string hex = text::to_hex(std::as_bytes(std::span<const char>(manifest.name.data(), manifest.name.size())));
    fmt::format_to(it, R"(,"name_hex":"{}")", hex);
  }
  fmt::format_to(it, R"(,"size":{},)", manifest.size);
  // "digest" is written only when it is not the original whole-file SHA-256,
  // so manifests of that kind read as they always did.
  if (manifest.digest != kDigestSha256) fmt::format_to(it, R"("digest":"{}",)", manifest.digest);
  if (!manifest.sha256.empty()) fmt::format_to(it, R"("sha256":"{}",)", manifest.sha256);
  if (!manifest.sha256_tree.empty()) fmt::format_to(it, R"("sha256_tree":"{}",)", manifest.sha256_tree);
  fmt::format_to(it, R"("piece_size":{},"width":{},"height":{},)", manifest.piece_size, manifest.width,
                 manifest.height);
  fmt::format_to(it, R"("encryption":"{}","checksum":"crc32","pieces":[)", manifest.encryption);
  for (std::size_t i = 0; i < manifest.pieces.size(); ++i) {
    const PieceEntry& piece = manifest.pieces[i];
    fmt::format_to(it, R"({}{{"index":{},"key":)", i == 0 ? "" : ",", piece.index);
    append_json_string(out, piece.key);
    fmt::format_to(it, R"(,"offset":{},"size":{},"checksum":"{:08x}"}})", piece.offset, piece.size,
                   piece.crc32);
  }
  fmt::format_to(it, "]");
  if (manifest.stripe_data > 0) {
    fmt::format_to(it, R"(,"stripe":{{"data":{},"parity":{}}},"parity_pieces":[)", manifest.stripe_data,
                   manifest.stripe_parity);
    for (std::size_t i = 0; i < manifest.parity_pieces.size(); ++i) {
      const PieceEntry& piece = manifest.parity_pieces[i];
      fmt::format_to(it, R"({}{{"index":{},"key":)", i == 0 ? "" : ",", piece.index);
      append_json_string(out, piece.key);
      fmt::format_to(it, R"(,"size":{},"checksum":"{:08x}"}})", piece.size, piece.crc32);
    }
    fmt::format_to(it, "]");
  }
  if (manifest.is_tree()) {
    const std::string tree = tree_json(manifest.tree);
    out.append(tree.data(), tree.data() + tree.size());
  }
  fmt::format_to(it, "}}");
  return fmt::to_string(out);
}

std::string to_json(const ManifestIndex& index) {
  fmt::memory_buffer out;
  auto it = std::back_inserter(out);
  fmt::format_to(it, R"({{"format":"{}","version":{},"total_bytes":{},"slices":[)", kIndexFormat,
                 kManifestVersion, index.total_bytes);
  for (std::size_t i = 0; i < index.slices.size(); ++i) {
    fmt::format_to(it, R"({}{{"key":)", i == 0 ? "" : ",");
    append_json_string(out, index.slices[i].key);
    fmt::format_to(it, R"(,"size":{},"checksum":"{:08x}"}})", index.slices[i].size,
                   index.slices[i].crc32);
  }
  fmt::format_to(it, "]}}");
  return fmt::to_string(out);
}

Result<DocumentKind> document_kind(std::string_view json) {
  simdjson::dom::parser parser;
  auto doc = parse_document(parser, json, ManifestLimits{});
  if (!doc) return std::move(doc).error();
  simdjson::dom::object object;
  if (doc->get(object)) return corrupt("not a JSON object");
  std::string_view format;
  if (read_field(object, "format", format)) {
    if (format == kManifestFormat) return DocumentKind::kManifest;
    if (format == kIndexFormat) return DocumentKind::kIndex;
    return corrupt(fmt::format("unknown format \"{}\"", format.substr(0, 64)));
  }
  if (!object["protocol_version"].error()) return DocumentKind::kStoragexV1;
  return corrupt("no format field");
}

Result<Manifest> parse_manifest(std::string_view json, const ManifestLimits& limits) {
  simdjson::dom::parser parser;
  auto doc = parse_document(parser, json, limits);
  if (!doc) return std::move(doc).error();
  simdjson::dom::object object;
  if (doc->get(object)) return corrupt("not a JSON object");
  Manifest manifest;
  std::string_view format, name, sha256, sha256_tree, digest = kDigestSha256;
  std::int64_t version = 0;
  std::uint64_t width = 0, height = 0;
  if (!read_field(object, "format", format) || format != kManifestFormat)
    return corrupt("format is not sxengine-manifest");
  if (!read_field(object, "version", version) || version != kManifestVersion)
    return corrupt("unsupported manifest version");
  if (!read_field(object, "name", name) || !read_field(object, "size", manifest.size) ||
      !read_field(object, "piece_size", manifest.piece_size) ||
      !read_field(object, "width", width) || !read_field(object, "height", height))
    return corrupt("a required field is missing or has the wrong type");
  std::string_view checksum_kind;
  if (!read_field(object, "checksum", checksum_kind) || checksum_kind != "crc32")
    return corrupt("unsupported piece checksum algorithm (expected \"crc32\")");
  const auto is_hex64 = [](std::string_view hex) {
    return hex.size() == 64 && hex.find_first_not_of("0123456789abcdef") == std::string_view::npos;
  };
  if (object["digest"].error() != simdjson::NO_SUCH_FIELD && !read_field(object, "digest", digest))
    return corrupt("digest is not a string");
  const bool has_sha256 = read_field(object, "sha256", sha256);
  const bool has_tree = read_field(object, "sha256_tree", sha256_tree);
  if ((has_sha256 && !is_hex64(sha256)) || (!has_sha256 && object["sha256"].error() != simdjson::NO_SUCH_FIELD))
    return corrupt("sha256 is not 64 lowercase hex digits");
  if ((has_tree && !is_hex64(sha256_tree)) || (!has_tree && object["sha256_tree"].error() != simdjson::NO_SUCH_FIELD))
    return corrupt("sha256_tree is not 64 lowercase hex digits");
  if (digest == kDigestSha256 ? !has_sha256 : digest == kDigestSha256Tree ? !has_tree : digest != kDigestAead)
    return corrupt(fmt::format("digest \"{}\" is unknown or its value is missing", digest.substr(0, 32)));
  if (width == 0 || height == 0 || width > UINT32_MAX || height > UINT32_MAX ||
      manifest.piece_size == 0)
    return corrupt("bad piece geometry");
  std::string_view encryption = "none";
  if (object["encryption"].get(encryption) && object["encryption"].error() != simdjson::NO_SUCH_FIELD)
    return corrupt("encryption is not a string");
  if (encryption != "none" && encryption != "aes-256-gcm") return corrupt("unsupported encryption");
  if (digest == kDigestAead && encryption == "none")
    return corrupt("digest \"aead\" needs an encrypted file (an unencrypted piece has no tag to vouch for it)");
  manifest.encryption = std::string(encryption);
  manifest.name = std::string(name);
  std::string_view name_hex;
  if (read_field(object, "name_hex", name_hex)) {
    if (name_hex.size() % 2 || name_hex.size() > 2 * limits.max_key_bytes ||
        name_hex.find_first_not_of("0123456789abcdef") != name_hex.npos)
      return corrupt("name_hex is not lowercase hex");
    manifest.name.clear();
    for (std::size_t i = 0; i < name_hex.size(); i += 2) {
      const auto digit = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
      manifest.name.push_back(static_cast<char>(digit(name_hex[i]) * 16 + digit(name_hex[i + 1])));
    }
  }
  manifest.sha256 = std::string(sha256);
  manifest.sha256_tree = std::string(sha256_tree);
  manifest.digest = std::string(digest);
  manifest.width = static_cast<std::uint32_t>(width);
  manifest.height = static_cast<std::uint32_t>(height);

  simdjson::dom::array pieces;
  if (object["pieces"].get(pieces)) return corrupt("pieces is not an array");
  const std::size_t count = pieces.size();
  if (count > limits.max_pieces) return corrupt("too many pieces");
  if (manifest.size / manifest.piece_size + 1 < count) return corrupt("more pieces than the size needs");
  manifest.pieces.reserve(count);
  for (simdjson::dom::element element : pieces) {
    simdjson::dom::object entry;
    PieceEntry piece;
    std::string_view key, checksum;
    if (element.get(entry) || !read_field(entry, "index", piece.index) ||
        !read_field(entry, "key", key) || !read_field(entry, "offset", piece.offset) ||
        !read_field(entry, "size", piece.size) || !read_field(entry, "checksum", checksum))
      return corrupt("a piece entry lacks index, key, offset, size or checksum");
    if (key.size() > limits.max_key_bytes) return corrupt("a piece key is too long");
    if (!parse_hex32(checksum, piece.crc32)) return corrupt("a piece checksum is not 8 hex digits");
    piece.key = std::string(key);
    manifest.pieces.push_back(std::move(piece));
  }
  if (auto status = check_pieces(manifest); !status) return std::move(status).error();
  if (auto status = read_stripes(object, limits, manifest); !status) return std::move(status).error();
  if (auto status = read_tree(object, limits, manifest); !status) return std::move(status).error();
  return manifest;
}

Result<Manifest> parse_storagex_v1(std::string_view json, const ManifestLimits& limits) {
  simdjson::dom::parser parser;
  auto doc = parse_document(parser, json, limits);
  if (!doc) return std::move(doc).error();
  simdjson::dom::object object;
  if (doc->get(object)) return corrupt("not a JSON object");
  Manifest manifest;
  manifest.version = 1;
  std::string_view name;
  std::uint64_t width = 0, height = 0;
  if (!read_field(object, "filename", name) || !read_field(object, "piece_width", width) ||
      !read_field(object, "piece_height", height))
    return corrupt("storagex meta lacks filename, piece_width or piece_height");
  if (width == 0 || height == 0 || width > 65535 || height > 65535)
    return corrupt("bad storagex piece geometry");
  manifest.name = std::string(name);
  manifest.width = static_cast<std::uint32_t>(width);
  manifest.height = static_cast<std::uint32_t>(height);
  manifest.piece_size = width * height * 3 - 4;
  simdjson::dom::array pieces;
  if (object["pieces"].get(pieces)) return corrupt("pieces is not an array");
  if (pieces.size() > limits.max_pieces) return corrupt("too many pieces");
  for (simdjson::dom::element element : pieces) {
    simdjson::dom::object entry;
    PieceEntry piece;
    std::string_view key;
    if (element.get(entry) || !read_field(entry, "seq", piece.index) ||
        !read_field(entry, "key", key) || !read_field(entry, "offset", piece.offset) ||
        !read_field(entry, "size", piece.size))
      return corrupt("a storagex piece lacks seq, key, offset or size");
    if (key.size() > limits.max_key_bytes) return corrupt("a piece key is too long");
    piece.key = std::string(key);
    if (manifest.size > UINT64_MAX - piece.size) return corrupt("piece sizes overflow");
    manifest.size += piece.size;
    manifest.pieces.push_back(std::move(piece));
  }
  if (auto status = check_pieces(manifest); !status) return std::move(status).error();
  return manifest;
}

Result<ManifestIndex> parse_index(std::string_view json, const ManifestLimits& limits) {
  simdjson::dom::parser parser;
  auto doc = parse_document(parser, json, limits);
  if (!doc) return std::move(doc).error();
  simdjson::dom::object object;
  std::string_view format;
  if (doc->get(object) || !read_field(object, "format", format) || format != kIndexFormat)
    return corrupt("not a manifest index");
  ManifestIndex index;
  simdjson::dom::array slices;
  if (!read_field(object, "total_bytes", index.total_bytes) || object["slices"].get(slices))
    return corrupt("index lacks total_bytes or slices");
  if (index.total_bytes > limits.max_json_bytes) return corrupt("index claims too large a manifest");
  if (slices.size() == 0 || slices.size() > limits.max_pieces) return corrupt("bad slice count");
  std::uint64_t sum = 0;
  for (simdjson::dom::element element : slices) {
    simdjson::dom::object entry;
    ManifestSlice slice;
    std::string_view key, checksum;
    if (element.get(entry) || !read_field(entry, "key", key) ||
        !read_field(entry, "size", slice.size) || !read_field(entry, "checksum", checksum) ||
        !parse_hex32(checksum, slice.crc32) || key.empty() || key.size() > limits.max_key_bytes)
      return corrupt("a slice entry is malformed");
    slice.key = std::string(key);
    sum += slice.size;
    if (slice.size == 0 || sum > index.total_bytes) return corrupt("slice sizes do not add up");
    index.slices.push_back(std::move(slice));
  }
  if (sum != index.total_bytes) return corrupt("slice sizes do not add up");
  return index;
}

}  // namespace sx::codec
