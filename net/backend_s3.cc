#include "net/backend_s3.h"

#include "net/event_loop.h"
#include "net/http_error.h"
#include "net/s3_request.h"

namespace sx::net {
namespace {

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
      : loop_(loop), config_(std::move(config)), operation_(options.operation), check_body_(options.check_body),
        max_retries_(options.max_retries) {}

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
           WholeDone done_whole, BodySink* sink = nullptr) {
    Request request = s3_object_request(config_, Method::kGet, url);
    request.response_buffer = into;
    request.body_sink = sink;
    request.max_text_bytes = max_text;
    request.operation = operation_;
    request.max_retries = max_retries_;
    request.check_body = check_body_;
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
    Request request = s3_object_request(config_, Method::kDelete, url);
    request.operation = operation_;
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
  int max_retries_;
};

class S3Backend final : public Backend {
 public:
  S3Backend(EventLoop& loop, S3Config config, std::string bucket, std::string prefix, S3BackendOptions options,
            const BackendOptions& common)
      : client_(loop, std::move(config), common), bucket_(std::move(bucket)), prefix_(std::move(prefix)),
        options_(std::move(options)) {}

  void put(const std::string& name, std::span<const std::byte> bytes, PutDone done) override {
    const std::string key = prefix_ + name;
    Request request = s3_put_request(client_.config_, bucket_, key, bytes, options_.acl, options_.sign_payload);
    request.operation = client_.operation_;
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
  void get_streaming(const std::string& key, std::span<std::byte> into, BodySink& sink, GetDone done) override {
    client_.get(key, into, 0, std::move(done), {}, &sink);
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
  void get_streaming(const std::string& key, std::span<std::byte> into, BodySink& sink, GetDone done) override {
    client_.get(key, into, 0, std::move(done), {}, &sink);
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
