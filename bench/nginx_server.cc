#include "bench/nginx_server.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

namespace sx::bench {
namespace {

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

bool accepts(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

Result<NginxServer> NginxServer::start() {
  const char* binary = "/usr/sbin/nginx";
  if (::access(binary, X_OK) != 0)
    return make_error(Errc::kNotFound, "nginx not found (apt-get install nginx-light) or pass --server URL");
  char templ[] = "/tmp/sxbench.XXXXXX";
  if (!::mkdtemp(templ)) return make_error(Errc::kIo, "cannot create a temp directory");
  const std::string dir = templ;
  std::filesystem::create_directories(dir + "/data");
  std::filesystem::create_directories(dir + "/tmp");
  ::chmod((dir + "/data").c_str(), 0777);
  ::chmod((dir + "/tmp").c_str(), 0777);
  const int port = free_port();
  std::ofstream(dir + "/nginx.conf") << fmt::format(R"(daemon off;
worker_processes 2;
{}pid {}/nginx.pid;
error_log {}/error.log;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {}/tmp;
  proxy_temp_path {}/tmp;
  fastcgi_temp_path {}/tmp;
  uwsgi_temp_path {}/tmp;
  scgi_temp_path {}/tmp;
  sendfile on;
  keepalive_requests 100000;
  server {{
    listen 127.0.0.1:{};
    location / {{
      root {}/data;
      dav_methods PUT DELETE;
      create_full_put_path on;
      client_max_body_size 0;
      client_body_buffer_size 1m;
    }}
  }}
}}
)", ::getuid() == 0 ? "user root;\n" : "", dir, dir, dir, dir, dir, dir, dir, port, dir);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::setsid();
    ::execl(binary, binary, "-p", dir.c_str(), "-c", (dir + "/nginx.conf").c_str(), nullptr);
    ::_exit(127);
  }
  NginxServer server(pid, dir, fmt::format("http://127.0.0.1:{}/", port));
  for (int i = 0; i < 100; ++i) {
    if (accepts(port)) return server;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return make_error(Errc::kIo, "nginx did not start; see " + dir + "/error.log");
}

NginxServer::NginxServer(NginxServer&& other) noexcept
    : pid_(other.pid_), dir_(std::move(other.dir_)), url_(std::move(other.url_)) {
  other.pid_ = -1;
}

NginxServer::~NginxServer() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  for (int i = 0; i < 100; ++i) {
    if (::waitpid(pid_, nullptr, WNOHANG) == pid_) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (i == 99) {
      ::kill(-pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

}  // namespace sx::bench
