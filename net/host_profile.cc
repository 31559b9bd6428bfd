#include "net/host_profile.h"

#include <simdjson.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>
#include <sstream>

#include "base/text.h"

namespace sx::net {
namespace {

Error bad_profile(std::string_view name, std::string_view why) {
  return Error{Errc::kInvalidArgument, "image host profile \"" + std::string(name) + "\": " + std::string(why)};
}

Result<simdjson::dom::object> parse_object(simdjson::dom::parser& parser, std::string_view json,
                                           std::string_view name) {
  if (json.size() > (1 << 20)) return bad_profile(name, "larger than 1 MiB");
  simdjson::dom::object object;
  if (parser.parse(json.data(), json.size()).get(object)) return bad_profile(name, "not a JSON object");
  return object;
}

// {"k": "v", …} into pairs; non-string values are refused.
Status read_pairs(simdjson::dom::object object, std::string_view field, std::string_view name,
                  std::vector<std::pair<std::string, std::string>>& out) {
  simdjson::dom::element element;
  if (object[field].get(element)) return {};
  simdjson::dom::object pairs;
  if (element.get(pairs)) return bad_profile(name, std::string(field) + " must be an object");
  for (auto [key, value] : pairs) {
    std::string_view text;
    if (value.get(text)) return bad_profile(name, std::string(field) + " values must be strings");
    out.emplace_back(std::string(key), std::string(text));
  }
  return {};
}

// Answers are searched with std::regex only within this many bytes: its
// matcher recurses per character (a long answer would overflow the stack),
// and image URLs are short.
constexpr std::size_t kMaxPatternAnswerBytes = 4096;
constexpr std::size_t kMaxPatternBytes = 512;

std::string printable_prefix(std::string_view text) {
  std::string out;
  for (const char c : text.substr(0, 80)) out.push_back(static_cast<unsigned char>(c) < 0x20 ? '?' : c);
  return out;
}

// A pattern is compiled once here so a bad one fails at parse time, not as
// an exception in the middle of an upload.
Status check_pattern(const HostProfile& profile, std::string_view name) {
  if (profile.url_pattern.empty()) return {};
  const std::string_view pattern = profile.url_pattern;
  if (pattern.size() > kMaxPatternBytes) return bad_profile(name, "the URL pattern is too long");
  // libstdc++ parses the numbers of backreferences and {n,m} counts into a
  // long without a bound (signed overflow, found by the fuzzer): refuse
  // backreferences and counts of more than four digits before compiling.
  std::size_t digits_in_braces = 0;
  bool in_braces = false;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '\\' && i + 1 < pattern.size()) {
      if (pattern[i + 1] >= '1' && pattern[i + 1] <= '9')
        return bad_profile(name, "backreferences are not supported in URL patterns");
      ++i;  // an escaped character
      continue;
    }
    if (c == '{') in_braces = true, digits_in_braces = 0;
    else if (c == '}') in_braces = false;
    else if (in_braces && c >= '0' && c <= '9' && ++digits_in_braces > 4)
      return bad_profile(name, "repetition counts above 9999 are not supported in URL patterns");
    else if (in_braces && c == ',') digits_in_braces = 0;
  }
  try {
    std::regex compiled(profile.url_pattern);
  } catch (const std::regex_error& e) {
    return bad_profile(name, std::string("the URL pattern is not a valid regular expression: ") + e.what());
  }
  return {};
}

// "data.files[0].url" → "/data/files/0/url"
std::string dotted_to_pointer(std::string_view path) {
  if (path.substr(0, 2) == "$.") path.remove_prefix(2);
  std::string pointer;
  std::string part;
  auto flush = [&] {
    if (!part.empty()) pointer += "/" + part, part.clear();
  };
  for (const char c : path) {
    if (c == '.' || c == '[' || c == ']') flush();
    else part.push_back(c);
  }
  flush();
  return pointer;
}

}  // namespace

