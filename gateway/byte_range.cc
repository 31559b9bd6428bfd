#include "gateway/byte_range.h"

#include <charconv>
#include <optional>

namespace sx::gateway {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

// Digits only; a value past 2^64 - 1 is "huge" (saturates), which is right
// for every use below: it is past the end of any file.
std::optional<std::uint64_t> number(std::string_view s) {
  if (!all_digits(s)) return std::nullopt;
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec == std::errc::result_out_of_range) return UINT64_MAX;
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return value;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const char x = (a[i] >= 'A' && a[i] <= 'Z') ? char(a[i] - 'A' + 'a') : a[i];
    if (x != b[i]) return false;
  }
  return true;
}

}  // namespace

RangeAnswer parse_range(std::string_view header, std::uint64_t size) {
  const RangeAnswer whole{};
  if (header.empty() || header.size() > kMaxRangeHeaderBytes) return whole;
  const auto eq = header.find('=');
  if (eq == std::string_view::npos || !iequals(trim(header.substr(0, eq)), "bytes")) return whole;
  const std::string_view spec = trim(header.substr(eq + 1));
  if (spec.find(',') != std::string_view::npos) return whole;  // multi-range: the whole file
  const auto dash = spec.find('-');
  if (dash == std::string_view::npos) return whole;
  const std::string_view a = trim(spec.substr(0, dash));
  const std::string_view b = trim(spec.substr(dash + 1));
  const RangeAnswer unsatisfiable{RangeKind::kUnsatisfiable, {}};
  if (a.empty()) {  // "-n": the last n bytes
    const auto n = number(b);
    if (!n) return whole;
    if (*n == 0 || size == 0) return unsatisfiable;
    const std::uint64_t take = *n < size ? *n : size;
    return {RangeKind::kSingle, {size - take, size - 1}};
  }
  const auto first = number(a);
  if (!first) return whole;
  std::uint64_t last = UINT64_MAX;
  if (!b.empty()) {
    const auto parsed = number(b);
    if (!parsed || *parsed < *first) return whole;  // "5-3" is invalid, hence ignored
    last = *parsed;
  }
  if (*first >= size) return unsatisfiable;
  if (last >= size) last = size - 1;
  return {RangeKind::kSingle, {*first, last}};
}

}  // namespace sx::gateway
