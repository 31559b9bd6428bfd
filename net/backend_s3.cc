#include "net/backend_s3.h"

#include <openssl/sha.h>

#include "base/text.h"
#include "net/event_loop.h"
#include "net/http_error.h"

namespace sx::net {
namespace {

// Hex SHA-256 of a body (net/ does not use codec/: OpenSSL directly).
std::string sha256_hex(std::span<const std::byte> bytes) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest);
  return text::to_hex(std::span<const std::uint8_t>(digest, sizeof digest));
}

// "S3 AccessDenied (HTTP 403) for bucket B, key K: message" from an error body.
Error s3_error(const Response& response, const std::string& bucket, const std::string& key) {
  const std::string code = s3_error_code(response.text);
  std::string message = "S3 " + (code.empty() ? std::string("error") : code) + " (HTTP " +
                        std::to_string(response.status) + ") for bucket " + bucket + ", key " + key;
  const std::string detail = describe_error_body(response.text);
  const auto colon = detail.find(": ");
  if (colon != std::string::npos) message += ": " + detail.substr(colon + 2, detail.size() - colon - 3);
  return Error{response.error_class, std::move(message)};
}

class S3Client {
 public:
  S3Client(EventLoop& loop, S3Config config, const BackendOptions& options)
      : loop_(loop), config_(std::move(config)), operation_(options.operation), check_body_(options.check_body) {}

  // Adds SigV4 signing (and the payload hash header RGW and AWS require).
  void sign(Request& request, const std::string& payload_hash) const {
    if (!config_.credentials) return;
    request.aws_sigv4 = config_.sigv4_provider();
    request.userpwd = config_.credentials->access_key + ":" + config_.credentials->secret_key;
    request.headers.push_back("x-amz-content-sha256: " + payload_hash);
    if (!config_.credentials->session_token.empty())
      request.headers.push_back("x-amz-security-token: " + config_.credentials->session_token);
  }

  // Bucket and key of an object URL, for messages.
  std::pair<std::string, std::string> locate(const std::string& url) const {
    std::string base = config_.endpoint;
    if (!base.empty() && base.back() != '/') base.push_back('/');
    std::string path = url;
    if (!base.empty() && url.rfind(base, 0) == 0) {
      path = url.substr(base.size());
      const auto slash = path.find('/');
      return {path.substr(0, slash), slash == std::string::npos ? "" : path.substr(slash + 1)};
    }
    const auto host_end = url.find('/', url.find("//") + 2);
    const std::string host = url.substr(url.find("//") + 2, host_end - url.find("//") - 2);
    return {host.substr(0, host.find(".s3.")), host_end == std::string::npos ? "" : url.substr(host_end + 1)};
  }

  void get(const std::string& url, std::span<std::byte> into, std::size_t max_text, GetDone done_span,
           WholeDone done_whole) {
    Request request;
    request.url = url;
    request.response_buffer = into;
    request.max_text_bytes = max_text;
    request.return_http_errors = true;
    request.operation = operation_;
    request.check_body = check_body_;
    if (config_.serves(url)) sign(request, "UNSIGNED-PAYLOAD");
    loop_.submit(std::move(request), [this, url, done_span = std::move(done_span),
                                      done_whole = std::move(done_whole)](Result<Response> r) {
      Result<Response> result = std::move(r);
      if (result && result->status >= 300) {
        auto [bucket, key] = locate(url);
        result = s3_error(*result, bucket, key);
      }
      if (done_span) {
        if (!result) return done_span(std::move(result).error());
        return done_span(result->body_bytes);
      }
      if (!result) return done_whole(std::move(result).error());
      const auto* bytes = reinterpret_cast<const std::byte*>(result->text.data());
      done_whole(std::vector<std::byte>(bytes, bytes + result->text.size()));
    });
  }