Result<HostProfile> parse_host_profile(std::string_view json, std::string_view name) {
  simdjson::dom::parser parser;
  auto object = parse_object(parser, json, name);
  if (!object) return std::move(object).error();
  HostProfile profile;
  profile.name = std::string(name);
  std::string_view text;
  if ((*object)["url"].get(text)) return bad_profile(name, "\"url\" is missing");
  profile.request_url = std::string(text);
  if (!(*object)["field"].get(text)) profile.file_field = std::string(text);
  if (!(*object)["response_url"].get(text)) profile.url_pointer = std::string(text);
  if (!(*object)["response_pattern"].get(text)) profile.url_pattern = std::string(text);
  std::uint64_t number = 0;
  if (!(*object)["max_bytes"].get(number)) profile.max_bytes = number;
  if (!(*object)["max_width"].get(number)) profile.max_width = static_cast<std::uint32_t>(std::min<std::uint64_t>(number, UINT32_MAX));
  if (!(*object)["max_height"].get(number)) profile.max_height = static_cast<std::uint32_t>(std::min<std::uint64_t>(number, UINT32_MAX));
  if (auto ok = read_pairs(*object, "fields", name, profile.fields); !ok) return std::move(ok).error();
  if (auto ok = read_pairs(*object, "headers", name, profile.headers); !ok) return std::move(ok).error();
  if (profile.url_pointer.empty() && profile.url_pattern.empty())
    return bad_profile(name, "give \"response_url\" (a JSON pointer) or \"response_pattern\"");
  if (auto ok = check_pattern(profile, name); !ok) return std::move(ok).error();
  if (profile.request_url.rfind("http://", 0) != 0 && profile.request_url.rfind("https://", 0) != 0)
    return bad_profile(name, "\"url\" must be http(s)");
  return profile;
}

Result<HostProfile> parse_sxcu(std::string_view json, std::string_view name) {
  simdjson::dom::parser parser;
  auto object = parse_object(parser, json, name);
  if (!object) return std::move(object).error();
  HostProfile profile;
  profile.name = std::string(name);
  std::string_view text;
  if ((*object)["RequestURL"].get(text)) return bad_profile(name, "RequestURL is missing");
  profile.request_url = std::string(text);
  if (!(*object)["RequestMethod"].get(text) && text != "POST")
    return bad_profile(name, "only POST uploaders are supported");
  if (!(*object)["Body"].get(text) && text != "MultipartFormData")
    return bad_profile(name, "only MultipartFormData bodies are supported");
  if (!(*object)["FileFormName"].get(text)) profile.file_field = std::string(text);
  if (auto ok = read_pairs(*object, "Arguments", name, profile.fields); !ok) return std::move(ok).error();
  if (auto ok = read_pairs(*object, "Headers", name, profile.headers); !ok) return std::move(ok).error();
  std::string_view url = "{response}";
  if ((*object)["URL"].get(url)) url = "{response}";
  // Plain string matching, not std::regex: libstdc++'s matcher recurses once
  // per character, and a .sxcu file may come from anywhere.
  auto wrapped = [&](std::string_view open, std::string_view close) -> std::optional<std::string_view> {
    if (url.size() > open.size() + close.size() && url.substr(0, open.size()) == open &&
        url.substr(url.size() - close.size()) == close)
      return url.substr(open.size(), url.size() - open.size() - close.size());
    return std::nullopt;
  };
  if (auto path = wrapped("$json:", "$") ? wrapped("$json:", "$") : wrapped("{json:", "}")) {
    profile.url_pointer = dotted_to_pointer(*path);
  } else if (auto pattern = wrapped("$regex:", "$") ? wrapped("$regex:", "$") : wrapped("{regex:", "}")) {
    profile.url_pattern = std::string(*pattern);
  } else if (url == "{response}" || url == "$response$") {
    profile.url_whole_answer = true;
  } else {
    return bad_profile(name, "URL \"" + printable_prefix(url) + "\" is not a form sxengine understands "
                             "($json:…$, {json:…}, $regex:…$, {regex:…}, {response})");
  }
  if (auto ok = check_pattern(profile, name); !ok) return std::move(ok).error();
  if (profile.request_url.rfind("http://", 0) != 0 && profile.request_url.rfind("https://", 0) != 0)
    return bad_profile(name, "RequestURL must be http(s)");
  return profile;
}

