#include "core/http/server.hpp"

#include "core/http/access_log.hpp"
#include "core/http/body_stream.hpp"
#include "core/http/url_codec.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url/parse.hpp>

#include <spdlog/spdlog.h>

#include <atomic>
#include <charconv>
#include <mutex>
#include <type_traits>
#include <unordered_map>

namespace hubd::core::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = net::ip::tcp;

namespace {
constexpr auto drain_timeout = std::chrono::seconds(2);
constexpr std::size_t drain_limit = 1024 * 1024;

std::string peer_address(const tcp::socket& s) {
  boost::system::error_code ec;
  auto ep = s.remote_endpoint(ec);
  if (ec) return "unknown";
  auto a = ep.address();
  if (a.is_v6() && a.to_v6().is_v4_mapped()) return net::ip::make_address_v4(net::ip::v4_mapped, a.to_v6()).to_string();
  return a.to_string();
}

bool is_disconnect(const boost::system::error_code& ec) {
  return ec == bhttp::error::end_of_stream || ec == net::error::eof || ec == net::error::connection_reset ||
         ec == net::error::broken_pipe || ec == net::error::operation_aborted || ec == net::error::bad_descriptor ||
         ec == ssl::error::stream_truncated;
}
}  // namespace

class session_base {
public:
  virtual ~session_base() = default;
  virtual void shutdown() = 0;
};

struct server::impl : std::enable_shared_from_this<server::impl> {
  net::io_context& ioc;
  const router& rt;
  server_options opts;
  std::optional<ssl::context> tls;
  struct listener {
    listen_endpoint ep;
    std::unique_ptr<tcp::acceptor> acceptor;
    std::uint16_t port = 0;
  };
  std::vector<listener> listeners;
  std::atomic<std::size_t> active{0};
  std::atomic<bool> stopping{false};
  std::mutex mutex;
  std::unordered_map<session_base*, std::weak_ptr<session_base>> sessions;
  std::shared_ptr<const std::string> overload_text;  // canned 503, built once

  impl(net::io_context& c, const router& r, server_options o) : ioc(c), rt(r), opts(std::move(o)) {}

  void do_accept(std::size_t i);
  void on_accept(std::size_t i, boost::system::error_code ec, tcp::socket socket);
  void reject_overload(tcp::socket socket);
};

template <bool TLS>
class session : public session_base, public std::enable_shared_from_this<session<TLS>> {
  using stream_type = std::conditional_t<TLS, beast::ssl_stream<beast::tcp_stream>, beast::tcp_stream>;

public:
  session(std::shared_ptr<server::impl> state, tcp::socket&& socket)
      : state_(std::move(state)), remote_(peer_address(socket)), stream_(make_stream(std::move(socket))) {
    state_->active.fetch_add(1);
  }

  ~session() override {
    state_->active.fetch_sub(1);
    std::lock_guard lock(state_->mutex);
    state_->sessions.erase(this);
  }

  void run() {
    {
      std::lock_guard lock(state_->mutex);
      state_->sessions.emplace(this, this->weak_from_this());
    }
    net::dispatch(stream_.get_executor(), [self = this->shared_from_this()] { self->start(); });
  }

  void shutdown() override {
    net::post(stream_.get_executor(), [self = this->shared_from_this()] {
      self->stopping_ = true;
      if (self->reading_) self->lowest().close();  // idle or mid-request: nothing to finish
    });
  }

private:
  stream_type make_stream(tcp::socket&& socket) {
    if constexpr (TLS) {
      return stream_type(std::move(socket), *state_->tls);
    } else {
      return stream_type(std::move(socket));
    }
  }

  beast::tcp_stream& lowest() { return beast::get_lowest_layer(stream_); }

  void start() {
    if (state_->stopping) return lowest().close();
    if constexpr (TLS) {
      lowest().expires_after(state_->opts.request_timeout);
      reading_ = true;
      stream_.async_handshake(ssl::stream_base::server,
                              [self = this->shared_from_this()](boost::system::error_code ec) {
                                self->reading_ = false;
                                if (ec) {
                                  spdlog::debug("http: TLS handshake with {} failed: {}", self->remote_, ec.message());
                                  return self->lowest().close();
                                }
                                self->do_read();
                              });
    } else {
      do_read();
    }
  }

