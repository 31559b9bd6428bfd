#include "net/s3_config.h"

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <map>

#include "base/text.h"

namespace sx::net {
namespace {

using text::env;

std::string trim(std::string_view text) {
  const auto begin = text.find_first_not_of(" \t\r");
  if (begin == std::string_view::npos) return {};
  const auto end = text.find_last_not_of(" \t\r");
  return std::string(text.substr(begin, end - begin + 1));
}

// The `name = value` lines of one [section] of an AWS INI file.
std::map<std::string, std::string> ini_section(const std::string& path, const std::string& wanted) {
  std::map<std::string, std::string> values;
  std::ifstream in(path);
  std::string line, section;
  while (std::getline(in, line)) {
    const std::string text = trim(line);
    if (text.empty() || text[0] == '#' || text[0] == ';') continue;
    if (text.front() == '[' && text.back() == ']') {
      section = trim(std::string_view(text).substr(1, text.size() - 2));
      continue;
    }
    const auto eq = text.find('=');
    if (section != wanted || eq == std::string::npos) continue;
    values[trim(std::string_view(text).substr(0, eq))] = trim(std::string_view(text).substr(eq + 1));
  }
  return values;
}

std::string aws_file(const char* variable, const char* default_name) {
  const std::string path = env(variable);
  if (!path.empty()) return path;
  const std::string home = env("HOME");
  return home.empty() ? std::string() : home + "/.aws/" + default_name;
}

std::string profile_name() {
  const std::string profile = env("AWS_PROFILE");
  return profile.empty() ? "default" : profile;
}

std::optional<S3Credentials> credentials_from_file() {
  const std::string path = aws_file("AWS_SHARED_CREDENTIALS_FILE", "credentials");
  if (path.empty()) return std::nullopt;
  auto values = ini_section(path, profile_name());
  S3Credentials found{values["aws_access_key_id"], values["aws_secret_access_key"], values["aws_session_token"]};
  if (found.access_key.empty() || found.secret_key.empty()) return std::nullopt;
  return found;
}

// AWS_CA_BUNDLE, else ca_bundle in the profile of ~/.aws/config (AWS_CONFIG_FILE),
// where sections other than [default] are named [profile NAME].
std::string ca_bundle() {
  std::string bundle = env("AWS_CA_BUNDLE");
  if (!bundle.empty()) return bundle;
  const std::string path = aws_file("AWS_CONFIG_FILE", "config");
  if (path.empty()) return {};
  const std::string profile = profile_name();
  return ini_section(path, profile == "default" ? profile : "profile " + profile)["ca_bundle"];
}

}  // namespace

std::string encode_key(std::string_view key) { return text::percent_encode(key, "-_.~/"); }

std::string S3Config::object_url(std::string_view bucket, std::string_view key) const {
  if (endpoint.empty()) {
    // AWS's wildcard certificate covers one label: a dotted bucket goes path-style.
    if (bucket.find('.') != std::string_view::npos)
      return "https://s3." + region + ".amazonaws.com/" + std::string(bucket) + "/" + encode_key(key);
    return "https://" + std::string(bucket) + ".s3." + region + ".amazonaws.com/" + encode_key(key);
  }
  std::string base = endpoint;
  if (base.back() != '/') base.push_back('/');
  return base + std::string(bucket) + "/" + encode_key(key);
}

bool S3Config::serves(std::string_view url) const {
  if (endpoint.empty()) {
    // AWS itself: only an https URL whose host is *.amazonaws.com, so that a
    // key naming another host (".amazonaws.com/" in its path or query) is
    // never signed with the user's credentials.
    constexpr std::string_view kScheme = "https://";
    if (url.substr(0, kScheme.size()) != kScheme) return false;
    const std::string_view rest = url.substr(kScheme.size());
    const std::string_view host = rest.substr(0, rest.find_first_of("/?#"));
    constexpr std::string_view kAws = ".amazonaws.com";
    return host.size() > kAws.size() && host.substr(host.size() - kAws.size()) == kAws &&
           host.find_first_of("@:") == std::string_view::npos;
  }
  std::string base = endpoint;
  if (base.back() != '/') base.push_back('/');
  return url.substr(0, base.size()) == base;
}

S3Config load_s3_config(std::string_view endpoint_option) {
  S3Config config;
  config.endpoint = std::string(endpoint_option);
  if (config.endpoint.empty()) config.endpoint = env("AWS_ENDPOINT_URL_S3");
  if (config.endpoint.empty()) config.endpoint = env("AWS_ENDPOINT_URL");
  std::string region = env("AWS_REGION");
  if (region.empty()) region = env("AWS_DEFAULT_REGION");
  if (!region.empty()) config.region = region;
  if (!env("AWS_ACCESS_KEY_ID").empty() && !env("AWS_SECRET_ACCESS_KEY").empty())
    config.credentials = S3Credentials{env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY"),
                                       env("AWS_SESSION_TOKEN")};
  else
    config.credentials = credentials_from_file();
  config.ca_bundle = ca_bundle();
  return config;
}

Status check_bucket_name(std::string_view bucket) {
  auto refuse = [&](const char* why) {
    return make_error(Errc::kInvalidArgument,
                      "invalid S3 bucket name \"" + std::string(bucket.substr(0, 80)) + "\": " + why);
  };
  if (bucket.size() < 3 || bucket.size() > 63) return refuse("it must have 3 to 63 characters");
  for (const char c : bucket)
    if (!(std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) ||
          c == '.' || c == '-'))
      return refuse("only lowercase letters, digits, '.' and '-' are allowed");
  if (!std::isalnum(static_cast<unsigned char>(bucket.front())) ||
      !std::isalnum(static_cast<unsigned char>(bucket.back())))
    return refuse("it must begin and end with a letter or digit");
  if (bucket.find("..") != std::string_view::npos) return refuse("it must not contain \"..\"");
  if (bucket.substr(0, 4) == "xn--") return refuse("it must not begin with \"xn--\"");
  if (bucket.size() >= 8 && bucket.substr(bucket.size() - 8) == "-s3alias")
    return refuse("it must not end with \"-s3alias\"");
  int dots = 0;
  bool digits_and_dots = true;
  for (const char c : bucket) {
    dots += c == '.';
    digits_and_dots = digits_and_dots && (c == '.' || std::isdigit(static_cast<unsigned char>(c)));
  }
  if (digits_and_dots && dots == 3) return refuse("it must not look like an IP address");
  return {};
}

Result<std::pair<std::string, std::string>> parse_s3_uri(std::string_view uri) {
  constexpr std::string_view kScheme = "s3://";
  if (uri.substr(0, kScheme.size()) != kScheme)
    return make_error(Errc::kInvalidArgument, "not an s3:// URI: " + std::string(uri));
  std::string_view rest = uri.substr(kScheme.size());
  const auto slash = rest.find('/');
  std::string bucket(rest.substr(0, slash));
  std::string prefix = slash == std::string_view::npos ? "" : std::string(rest.substr(slash + 1));
  if (!prefix.empty() && prefix.back() != '/') prefix.push_back('/');
  if (auto ok = check_bucket_name(bucket); !ok) return std::move(ok).error();
  return std::make_pair(std::move(bucket), std::move(prefix));
}

}  // namespace sx::net
