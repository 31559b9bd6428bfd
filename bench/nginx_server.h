// A private nginx on 127.0.0.1 for `bench transfer` when no --server is
// given: own config and directory, stopped by pid in the destructor.
#pragma once

#include <sys/types.h>

#include <string>

#include "sx/error.h"

namespace sx::bench {

class NginxServer {
 public:
  static Result<NginxServer> start();
  NginxServer(NginxServer&& other) noexcept;
  NginxServer& operator=(NginxServer&&) = delete;
  ~NginxServer();
  const std::string& url() const { return url_; }  // http://127.0.0.1:PORT/

 private:
  NginxServer(pid_t pid, std::string dir, std::string url)
      : pid_(pid), dir_(std::move(dir)), url_(std::move(url)) {}
  pid_t pid_ = -1;
  std::string dir_;
  std::string url_;
};

}  // namespace sx::bench