  void do_read() {
    if (stopping_) return close_now();
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(state_->opts.max_header_bytes));
    parser_->body_limit(state_->opts.max_body_bytes);
    lowest().expires_after(state_->opts.request_timeout);
    reading_ = true;
    bhttp::async_read_header(stream_, buffer_, *parser_,
                             beast::bind_front_handler(&session::on_read_header, this->shared_from_this()));
  }

  void on_read_header(boost::system::error_code ec, std::size_t) {
    if (ec) return on_read_error(ec);
    auto& req = parser_->get();
    if (!parser_->is_done() && beast::iequals(req[bhttp::field::expect], "100-continue")) {
      // curl waits for this before sending a body over 1 KiB
      static const std::string continue_line = "HTTP/1.1 100 Continue\r\n\r\n";
      net::async_write(stream_, net::buffer(continue_line),
                       [self = this->shared_from_this()](boost::system::error_code wec, std::size_t) {
                         if (wec) return self->close_now();
                         self->read_body();
                       });
      return;
    }
    read_body();
  }

  void read_body() {
    if (parser_->is_done()) return on_request();
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self = this->shared_from_this()](boost::system::error_code ec, std::size_t) {
                        if (ec) return self->on_read_error(ec);
                        self->on_request();
                      });
  }

  void on_read_error(boost::system::error_code ec) {
    reading_ = false;
    if (ec == beast::error::timeout) {
      spdlog::debug("http: dropped client {}: no complete request within {} ms", remote_,
                    state_->opts.request_timeout.count());
      return close_now();
    }
    if (is_disconnect(ec) || stopping_) return close_now();
    if (ec == bhttp::error::header_limit) return send_error(431, "Request header fields too large");
    if (ec == bhttp::error::body_limit)
      return send_error(413, "Request body exceeds the limit of " + std::to_string(state_->opts.max_body_bytes) +
                                 " bytes");
    send_error(400, "Malformed HTTP request");
  }

  void on_request() {
    reading_ = false;
    start_ = std::chrono::steady_clock::now();
    auto& msg = parser_->get();
    auto req = std::make_shared<request>();
    req->method = std::string(msg.method_string());
    req->target = std::string(msg.target());
    req->headers.reserve(8);
    for (const auto& f : msg) req->headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    req->body = std::move(msg.body());
    req->remote_addr = remote_;
    req->is_tls = TLS;
    keep_alive_ = msg.keep_alive();
    version_ = msg.version();
    head_ = msg.method() == bhttp::verb::head;
    current_ = req;
    lowest().expires_never();  // the handler may take its time; the connection waits without a timer
    if (!req->parse_target()) return send_error(400, "Malformed request target");
    state_->rt.dispatch(req, [self = this->shared_from_this()](response&& r) {
      // inline when the handler answered at once (we are on the strand), queued from other threads
      net::dispatch(self->stream_.get_executor(),
                    [self, r = std::move(r)]() mutable { self->write_response(std::move(r)); });
    });
  }

  void send_error(int status, std::string_view message) {
    if (!current_) {
      current_ = std::make_shared<request>();
      current_->method = "-";
      current_->target = "-";
      current_->remote_addr = remote_;
      if (parser_ && parser_->is_header_done()) {
        current_->method = std::string(parser_->get().method_string());
        current_->target = std::string(parser_->get().target());
        current_->path = current_->target.substr(0, current_->target.find('?'));
      }
      start_ = std::chrono::steady_clock::now();
      version_ = 11;
    }
    keep_alive_ = false;
    response r = error_response(status, message);
    state_->rt.add_standard_headers(*current_, r);
    write_response(std::move(r));
  }

  void write_response(response&& r) {
    if (r.stream) return write_stream(std::move(r));
    auto& res = res_.emplace();
    res.result(static_cast<unsigned>(r.status));
    res.version(version_);
    for (auto& [k, v] : r.headers) res.insert(k, v);
    bool no_body = r.status < 200 || r.status == 204 || r.status == 304;
    if (no_body) r.body.clear();
    std::string_view location;
    if (auto loc = r.header("location")) location = *loc;
    if (head_ && !no_body) {
      // HEAD answers the GET's headers, Content-Length included, without the body
      res.content_length(r.body.size());
    } else {
      res.body() = std::move(r.body);
      res.prepare_payload();
    }
    res.keep_alive(keep_alive_ && !stopping_);
    if (state_->opts.access_log && current_) {
      // logged when the answer is ready (as Tornado does), so shutdown racing the write loses no line
      double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start_).count();
      log_access(*current_, r.status, ms, location);
    }
    lowest().expires_after(state_->opts.write_timeout);
    bhttp::async_write(stream_, res, beast::bind_front_handler(&session::on_write, this->shared_from_this()));
  }

  void on_write(boost::system::error_code ec, std::size_t) {
    bool keep = res_->keep_alive();
    res_.reset();
    current_.reset();
    if (ec) return close_now();
    if (!keep) return close_gracefully();
    do_read();
  }

  // A streamed body: the header, then one chunk per pull until the stream closes. Between chunks the
  // connection waits without a timer (the producer bounds the stream, e.g. a spawn's start_timeout);
  // every write has the write timeout.
  void write_stream(response&& r) {
    stream_res_.emplace();
    auto& res = *stream_res_;
    res.result(static_cast<unsigned>(r.status));
    res.version(version_);
    for (auto& [k, v] : r.headers) res.insert(k, v);
    res.keep_alive(keep_alive_ && !stopping_);
    res.chunked(!head_);
    if (state_->opts.access_log && current_) {
      double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start_).count();
      log_access(*current_, r.status, ms);
    }
    body_ = std::move(r.stream);
    serializer_.emplace(res);
    lowest().expires_after(state_->opts.write_timeout);
    bhttp::async_write_header(stream_, *serializer_,
                              [self = this->shared_from_this()](boost::system::error_code ec, std::size_t) {
                                if (ec) return self->end_stream(ec);
                                if (self->head_) return self->end_stream({});
                                self->pull_chunk();
                              });
  }

  void pull_chunk() {
    lowest().expires_never();
    body_->next([self = this->shared_from_this()](std::optional<std::string> chunk) {
      net::dispatch(self->stream_.get_executor(), [self, chunk = std::move(chunk)]() mutable {
        self->write_chunk(std::move(chunk));
      });
    });
  }

  void write_chunk(std::optional<std::string> chunk) {
    lowest().expires_after(state_->opts.write_timeout);
    auto self = this->shared_from_this();
    if (!chunk) {
      net::async_write(stream_, bhttp::make_chunk_last(),
                       [self](boost::system::error_code ec, std::size_t) { self->end_stream(ec); });
      return;
    }
    chunk_ = std::move(*chunk);
    net::async_write(stream_, bhttp::make_chunk(net::buffer(chunk_)), [self](boost::system::error_code ec, std::size_t) {
      if (ec) return self->end_stream(ec);
      self->pull_chunk();
    });
  }

  void end_stream(boost::system::error_code ec) {
    bool keep = stream_res_ && stream_res_->keep_alive();
    if (ec && body_) body_->close();  // the client left: the producer may stop feeding us
    serializer_.reset();
    stream_res_.reset();
    body_.reset();
    chunk_.clear();
    current_.reset();
    if (ec) return close_now();
    if (!keep) return close_gracefully();
    do_read();
  }

  void close_now() {
    boost::system::error_code ec;
    lowest().socket().shutdown(tcp::socket::shutdown_both, ec);
    lowest().close();
  }

  // Half-close and read what the client still sends, so that our last answer is not lost to a
  // reset (a client still uploading a refused body would otherwise get RST instead of the 413).
  void close_gracefully() {
    if constexpr (TLS) {
      lowest().expires_after(drain_timeout);
      stream_.async_shutdown([self = this->shared_from_this()](boost::system::error_code) { self->close_now(); });
    } else {
      boost::system::error_code ec;
      lowest().socket().shutdown(tcp::socket::shutdown_send, ec);
      if (ec) return close_now();
      lowest().expires_after(drain_timeout);
      drained_ = 0;
      drain();
    }
  }

  void drain() {
    lowest().async_read_some(net::buffer(drain_buf_),
                             [self = this->shared_from_this()](boost::system::error_code ec, std::size_t n) {
                               self->drained_ += n;
                               if (ec || self->drained_ > drain_limit) return self->close_now();
                               self->drain();
                             });
  }

  std::shared_ptr<server::impl> state_;
  std::string remote_;
  stream_type stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::optional<bhttp::response<bhttp::string_body>> res_;
  // A streamed answer (write_stream): its header, serializer, source and the chunk being written.
  std::optional<bhttp::response<bhttp::empty_body>> stream_res_;
  std::optional<bhttp::response_serializer<bhttp::empty_body>> serializer_;
  std::shared_ptr<body_stream> body_;
  std::string chunk_;
  request_ptr current_;
  std::chrono::steady_clock::time_point start_;
  unsigned version_ = 11;
  bool keep_alive_ = true;
  bool head_ = false;
  bool reading_ = false;
  bool stopping_ = false;
  std::size_t drained_ = 0;
  std::array<char, 4096> drain_buf_{};
};

