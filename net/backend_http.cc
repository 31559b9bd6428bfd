#include "net/backend_http.h"

#include "net/event_loop.h"

namespace sx::net {
namespace {

class HttpBackend final : public Backend {
 public:
  HttpBackend(EventLoop& loop, std::string prefix, const BackendOptions& options)
      : loop_(loop), prefix_(std::move(prefix)), operation_(options.operation), check_body_(options.check_body),
        max_retries_(options.max_retries) {
    if (!prefix_.empty() && prefix_.back() != '/') prefix_.push_back('/');
  }

  void put(const std::string& name, std::span<const std::byte> bytes, PutDone done) override {
    Request request;
    request.method = Method::kPut;
    request.url = prefix_ + name;
    request.body = bytes;
    request.headers.push_back("Content-Type: image/png");
    request.operation = operation_;
    std::string url = request.url;  // copied before `request` is moved from
    loop_.submit(std::move(request),
                 [url = std::move(url), done = std::move(done)](Result<Response> r) {
                   if (!r) return done(std::move(r).error());
                   done(url);
                 });
  }

  void get(const std::string& key, std::span<std::byte> into, GetDone done) override {
    get_into(key, into, nullptr, std::move(done));
  }
  void get_streaming(const std::string& key, std::span<std::byte> into, BodySink& sink, GetDone done) override {
    get_into(key, into, &sink, std::move(done));
  }

  void get_into(const std::string& key, std::span<std::byte> into, BodySink* sink, GetDone done) {
    Request request;
    request.url = key;
    request.response_buffer = into;
    request.body_sink = sink;
    request.operation = operation_;
    request.check_body = check_body_;
    request.max_retries = max_retries_;
    loop_.submit(std::move(request), [done = std::move(done)](Result<Response> r) {
      if (!r) return done(std::move(r).error());
      done(r->body_bytes);
    });
  }

  void get_whole(const std::string& key, std::size_t max_bytes, WholeDone done) override {
    Request request;
    request.url = key;
    request.max_text_bytes = max_bytes;
    request.operation = operation_;
    request.check_body = check_body_;
    request.max_retries = max_retries_;
    loop_.submit(std::move(request), [done = std::move(done)](Result<Response> r) {
      if (!r) return done(std::move(r).error());
      const auto* bytes = reinterpret_cast<const std::byte*>(r->text.data());
      done(std::vector<std::byte>(bytes, bytes + r->text.size()));
    });
  }

  void remove(const std::string& key, RemoveDone done) override {
    Request request;
    request.method = Method::kDelete;
    request.url = key;
    request.operation = operation_;
    request.return_http_errors = true;
    loop_.submit(std::move(request), [key, done = std::move(done)](Result<Response> r) {
      if (!r) return done(std::move(r).error());
      const long status = r->status;
      if (status < 300) return done({});
      const std::string code = " (HTTP " + std::to_string(status) + ")";
      if (status == 404 || status == 410) return done(make_error(Errc::kNotFound, key + ": not there" + code));
      // Image hosts and read-only servers: the object stays where it is.
      if (status == 405 || status == 501)
        return done(make_error(Errc::kInvalidArgument, "the server does not delete objects" + code + ": " + key +
                                                           " stays (an image host deletes only through its own site or API)"));
      if (status == 401 || status == 403)
        return done(make_error(Errc::kDenied, "the server refused to delete" + code + ": " + key +
                                                  " stays (an image host deletes only through its own site or API)"));
      done(make_error(r->error_class, "DELETE " + key + code));
    });
  }

  bool synchronous() const override { return false; }
  std::string describe() const override { return prefix_.empty() ? std::string("HTTP server") : prefix_; }

 private:
  EventLoop& loop_;
  std::string prefix_;
  OperationId operation_;
  BodyCheck check_body_;
  int max_retries_;
};

}  // namespace

std::unique_ptr<Backend> make_http_backend(EventLoop& loop, std::string prefix, const BackendOptions& options) {
  return std::make_unique<HttpBackend>(loop, std::move(prefix), options);
}

}  // namespace sx::net
