// Tests net/s3_config.cc: object URLs, key encoding, bucket names, s3:// URIs
// and where the settings and credentials come from.
#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "net/s3_config.h"
#include "net/s3_request.h"

using namespace sx;
using namespace sx::net;
namespace fs = std::filesystem;

namespace {

// Saves the AWS variables (and HOME) on construction, clears them, and puts
// them back on destruction, so tests neither see nor leak the user's setup.
class EnvGuard {
 public:
  EnvGuard() {
    for (const char* name : kNames) {
      const char* value = std::getenv(name);
      saved_[name] = value ? std::optional<std::string>(value) : std::nullopt;
      ::unsetenv(name);
    }
  }
  ~EnvGuard() {
    for (const auto& [name, value] : saved_) {
      if (value) ::setenv(name.c_str(), value->c_str(), 1);
      else ::unsetenv(name.c_str());
    }
  }
  EnvGuard(const EnvGuard&) = delete;
  EnvGuard& operator=(const EnvGuard&) = delete;

  static void set(const char* name, const std::string& value) { ::setenv(name, value.c_str(), 1); }

 private:
  static constexpr const char* kNames[] = {
      "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SHARED_CREDENTIALS_FILE",
      "AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_REGION", "AWS_DEFAULT_REGION", "HOME"};
  std::map<std::string, std::optional<std::string>> saved_;
};

// A fresh directory, removed at the end.
struct TempDir {
  TempDir() {
    path = fs::temp_directory_path() / ("sxs3-" + std::to_string(::getpid()));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  fs::path path;
};

}  // namespace

TEST_CASE("encode_key keeps '/' and unreserved characters and percent-encodes the rest") {
  CHECK(encode_key("abcXYZ019-_.~/dir/") == "abcXYZ019-_.~/dir/");
  CHECK(encode_key("a b") == "a%20b");
  CHECK(encode_key("a+b=c&d") == "a%2Bb%3Dc%26d");
  CHECK(encode_key("100%?#") == "100%25%3F%23");
  CHECK(encode_key("\xc3\xbc") == "%C3%BC");  // ü as UTF-8
  CHECK(encode_key(std::string("\xff\x00", 2)) == "%FF%00");
  CHECK(encode_key("") == "");
}

TEST_CASE("object_url is path-style on a custom endpoint and virtual-hosted on AWS") {
  S3Config custom;
  custom.endpoint = "http://127.0.0.1:9000";
  CHECK(custom.object_url("bucket", "dir/a b/\xc3\xbc.png") == "http://127.0.0.1:9000/bucket/dir/a%20b/%C3%BC.png");
  custom.endpoint = "http://127.0.0.1:9000/";  // a trailing slash changes nothing
  CHECK(custom.object_url("bucket", "k") == "http://127.0.0.1:9000/bucket/k");

  S3Config aws;
  aws.region = "eu-west-1";
  CHECK(aws.object_url("bucket", "dir/a b/\xc3\xbc.png") ==
        "https://bucket.s3.eu-west-1.amazonaws.com/dir/a%20b/%C3%BC.png");
  CHECK(S3Config{}.object_url("b-1", "x") == "https://b-1.s3.us-east-1.amazonaws.com/x");
  CHECK(S3Config{}.object_url("my.bucket", "x") == "https://s3.us-east-1.amazonaws.com/my.bucket/x");
  CHECK(aws.sigv4_provider() == "aws:amz:eu-west-1:s3");
}

TEST_CASE("serves tells whether a URL is on the configured endpoint") {
  S3Config custom;
  custom.endpoint = "http://127.0.0.1:9000";
  CHECK(custom.serves(custom.object_url("bucket", "a b.png")));
  CHECK(custom.serves("http://127.0.0.1:9000/other/key"));
  CHECK_FALSE(custom.serves("http://127.0.0.1:90001/bucket/key"));  // not a prefix trick
  CHECK_FALSE(custom.serves("http://127.0.0.1:9001/bucket/key"));
  CHECK_FALSE(custom.serves("https://127.0.0.1:9000/bucket/key"));
  CHECK_FALSE(custom.serves("http://example.com/bucket/key"));

  S3Config aws;
  CHECK(aws.serves(aws.object_url("bucket", "k")));
  CHECK(aws.serves("https://bucket.s3.eu-central-1.amazonaws.com/k"));
  CHECK_FALSE(aws.serves("https://example.com/bucket/k"));
  CHECK_FALSE(aws.serves("http://127.0.0.1:9000/bucket/k"));
  // Credentials go only to an AWS host: not to one that names AWS in its path or query.
  CHECK_FALSE(aws.serves("http://evil.example/.amazonaws.com/x"));
  CHECK_FALSE(aws.serves("https://evil.example/.amazonaws.com/x"));
  CHECK_FALSE(aws.serves("https://evil.example/?.amazonaws.com/"));
  CHECK_FALSE(aws.serves("https://x.amazonaws.com@evil.example/k"));
  CHECK_FALSE(aws.serves("http://bucket.s3.us-east-1.amazonaws.com/k"));  // plain http: not signed
}

TEST_CASE("parse_s3_uri splits bucket and prefix") {
  auto full = parse_s3_uri("s3://my-bucket/some/prefix");
  REQUIRE(full);
  CHECK(full->first == "my-bucket");
  CHECK(full->second == "some/prefix/");
  auto slash = parse_s3_uri("s3://my-bucket/some/prefix/");
  REQUIRE(slash);
  CHECK(slash->second == "some/prefix/");
  auto bare = parse_s3_uri("s3://my-bucket");
  REQUIRE(bare);
  CHECK(bare->first == "my-bucket");
  CHECK(bare->second == "");
  auto root = parse_s3_uri("s3://my-bucket/");
  REQUIRE(root);
  CHECK(root->second == "");

  auto not_s3 = parse_s3_uri("https://my-bucket/x");
  REQUIRE_FALSE(not_s3);
  CHECK(not_s3.error().code == Errc::kInvalidArgument);
  auto bad_bucket = parse_s3_uri("s3://My_Bucket/x");
  REQUIRE_FALSE(bad_bucket);
  CHECK(bad_bucket.error().code == Errc::kInvalidArgument);
  CHECK(bad_bucket.error().message.find("My_Bucket") != std::string::npos);
  CHECK_FALSE(parse_s3_uri("s3://"));
}

TEST_CASE("check_bucket_name follows the S3 naming rules") {
  for (const char* good : {"abc", "my-bucket", "my.bucket.01", "0bucket9", "1.2.3", "a-s3alias-b"}) {
    CAPTURE(good);
    CHECK(check_bucket_name(good));
  }
  CHECK(check_bucket_name(std::string(63, 'a')));
  const std::vector<std::string> bad = {
      "ab", std::string(64, 'a'), "ABC", "my_bucket", "my bucket", "-abc", "abc-", ".abc", "abc.",
      "a..b", "xn--abc", "abc-s3alias", "192.168.1.1", "caf\xc3\xa9"};
  for (const std::string& name : bad) {
    CAPTURE(name);
    auto checked = check_bucket_name(name);
    REQUIRE_FALSE(checked);
    CHECK(checked.error().code == Errc::kInvalidArgument);
  }
}

TEST_CASE("load_s3_config takes endpoint, region and credentials from the environment") {
  EnvGuard env;
  TempDir home;
  EnvGuard::set("HOME", home.path.string());  // no ~/.aws/credentials there

  S3Config plain = load_s3_config("");
  CHECK(plain.endpoint == "");
  CHECK(plain.region == "us-east-1");
  CHECK_FALSE(plain.credentials.has_value());

  EnvGuard::set("AWS_ENDPOINT_URL", "http://generic:9000");
  CHECK(load_s3_config("").endpoint == "http://generic:9000");
  EnvGuard::set("AWS_ENDPOINT_URL_S3", "http://s3-only:9000");
  CHECK(load_s3_config("").endpoint == "http://s3-only:9000");
  CHECK(load_s3_config("http://option:1").endpoint == "http://option:1");

  EnvGuard::set("AWS_DEFAULT_REGION", "eu-north-1");
  CHECK(load_s3_config("").region == "eu-north-1");
  EnvGuard::set("AWS_REGION", "ap-south-1");
  CHECK(load_s3_config("").region == "ap-south-1");

  EnvGuard::set("AWS_ACCESS_KEY_ID", "AKIDENV");
  CHECK_FALSE(load_s3_config("").credentials.has_value());  // a key without its secret
  EnvGuard::set("AWS_SECRET_ACCESS_KEY", "secret-env");
  EnvGuard::set("AWS_SESSION_TOKEN", "token-env");
  S3Config from_env = load_s3_config("");
  REQUIRE(from_env.credentials.has_value());
  CHECK(from_env.credentials->access_key == "AKIDENV");
  CHECK(from_env.credentials->secret_key == "secret-env");
  CHECK(from_env.credentials->session_token == "token-env");
}

TEST_CASE("load_s3_config reads the shared credentials file and its profiles") {
  EnvGuard env;
  TempDir home;
  EnvGuard::set("HOME", home.path.string());
  const fs::path file = home.path / "credentials";
  {
    std::ofstream out(file);
    out << "# comment\n"
           "[default]\n"
           "aws_access_key_id = AKIDDEFAULT\n"
           "aws_secret_access_key=secret-default\r\n"
           "\n"
           "; another comment\n"
           "[ work ]\n"
           "  aws_access_key_id =  AKIDWORK  \n"
           "aws_secret_access_key = secret=with=equals\n"
           "aws_session_token = token-work\n"
           "[half]\n"
           "aws_access_key_id = AKIDHALF\n";
  }
  EnvGuard::set("AWS_SHARED_CREDENTIALS_FILE", file.string());

  S3Config by_default = load_s3_config("");
  REQUIRE(by_default.credentials.has_value());
  CHECK(by_default.credentials->access_key == "AKIDDEFAULT");
  CHECK(by_default.credentials->secret_key == "secret-default");
  CHECK(by_default.credentials->session_token == "");

  EnvGuard::set("AWS_PROFILE", "work");
  S3Config work = load_s3_config("");
  REQUIRE(work.credentials.has_value());
  CHECK(work.credentials->access_key == "AKIDWORK");
  CHECK(work.credentials->secret_key == "secret=with=equals");
  CHECK(work.credentials->session_token == "token-work");

  EnvGuard::set("AWS_PROFILE", "half");  // no secret: no credentials
  CHECK_FALSE(load_s3_config("").credentials.has_value());
  EnvGuard::set("AWS_PROFILE", "absent");
  CHECK_FALSE(load_s3_config("").credentials.has_value());

  // The variables win over the file.
  EnvGuard::set("AWS_PROFILE", "work");
  EnvGuard::set("AWS_ACCESS_KEY_ID", "AKIDENV");
  EnvGuard::set("AWS_SECRET_ACCESS_KEY", "secret-env");
  S3Config env_first = load_s3_config("");
  REQUIRE(env_first.credentials.has_value());
  CHECK(env_first.credentials->access_key == "AKIDENV");

  // Without AWS_SHARED_CREDENTIALS_FILE the file is ~/.aws/credentials.
  ::unsetenv("AWS_ACCESS_KEY_ID");
  ::unsetenv("AWS_SECRET_ACCESS_KEY");
  ::unsetenv("AWS_SHARED_CREDENTIALS_FILE");
  CHECK_FALSE(load_s3_config("").credentials.has_value());
  fs::create_directories(home.path / ".aws");
  fs::copy_file(file, home.path / ".aws" / "credentials");
  S3Config from_home = load_s3_config("");
  REQUIRE(from_home.credentials.has_value());
  CHECK(from_home.credentials->access_key == "AKIDWORK");
}

TEST_CASE("s3 requests: what is signed and which headers go out") {
  S3Config config;
  config.endpoint = "http://127.0.0.1:7480";
  config.region = "eu-test-1";
  config.credentials = S3Credentials{"AKID", "SECRET", "TOKEN"};
  const std::string body = "png bytes";
  const auto bytes = std::as_bytes(std::span<const char>(body.data(), body.size()));
  const auto has = [](const Request& r, std::string_view header) {
    for (const std::string& h : r.headers)
      if (h == header) return true;
    return false;
  };

  Request put = s3_put_request(config, "bucket", "pre/a b.png", bytes, "public-read", false);
  CHECK(put.method == Method::kPut);
  CHECK(put.url == "http://127.0.0.1:7480/bucket/pre/a%20b.png");
  CHECK(put.aws_sigv4 == "aws:amz:eu-test-1:s3");
  CHECK(put.userpwd == "AKID:SECRET");
  CHECK(has(put, "x-amz-content-sha256: UNSIGNED-PAYLOAD"));
  CHECK(has(put, "x-amz-acl: public-read"));
  CHECK(has(put, "x-amz-security-token: TOKEN"));
  CHECK(has(put, "Content-Type: image/png"));
  CHECK(put.body.size() == body.size());

  Request signed_body = s3_put_request(config, "bucket", "k", bytes, "", true);
  // sha256("png bytes"), as `printf 'png bytes' | sha256sum` prints it
  CHECK(has(signed_body, "x-amz-content-sha256: d013614dc14a37ee20fe92005737ab7d3427e7e93580ad56ef8a42205e7f7a4e"));
  CHECK_FALSE(has(signed_body, "x-amz-acl: public-read"));

  Request get = s3_object_request(config, Method::kGet, "http://127.0.0.1:7480/bucket/k");
  CHECK(get.aws_sigv4 == "aws:amz:eu-test-1:s3");
  Request elsewhere = s3_object_request(config, Method::kGet, "http://example.com/bucket/k");
  CHECK(elsewhere.aws_sigv4.empty());  // never signed for a host the user did not name
  CHECK(elsewhere.userpwd.empty());
  Request del = s3_object_request(config, Method::kDelete, "http://127.0.0.1:7480/bucket/k");
  CHECK(del.method == Method::kDelete);
  CHECK(del.aws_sigv4 == "aws:amz:eu-test-1:s3");

  S3Config anonymous;
  anonymous.endpoint = config.endpoint;
  Request plain = s3_put_request(anonymous, "bucket", "k", bytes, "", false);
  CHECK(plain.aws_sigv4.empty());
  CHECK(plain.headers.size() == 1);  // Content-Type only
}