// Answers 503 to a connection over the cap without parsing it, then drains and closes.
class overload_reply : public std::enable_shared_from_this<overload_reply> {
public:
  overload_reply(tcp::socket&& s, std::shared_ptr<const std::string> reply) : stream_(std::move(s)), reply_(std::move(reply)) {}
  void run() {
    stream_.expires_after(drain_timeout);
    net::async_write(stream_, net::buffer(*reply_), [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
      boost::system::error_code ignored;
      if (ec) return self->stream_.close();
      self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
      self->drain();
    });
  }

private:
  void drain() {
    stream_.async_read_some(net::buffer(buf_), [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
      if (ec) return self->stream_.close();
      self->drain();
    });
  }
  beast::tcp_stream stream_;
  std::shared_ptr<const std::string> reply_;  // shared: the server may go away first
  std::array<char, 1024> buf_{};
};

void server::impl::do_accept(std::size_t i) {
  auto& l = listeners[i];
  l.acceptor->async_accept(net::make_strand(ioc),
                           [self = shared_from_this(), i](boost::system::error_code ec, tcp::socket socket) {
                             self->on_accept(i, ec, std::move(socket));
                           });
}

void server::impl::on_accept(std::size_t i, boost::system::error_code ec, tcp::socket socket) {
  if (stopping) return;
  if (ec) {
    if (ec == net::error::operation_aborted) return;
    // EMFILE and friends: keep accepting; the peer sees a closed connection
    spdlog::warn("http: accept failed on port {}: {}", listeners[i].port, ec.message());
  } else if (active.load() >= opts.max_connections) {
    if (listeners[i].ep.tls) {
      boost::system::error_code ignored;
      socket.close(ignored);
    } else {
      std::make_shared<overload_reply>(std::move(socket), overload_text)->run();
    }
    spdlog::warn("http: connection limit of {} reached; refusing a connection with 503", opts.max_connections);
  } else if (listeners[i].ep.tls) {
    std::make_shared<session<true>>(shared_from_this(), std::move(socket))->run();
  } else {
    std::make_shared<session<false>>(shared_from_this(), std::move(socket))->run();
  }
  do_accept(i);
}