Result<HostProfile> load_host_profile(std::string_view backend_uri) {
  auto read_file = [](const std::filesystem::path& path) -> Result<std::string> {
    std::error_code ec;
    const auto status = std::filesystem::status(path, ec);
    if (ec || !std::filesystem::exists(status))
      return make_error(Errc::kNotFound, "cannot read image host profile " + path.string() + ": " +
                                             (ec ? ec.message() : std::string("No such file or directory")));
    if (!std::filesystem::is_regular_file(status))
      return make_error(Errc::kInvalidArgument, "image host profile " + path.string() + " is not a regular file");
    if (std::filesystem::file_size(path, ec) > (1 << 20))
      return make_error(Errc::kLimit, "image host profile " + path.string() + " is larger than 1 MiB");
    std::ifstream in(path);
    if (!in) return make_error(Errc::kIo, "cannot read image host profile " + path.string() + ": permission denied or unreadable");
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  };
  if (backend_uri.substr(0, 5) == "sxcu:") {
    const std::filesystem::path path(std::string(backend_uri.substr(5)));
    auto text = read_file(path);
    if (!text) return std::move(text).error();
    return parse_sxcu(*text, path.stem().string());
  }
  std::string_view rest = backend_uri.substr(5);  // after "host:"
  if (!rest.empty() && rest.front() == '{') return parse_host_profile(rest, "inline");
  std::string config = text::env("XDG_CONFIG_HOME");
  if (config.empty()) config = text::env("HOME") + "/.config";
  const std::filesystem::path path = std::filesystem::path(config) / "sxengine" / "hosts.json";
  auto text = read_file(path);
  if (!text) return std::move(text).error();
  simdjson::dom::parser parser;
  simdjson::dom::object hosts;
  if (parser.parse(*text).get(hosts)) return make_error(Errc::kInvalidArgument, path.string() + " is not a JSON object");
  simdjson::dom::element entry;
  if (hosts[rest].get(entry))
    return make_error(Errc::kNotFound, "no image host \"" + std::string(rest) + "\" in " + path.string());
  return parse_host_profile(simdjson::minify(entry), rest);
}

Result<std::string> expand_env(std::string_view value) {
  std::string out;
  for (std::size_t i = 0; i < value.size(); ++i) {
    if (value[i] == '$' && i + 1 < value.size() && value[i + 1] == '{') {
      const auto end = value.find('}', i + 2);
      if (end == std::string_view::npos) return make_error(Errc::kInvalidArgument, "unterminated ${ in a profile value");
      const std::string name(value.substr(i + 2, end - i - 2));
      const char* env = std::getenv(name.c_str());
      if (!env) return make_error(Errc::kInvalidArgument, "environment variable " + name + " (used by the image host profile) is not set");
      out += env;
      i = end;
    } else {
      out.push_back(value[i]);
    }
  }
  return out;
}

Result<std::string> extract_image_url(const HostProfile& profile, std::string_view answer) {
  std::string url;
  if (!profile.url_pointer.empty()) {
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    std::string_view text;
    if (parser.parse(answer.data(), answer.size()).get(doc) || doc.at_pointer(profile.url_pointer).get(text))
      return make_error(Errc::kCorrupt, "image host answer has no string at " + profile.url_pointer);
    url = std::string(text);
  } else if (profile.url_whole_answer) {
    const auto begin = answer.find_first_not_of(" \t\r\n");
    if (begin == std::string_view::npos) return make_error(Errc::kCorrupt, "image host answered nothing");
    const auto end = answer.find_first_of(" \t\r\n", begin);
    url = std::string(answer.substr(begin, end == std::string_view::npos ? end : end - begin));
  } else {
    if (answer.size() > kMaxPatternAnswerBytes)
      return make_error(Errc::kCorrupt, "image host answer is too long to search with the profile's pattern");
    try {
      std::smatch m;
      const std::string body(answer);
      if (!std::regex_search(body, m, std::regex(profile.url_pattern)))
        return make_error(Errc::kCorrupt, "image host answer does not match the profile's pattern");
      url = m.size() > 1 && m[1].matched ? m[1].str() : m[0].str();
    } catch (const std::regex_error&) {  // complexity or stack limits of the matcher
      return make_error(Errc::kCorrupt, "the profile's pattern could not be matched against the answer");
    }
  }
  if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0)
    return make_error(Errc::kCorrupt, "image host answered a URL that is not http(s)");
  return url;
}

}  // namespace sx::net
