// Tests net/host_profile.cc, including the fuzzer's regression inputs.
#include <doctest/doctest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "net/host_profile.h"

using namespace sx;
using namespace sx::net;

TEST_CASE(".sxcu URL forms become pointers, patterns or the whole answer") {
  auto json = parse_sxcu(R"({"RequestURL":"https://h/up","FileFormName":"image","URL":"{json:data.files[0].url}",
                             "Arguments":{"k":"v"},"Headers":{"X-Key":"${SXT_KEY}"}})", "h");
  REQUIRE(json);
  CHECK(json->url_pointer == "/data/files/0/url");
  CHECK(json->file_field == "image");
  CHECK(json->fields.size() == 1);
  auto dollar = parse_sxcu(R"({"RequestURL":"https://h/up","URL":"$json:link$"})", "h");
  REQUIRE(dollar);
  CHECK(dollar->url_pointer == "/link");
  auto regex = parse_sxcu(R"x({"RequestURL":"https://h/up","URL":"{regex:(https://\\S+)}"})x", "h");
  REQUIRE(regex);
  CHECK(regex->url_pattern == R"((https://\S+))");
  auto whole = parse_sxcu(R"({"RequestURL":"https://h/up","URL":"{response}"})", "h");
  REQUIRE(whole);
  CHECK(whole->url_whole_answer);
  CHECK(*extract_image_url(*whole, "  https://h/i/1.png\n") == "https://h/i/1.png");
  CHECK_FALSE(parse_sxcu(R"({"RequestURL":"https://h/up","RequestMethod":"PUT"})", "h"));
  CHECK_FALSE(parse_sxcu(R"({"RequestURL":"ftp://h/up"})", "h"));
}

TEST_CASE("a bad pattern fails when the profile is read, not during an upload") {
  auto bad = parse_sxcu(R"x({"RequestURL":"https://h/up","URL":"{regex:(unclosed}"})x", "h");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message.find("not a valid regular expression") != std::string::npos);
  CHECK_FALSE(parse_host_profile(R"({"url":"https://h/up","response_pattern":"[a-"})", "p"));
}

TEST_CASE("answers: JSON pointers, patterns, and only http(s) URLs") {
  auto profile = parse_host_profile(R"({"url":"http://h/up","response_url":"/data/url"})", "p");
  REQUIRE(profile);
  CHECK(*extract_image_url(*profile, R"({"data":{"url":"http://h/i/a.png"}})") == "http://h/i/a.png");
  CHECK_FALSE(extract_image_url(*profile, R"({"data":{"url":"file:///etc/passwd"}})"));
  CHECK_FALSE(extract_image_url(*profile, R"({"data":{}})"));
  CHECK_FALSE(extract_image_url(*profile, "not json"));
  auto pattern = parse_host_profile(R"x({"url":"http://h/up","response_pattern":"URL: (\\S+)"})x", "p");
  REQUIRE(pattern);
  CHECK(*extract_image_url(*pattern, "OK\nURL: https://h/i/b.png\n") == "https://h/i/b.png");
  // Long answers are not fed to std::regex (its matcher recurses per character).
  const std::string long_answer = "https://" + std::string(100000, 'a');
  auto refused = extract_image_url(*pattern, long_answer);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == Errc::kCorrupt);
}

TEST_CASE("environment variables expand, and an unset one is named") {
  ::setenv("SXT_PROFILE_KEY", "s3cr3t", 1);
  CHECK(*expand_env("Bearer ${SXT_PROFILE_KEY}") == "Bearer s3cr3t");
  ::unsetenv("SXT_PROFILE_KEY");
  auto missing = expand_env("${SXT_PROFILE_KEY}");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().message.find("SXT_PROFILE_KEY") != std::string::npos);
  CHECK_FALSE(expand_env("${unterminated"));
}

TEST_CASE("fuzzer regression inputs are handled without crashing") {
  const std::filesystem::path dir = std::filesystem::path(SX_SOURCE_ROOT) / "fuzz" / "regressions" / "host_profile";
  int seen = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream buffer;
    buffer << in.rdbuf();
    const std::string input = buffer.str();
    CAPTURE(entry.path().filename().string());
    // As the fuzz target does: the whole input as a profile and an .sxcu, and
    // split at a NUL into a profile and an answer.
    (void)parse_host_profile(input, "fuzz");
    (void)parse_sxcu(input, "fuzz");
    const auto nul = input.find('\0');
    if (nul != std::string::npos) {
      const std::string answer = input.substr(nul + 1);
      for (const char* json : {R"({"RequestURL":"http://h/u","URL":"{response}"})",
                               R"({"url":"http://h/u","response_url":"/data/url"})",
                               R"x({"url":"http://h/u","response_pattern":"(https?://\\S+)"})x"}) {
        auto profile = std::string(json).find("RequestURL") != std::string::npos ? parse_sxcu(json, "f")
                                                                                   : parse_host_profile(json, "f");
        REQUIRE(profile);
        (void)extract_image_url(*profile, answer);
      }
    }
    ++seen;
  }
  CHECK(seen >= 2);
}

TEST_CASE("patterns libstdc++ would overflow on are refused before compiling") {
  CHECK_FALSE(parse_host_profile(R"x({"url":"http://h/u","response_pattern":"(a)\\77777777777777777777"})x", "p"));
  CHECK_FALSE(parse_host_profile(R"x({"url":"http://h/u","response_pattern":"a{99999999999999999999}"})x", "p"));
  CHECK_FALSE(parse_host_profile(R"x({"url":"http://h/u","response_pattern":"(x)\\1"})x", "p"));
  CHECK(parse_host_profile(R"x({"url":"http://h/u","response_pattern":"https://\\S{1,2000}"})x", "p"));
  CHECK(parse_host_profile(R"x({"url":"http://h/u","response_pattern":"a\\\\1"})x", "p"));  // an escaped backslash, then 1
}
