#include "net/backend_image_host.h"

#include "net/backend_http.h"
#include "net/event_loop.h"

namespace sx::net {
namespace {

class ImageHostBackend final : public Backend {
 public:
  ImageHostBackend(EventLoop& loop, HostProfile profile, const BackendOptions& options)
      : loop_(loop), profile_(std::move(profile)), operation_(options.operation),
        reader_(make_http_backend(loop, "", options)) {}

  void put(const std::string& name, std::span<const std::byte> bytes, PutDone done) override {
    Request request;
    request.method = Method::kPost;
    request.url = profile_.request_url;
    request.body = bytes;
    // A POST may create a second image when retried: the retry policy treats it so.
    request.idempotency = Idempotency::kNotIdempotent;
    request.return_http_errors = true;
    request.operation = operation_;
    for (const auto& [field, value] : profile_.fields) {
      auto expanded = expand_env(value);
      if (!expanded) return done(std::move(expanded).error());
      request.form.push_back({field, std::move(*expanded), false, {}});
    }
    request.form.push_back({profile_.file_field, name, true, "image/png"});
    for (const auto& [header, value] : profile_.headers) {
      auto expanded = expand_env(value);
      if (!expanded) return done(std::move(expanded).error());
      request.headers.push_back(header + ": " + *expanded);
    }
    loop_.submit(std::move(request), [this, done = std::move(done)](Result<Response> r) {
      if (!r) return done(std::move(r).error());
      if (r->status >= 300) {
        // The answer may echo what we sent: report the status only.
        return done(Error{r->error_class, "image host " + profile_.name + " refused the upload: HTTP " +
                                              std::to_string(r->status)});
      }
      done(extract_image_url(profile_, r->text));
    });
  }

  // Images come back over plain HTTP GETs, as from any web server.
  void get(const std::string& key, std::span<std::byte> into, GetDone done) override {
    reader_->get(key, into, std::move(done));
  }
  void get_whole(const std::string& key, std::size_t max_bytes, WholeDone done) override {
    reader_->get_whole(key, max_bytes, std::move(done));
  }

  void remove(const std::string& key, RemoveDone done) override {
    done(make_error(Errc::kInvalidArgument, "image host " + profile_.name + " offers no way to delete images: " + key +
                                                " stays online (its content stays encrypted unless pushed with --no-encrypt)"));
  }
  bool synchronous() const override { return false; }
  ObjectLimits limits() const override { return {profile_.max_bytes, profile_.max_width, profile_.max_height}; }
  std::string describe() const override { return "image host " + profile_.name; }

 private:
  EventLoop& loop_;
  HostProfile profile_;
  OperationId operation_;
  std::unique_ptr<Backend> reader_;
};

}  // namespace

std::unique_ptr<Backend> make_image_host_backend(EventLoop& loop, HostProfile profile, const BackendOptions& options) {
  return std::make_unique<ImageHostBackend>(loop, std::move(profile), options);
}

}  // namespace sx::net
