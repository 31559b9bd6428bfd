#include "gateway/file_headers.h"

#include <array>
#include <utility>

#include "base/text.h"
#include "codec/checksum.h"

namespace sx::gateway {
namespace {

constexpr std::array<std::pair<std::string_view, std::string_view>, 28> kTypes{{
    {"txt", "text/plain; charset=utf-8"}, {"html", "text/html; charset=utf-8"}, {"htm", "text/html; charset=utf-8"},
    {"css", "text/css"}, {"js", "text/javascript"}, {"json", "application/json"}, {"xml", "application/xml"},
    {"csv", "text/csv"}, {"md", "text/markdown"}, {"pdf", "application/pdf"}, {"zip", "application/zip"},
    {"gz", "application/gzip"}, {"tar", "application/x-tar"}, {"zst", "application/zstd"}, {"png", "image/png"},
    {"jpg", "image/jpeg"}, {"jpeg", "image/jpeg"}, {"gif", "image/gif"}, {"webp", "image/webp"},
    {"svg", "image/svg+xml"}, {"mp4", "video/mp4"}, {"webm", "video/webm"}, {"mkv", "video/x-matroska"},
    {"mov", "video/quicktime"}, {"mp3", "audio/mpeg"}, {"ogg", "audio/ogg"}, {"flac", "audio/flac"},
    {"iso", "application/octet-stream"},
}};

char lower(char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; }

}  // namespace

std::string content_type(std::string_view name) {
  const auto dot = name.rfind('.');
  if (dot == std::string_view::npos || dot + 1 >= name.size() || name.size() - dot > 6)
    return "application/octet-stream";
  std::string ext;
  for (char c : name.substr(dot + 1)) ext += lower(c);
  for (const auto& [e, type] : kTypes)
    if (e == ext) return std::string(type);
  return "application/octet-stream";
}

std::string sanitize_name(std::string_view name) {
  std::string out;
  for (char c : name.substr(0, 200)) {
    const auto u = static_cast<unsigned char>(c);
    out += (u < 0x20 || u == 0x7f || c == '"' || c == '\\' || c == '/') ? '_' : c;
  }
  if (out.empty() || out == "." || out == "..") return "file";
  return out;
}

std::string content_disposition(std::string_view name) {
  const std::string safe = sanitize_name(name);
  std::string ascii;
  for (char c : safe) ascii += static_cast<unsigned char>(c) >= 0x80 || c == '%' ? '_' : c;
  return "inline; filename=\"" + ascii + "\"; filename*=UTF-8''" +
         text::percent_encode(safe, "!#$&+-.^_`|~");
}

std::string etag(const codec::Manifest& manifest, std::string_view url, std::string_view entry_path) {
  std::string tag;
  if (manifest.digest == codec::kDigestSha256 && !manifest.sha256.empty()) tag = "sha256-" + manifest.sha256;
  else if (manifest.digest == codec::kDigestSha256Tree && !manifest.sha256_tree.empty()) tag = "tree-" + manifest.sha256_tree;
  else tag = "m-" + text::to_hex(codec::sha256(std::as_bytes(std::span(url)))).substr(0, 32);
  if (!entry_path.empty()) tag += "-" + codec::sha256_hex(entry_path).substr(0, 16);
  return "\"" + tag + "\"";
}

}  // namespace sx::gateway