std::optional<listen_endpoint> parse_bind_url(std::string_view url) {
  auto u = boost::urls::parse_uri(url);
  if (!u) return std::nullopt;
  listen_endpoint ep;
  std::string scheme = std::string(u->scheme());
  if (iequals(scheme, "https")) ep.tls = true;
  else if (!iequals(scheme, "http")) return std::nullopt;
  if (!u->has_authority()) return std::nullopt;
  ep.host = std::string(u->host_address());  // IPv6 without brackets
  if (u->has_port()) {
    std::string_view p = u->port();
    unsigned n = 0;
    auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), n);
    if (p.empty() || ec != std::errc() || end != p.data() + p.size() || n > 65535) return std::nullopt;
    ep.port = static_cast<std::uint16_t>(n);
  } else {
    ep.port = ep.tls ? 443 : 80;
  }
  return ep;
}

std::string bind_url_of(const listen_endpoint& ep) {
  const bool v6 = ep.host.find(':') != std::string::npos;
  return std::string(ep.tls ? "https://" : "http://") + (v6 ? "[" + ep.host + "]" : ep.host) + ":" +
         std::to_string(ep.port);
}

server::server(io_pool& pool, const router& r, server_options options)
    : impl_(std::make_shared<impl>(pool.context(), r, std::move(options))) {}

server::~server() { stop(); }

