// Image-host profiles: how to upload an image to a host and find its URL in
// the answer. Our own JSON profiles and ShareX custom uploaders (.sxcu).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sx/error.h"

namespace sx::net {

struct HostProfile {
  std::string name;
  std::string request_url;
  std::string file_field = "file";
  // Form fields and headers; values may name environment variables as
  // ${NAME} (API keys), expanded only when a request is built and never
  // written to manifests, logs or --json output.
  std::vector<std::pair<std::string, std::string>> fields;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string url_pointer;  // JSON pointer to the image URL, e.g. "/data/url"
  std::string url_pattern;  // else: ECMAScript regex over a text answer (group 1, or the match)
  bool url_whole_answer = false;  // else: the answer's first word ({response})
  std::size_t max_bytes = 0;  // 0: no limit
  std::uint32_t max_width = 0;
  std::uint32_t max_height = 0;
};

// Our format: {"url": …, "field": "file", "fields": {…}, "headers": {…},
// "response_url": "/data/url" | "response_pattern": "…", "max_bytes": N,
// "max_width": N, "max_height": N}.
Result<HostProfile> parse_host_profile(std::string_view json, std::string_view name);
// ShareX custom uploader: RequestURL, FileFormName, Arguments, Headers, URL
// with $json:a.b$ / {json:a.b} / $regex:…$ / {regex:…} / {response}.
Result<HostProfile> parse_sxcu(std::string_view json, std::string_view name);

// "host:NAME" (from $XDG_CONFIG_HOME/sxengine/hosts.json), "host:{…}" inline,
// or "sxcu:PATH".
Result<HostProfile> load_host_profile(std::string_view backend_uri);

// ${NAME} → the environment's value (an unset variable is an error).
Result<std::string> expand_env(std::string_view value);

// The image URL in a host's answer, per the profile.
Result<std::string> extract_image_url(const HostProfile& profile, std::string_view answer);

}  // namespace sx::net
