#include "gateway/key_listing.h"

#include <algorithm>
#include <cstdio>
#include <ctime>

#include "base/text.h"
#include "gateway/file_headers.h"

namespace sx::gateway {
namespace {

std::string html_escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '&') out += "&amp;";
    else if (c == '<') out += "&lt;";
    else if (c == '>') out += "&gt;";
    else if (c == '"') out += "&quot;";
    else if (u < 0x20 || u == 0x7f) out += '?';
    else out += c;
  }
  return out;
}

// strftime's %a and %b follow the locale: the names are spelt out here.
constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

// "03-Dec-2026 10:20", as autoindex prints a date (UTC).
std::string listing_date(std::int64_t seconds) {
  const std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  if (!gmtime_r(&t, &tm)) return "-";
  char text[40];
  std::snprintf(text, sizeof text, "%02d-%s-%04d %02d:%02d", tm.tm_mday, kMonths[tm.tm_mon], tm.tm_year + 1900,
                tm.tm_hour, tm.tm_min);
  return text;
}

void append_row(std::string& out, std::string_view name, bool directory, std::string_view date, std::string_view size) {
  const std::string shown = std::string(name) + (directory ? "/" : "");
  out += "<a href=\"" + text::percent_encode(name, "-._~") + (directory ? "/" : "") + "\">" + html_escape(shown) + "</a>";
  // Columns as autoindex pads them (names of 50 columns, then date and size).
  const std::size_t width = text::valid_utf8(shown) ? shown.size() : 50;
  out.append(width < 51 ? 51 - width : 1, ' ');
  out += date;
  const std::size_t size_width = 20;
  out.append(size.size() < size_width ? size_width - size.size() : 1, ' ');
  out += size;
  out += '\n';
}

std::int64_t seconds_of(std::int64_t ns) { return ns >= 0 ? ns / 1'000'000'000 : -((-ns + 999'999'999) / 1'000'000'000); }

}  // namespace

std::string_view last_component(std::string_view path) {
  const std::size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

KeyNode find_node(const codec::Manifest& manifest, std::string_view path) {
  KeyNode node;
  if (path.empty()) {
    node.kind = KeyNode::Kind::kDirectory;
    return node;
  }
  if (!manifest.is_tree()) {
    if (path == sanitize_name(manifest.name)) {
      node.kind = KeyNode::Kind::kFile;
      node.name = std::string(path);
      node.size = manifest.size;
    }
    return node;
  }
  const auto& entries = manifest.tree;
  const auto it = std::lower_bound(entries.begin(), entries.end(), path,
                                   [](const codec::TreeEntry& e, std::string_view p) { return e.path < p; });
  if (it == entries.end() || it->path != path) return node;
  if (it->type == codec::EntryType::kDirectory) {
    node.kind = KeyNode::Kind::kDirectory;
  } else if (it->type == codec::EntryType::kFile) {
    node.kind = KeyNode::Kind::kFile;
    node.name = std::string(last_component(it->path));
    node.offset = it->offset;
    node.size = it->size;
    node.mtime_ns = it->mtime_ns;
  }
  return node;
}

std::string listing_html(const codec::Manifest& manifest, std::string_view path) {
  const std::string title = "Index of /" + html_escape(path) + (path.empty() ? "" : "/");
  std::string out = "<html>\r\n<head><title>" + title + "</title></head>\r\n<body>\r\n<h1>" + title + "</h1><hr><pre>";
  if (!path.empty()) out += "<a href=\"../\">../</a>\n";
  if (!manifest.is_tree()) {
    append_row(out, sanitize_name(manifest.name), false, "-", std::to_string(manifest.size));
  } else {
    const std::string prefix = path.empty() ? std::string() : std::string(path) + "/";
    auto it = std::lower_bound(manifest.tree.begin(), manifest.tree.end(), prefix,
                               [](const codec::TreeEntry& e, const std::string& p) { return e.path < p; });
    // Every path under `prefix` lies in one run from here (byte order);
    // the root's children are spread out, so the root walks every entry.
    for (; it != manifest.tree.end() && it->path.compare(0, prefix.size(), prefix) == 0; ++it) {
      const std::string_view name = std::string_view(it->path).substr(prefix.size());
      if (name.find('/') != std::string_view::npos || it->type == codec::EntryType::kSymlink) continue;
      const bool directory = it->type == codec::EntryType::kDirectory;
      append_row(out, name, directory, listing_date(seconds_of(it->mtime_ns)),
                 directory ? "-" : std::to_string(it->size));
    }
  }
  out += "</pre><hr></body>\r\n</html>\r\n";
  return out;
}

std::string http_date(std::int64_t seconds) {
  const std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  if (!gmtime_r(&t, &tm)) return {};
  char text[40];
  std::snprintf(text, sizeof text, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[tm.tm_wday], tm.tm_mday,
                kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return text;
}

}  // namespace sx::gateway
