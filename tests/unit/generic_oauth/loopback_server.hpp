#pragma once
// A token and userinfo endpoint on 127.0.0.1 for the refresh tests: one thread, one connection at a
// time, answers from a handler the test gives, every request recorded.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace test_server {

struct request {
  std::string method, path, headers, body;
};
struct response {
  int status = 200;
  std::string body;
};

class loopback_server {
public:
  explicit loopback_server(std::function<response(const request&)> handler) : handler_(std::move(handler)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd_, 16) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
      throw std::runtime_error("loopback server: cannot listen");
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { run(); });
  }
  ~loopback_server() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port_) + path; }
  std::vector<request> requests() const {
    std::lock_guard lock(mutex_);
    return seen_;
  }

private:
  void run() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) continue;
      serve(c);
      ::close(c);
    }
  }
  void serve(int c) {
    std::string data;
    char buf[4096];
    std::size_t header_end;
    while ((header_end = data.find("\r\n\r\n")) == std::string::npos) {
      auto n = ::recv(c, buf, sizeof buf, 0);
      if (n <= 0) return;
      data.append(buf, static_cast<std::size_t>(n));
    }
    request r;
    std::string head = data.substr(0, header_end);
    auto sp1 = head.find(' '), sp2 = head.find(' ', sp1 + 1);
    r.method = head.substr(0, sp1);
    r.path = head.substr(sp1 + 1, sp2 - sp1 - 1);
    r.headers = head.substr(head.find("\r\n") + 2);
    std::size_t length = 0;
    for (std::string key : {"Content-Length: ", "content-length: "})
      if (auto at = r.headers.find(key); at != std::string::npos) length = std::stoul(r.headers.substr(at + key.size()));
    r.body = data.substr(header_end + 4);
    while (r.body.size() < length) {
      auto n = ::recv(c, buf, sizeof buf, 0);
      if (n <= 0) return;
      r.body.append(buf, static_cast<std::size_t>(n));
    }
    {
      std::lock_guard lock(mutex_);
      seen_.push_back(r);
    }
    response a = handler_(r);
    std::string out = "HTTP/1.1 " + std::to_string(a.status) + " X\r\nContent-Type: application/json\r\nContent-Length: " +
                      std::to_string(a.body.size()) + "\r\nConnection: close\r\n\r\n" + a.body;
    ::send(c, out.data(), out.size(), MSG_NOSIGNAL);
  }

  std::function<response(const request&)> handler_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  mutable std::mutex mutex_;
  std::vector<request> seen_;
  std::thread thread_;
};

}  // namespace test_server