  // DELETE, signed when the object is on the configured endpoint. S3 answers
  // 204 for a key that does not exist: nothing tells "gone" from "deleted".
  void remove(const std::string& url, RemoveDone done) {
    Request request;
    request.method = Method::kDelete;
    request.url = url;
    request.return_http_errors = true;
    request.operation = operation_;
    if (config_.serves(url)) sign(request, "UNSIGNED-PAYLOAD");
    loop_.submit(std::move(request), [this, url, done = std::move(done)](Result<Response> r) {
      if (!r) return done(std::move(r).error());
      if (r->status >= 300) {
        auto [bucket, key] = locate(url);
        return done(s3_error(*r, bucket, key));
      }
      done({});
    });
  }

  EventLoop& loop_;
  S3Config config_;
  OperationId operation_;
  BodyCheck check_body_;
};

class S3Backend final : public Backend {
 public:
  S3Backend(EventLoop& loop, S3Config config, std::string bucket, std::string prefix, S3BackendOptions options,
            const BackendOptions& common)
      : client_(loop, std::move(config), common), bucket_(std::move(bucket)), prefix_(std::move(prefix)),
        options_(std::move(options)) {}

  void put(const std::string& name, std::span<const std::byte> bytes, PutDone done) override {
    const std::string key = prefix_ + name;
    Request request;
    request.method = Method::kPut;
    request.url = client_.config_.object_url(bucket_, key);
    request.body = bytes;
    request.return_http_errors = true;
    request.operation = client_.operation_;
    request.headers.push_back("Content-Type: image/png");
    if (!options_.acl.empty()) request.headers.push_back("x-amz-acl: " + options_.acl);
    // UNSIGNED-PAYLOAD by default: the piece CRC and the file SHA-256 already
    // verify the bytes end to end, and hashing each body costs a core at ~1.5 GB/s.
    client_.sign(request, options_.sign_payload ? sha256_hex(bytes) : "UNSIGNED-PAYLOAD");
    std::string url = request.url;  // copied before `request` is moved from
    client_.loop_.submit(std::move(request), [this, url = std::move(url), key, done = std::move(done)](Result<Response> r) {
      if (!r) return done(std::move(r).error());
      if (r->status >= 300) return done(s3_error(*r, bucket_, key));
      done(url);
    });
  }

  void get(const std::string& key, std::span<std::byte> into, GetDone done) override {
    client_.get(key, into, 0, std::move(done), {});
  }
  void get_whole(const std::string& key, std::size_t max_bytes, WholeDone done) override {
    client_.get(key, {}, max_bytes, {}, std::move(done));
  }
  void remove(const std::string& key, RemoveDone done) override { client_.remove(key, std::move(done)); }
  bool synchronous() const override { return false; }
  std::string describe() const override { return "s3://" + bucket_ + "/" + prefix_; }

 private:
  S3Client client_;
  std::string bucket_;
  std::string prefix_;
  S3BackendOptions options_;
};

class S3Reader final : public Backend {
 public:
  S3Reader(EventLoop& loop, S3Config config, const BackendOptions& options)
      : client_(loop, std::move(config), options) {}
  void put(const std::string&, std::span<const std::byte>, PutDone done) override {
    done(make_error(Errc::kInvalidArgument, "this backend only reads"));
  }
  void get(const std::string& key, std::span<std::byte> into, GetDone done) override {
    client_.get(key, into, 0, std::move(done), {});
  }
  void get_whole(const std::string& key, std::size_t max_bytes, WholeDone done) override {
    client_.get(key, {}, max_bytes, {}, std::move(done));
  }
  void remove(const std::string& key, RemoveDone done) override { client_.remove(key, std::move(done)); }
  bool synchronous() const override { return false; }
  std::string describe() const override { return "s3 reader"; }

 private:
  S3Client client_;
};

}  // namespace

std::unique_ptr<Backend> make_s3_backend(EventLoop& loop, S3Config config, std::string bucket,
                                         std::string prefix, S3BackendOptions options,
                                         const BackendOptions& common) {
  return std::make_unique<S3Backend>(loop, std::move(config), std::move(bucket), std::move(prefix),
                                     std::move(options), common);
}

std::unique_ptr<Backend> make_s3_reader(EventLoop& loop, S3Config config, const BackendOptions& options) {
  return std::make_unique<S3Reader>(loop, std::move(config), options);
}

}  // namespace sx::net