void server::start() {
  auto& s = *impl_;
  bool need_tls = false;
  for (const auto& ep : s.opts.endpoints) need_tls = need_tls || ep.tls;
  if (need_tls && !s.tls) {
    if (s.opts.tls_cert_file.empty() || s.opts.tls_key_file.empty())
      throw std::runtime_error("https endpoint configured without ssl_cert and ssl_key");
    s.tls.emplace(ssl::context::tls_server);
    s.tls->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                       ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
    boost::system::error_code ec;
    s.tls->use_certificate_chain_file(s.opts.tls_cert_file, ec);
    if (ec) throw std::runtime_error("cannot load TLS certificate " + s.opts.tls_cert_file + ": " + ec.message());
    s.tls->use_private_key_file(s.opts.tls_key_file, ssl::context::pem, ec);
    if (ec) throw std::runtime_error("cannot load TLS key " + s.opts.tls_key_file + ": " + ec.message());
  }
  {
    response r = error_response(503, "Too many connections");
    request dummy;
    s.rt.add_standard_headers(dummy, r);
    std::string head = "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: " +
                       std::to_string(r.body.size()) + "\r\n";
    for (const auto& [k, v] : r.headers) head += k + ": " + v + "\r\n";
    s.overload_text = std::make_shared<const std::string>(head + "\r\n" + r.body);
  }
  for (const auto& ep : s.opts.endpoints) {
    std::string where = (ep.tls ? "https://" : "http://") + (ep.host.empty() ? std::string("*") : ep.host) + ":" +
                        std::to_string(ep.port);
    boost::system::error_code ec;
    tcp::endpoint endpoint;
    if (ep.host.empty()) {
      endpoint = tcp::endpoint(tcp::v6(), ep.port);
    } else {
      auto addr = net::ip::make_address(ep.host, ec);
      if (ec) {
        tcp::resolver resolver(s.ioc);
        auto results = resolver.resolve(ep.host, std::to_string(ep.port), ec);
        if (ec || results.empty()) throw std::runtime_error("cannot resolve listen address " + where);
        endpoint = results.begin()->endpoint();
      } else {
        endpoint = tcp::endpoint(addr, ep.port);
      }
    }
    auto acceptor = std::make_unique<tcp::acceptor>(net::make_strand(s.ioc));
    auto open_and_bind = [&](const tcp::endpoint& e) {
      acceptor->open(e.protocol(), ec);
      if (ec) return;
      acceptor->set_option(net::socket_base::reuse_address(true), ec);
      if (e.protocol() == tcp::v6() && ep.host.empty()) acceptor->set_option(net::ip::v6_only(false), ec);
      ec = {};
      acceptor->bind(e, ec);
    };
    open_and_bind(endpoint);
    if (ec && ep.host.empty()) {  // no IPv6 on this machine: every IPv4 interface then
      acceptor = std::make_unique<tcp::acceptor>(net::make_strand(s.ioc));
      ec = {};
      open_and_bind(tcp::endpoint(tcp::v4(), ep.port));
    }
    if (ec) throw std::runtime_error("cannot listen on " + where + ": " + ec.message());
    acceptor->listen(net::socket_base::max_listen_connections, ec);
    if (ec) throw std::runtime_error("cannot listen on " + where + ": " + ec.message());
    std::uint16_t port = acceptor->local_endpoint().port();
    s.listeners.push_back({ep, std::move(acceptor), port});
    spdlog::info("http: listening on {}://{}:{}", ep.tls ? "https" : "http", ep.host.empty() ? "*" : ep.host, port);
  }
  for (std::size_t i = 0; i < s.listeners.size(); ++i) s.do_accept(i);
}

void server::stop() {
  auto& s = *impl_;
  if (s.stopping.exchange(true)) return;
  for (auto& l : s.listeners) {
    net::post(l.acceptor->get_executor(), [state = impl_, a = l.acceptor.get()] {
      boost::system::error_code ec;
      a->close(ec);
    });
  }
  std::vector<std::shared_ptr<session_base>> live;
  {
    std::lock_guard lock(s.mutex);
    for (auto& [p, w] : s.sessions) {
      if (auto sp = w.lock()) live.push_back(std::move(sp));
    }
  }
  for (auto& sp : live) sp->shutdown();
}

std::vector<std::uint16_t> server::ports() const {
  std::vector<std::uint16_t> out;
  for (const auto& l : impl_->listeners) out.push_back(l.port);
  return out;
}

std::size_t server::connections() const { return impl_->active.load(); }

}  // namespace hubd::core::http
