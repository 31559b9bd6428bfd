// Fuzzes the image-host profile readers (our JSON profiles and ShareX .sxcu)
// and the URL extraction from a host's answer.
//
// Input: PROFILE_JSON [ '\0' ANSWER ]. The answer goes to extract_image_url
// with fixed profiles only: extract_image_url compiles url_pattern with
// std::regex, whose compiler and backtracking matcher are not safe on hostile
// patterns (stack, time), so a pattern from the input is never compiled here.
// A parsed profile is used for the answer only when it names a JSON pointer.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "net/host_profile.h"

namespace {

struct Fixed {
  sx::net::HostProfile pointer;   // url_pointer "/data/url"
  sx::net::HostProfile response;  // what parse_sxcu makes of URL "{response}"
  sx::net::HostProfile pattern;   // a typical response_pattern

  Fixed() {
    pointer.name = response.name = pattern.name = "fuzz";
    pointer.request_url = response.request_url = pattern.request_url = "https://host.invalid/up";
    pointer.url_pointer = "/data/url";
    response.url_pattern = R"(\S+)";
    pattern.url_pattern = R"x("url"\s*:\s*"(https?://[^"]+)")x";
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace net = sx::net;
  static const Fixed fixed;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t nul = input.find('\0');
  const std::string_view json = input.substr(0, nul);

  auto profile = net::parse_host_profile(json, "fuzz");
  auto sxcu = net::parse_sxcu(json, "fuzz");
  if (nul == std::string_view::npos) return 0;

  const std::string_view answer = input.substr(nul + 1);
  (void)net::extract_image_url(fixed.pointer, answer);
  // extract_image_url compiles its std::regex on every call (about 1 ms
  // under ASan, most of an iteration): one pattern per input is enough.
  (void)net::extract_image_url(answer.size() % 2 ? fixed.pattern : fixed.response, answer);
  if (profile && !profile->url_pointer.empty()) (void)net::extract_image_url(*profile, answer);
  if (sxcu && !sxcu->url_pointer.empty()) (void)net::extract_image_url(*sxcu, answer);
  return 0;
}
