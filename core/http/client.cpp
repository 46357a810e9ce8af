#include "core/http/client.hpp"

#include "core/http/url_codec.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url/parse.hpp>

#include <openssl/ssl.h>

#include <type_traits>

namespace hubd::core::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = net::ip::tcp;

std::optional<std::string_view> client_response::header(std::string_view name) const {
  return find_header(headers, name);
}

struct client::impl {
  net::io_context& ioc;
  ssl::context tls_verify{ssl::context::tls_client};
  ssl::context tls_no_verify{ssl::context::tls_client};

  explicit impl(net::io_context& c) : ioc(c) {
    tls_verify.set_default_verify_paths();
    tls_verify.set_verify_mode(ssl::verify_peer);
    tls_no_verify.set_verify_mode(ssl::verify_none);
  }
};

namespace {

struct target {
  bool tls = false;
  std::string host;      // for resolving (no brackets)
  std::string port;
  std::string host_header;
  std::string path;      // origin-form with query
};

std::optional<target> parse_target_url(std::string_view url) {
  auto u = boost::urls::parse_uri(url);
  if (!u || !u->has_authority()) return std::nullopt;
  target t;
  if (iequals(u->scheme(), "https")) t.tls = true;
  else if (!iequals(u->scheme(), "http")) return std::nullopt;
  t.host = std::string(u->host_address());
  if (t.host.empty()) return std::nullopt;
  t.port = u->has_port() && !u->port().empty() ? std::string(u->port()) : (t.tls ? "443" : "80");
  t.host_header = std::string(u->encoded_host_and_port());
  t.path = std::string(u->encoded_path());
  if (t.path.empty()) t.path = "/";
  if (u->has_query()) t.path += "?" + std::string(u->encoded_query());
  return t;
}

template <bool TLS>
class exchange : public std::enable_shared_from_this<exchange<TLS>> {
  using stream_type = std::conditional_t<TLS, beast::ssl_stream<beast::tcp_stream>, beast::tcp_stream>;

public:
  exchange(net::io_context& ioc, ssl::context* tls, target t, client_request req, client::callback cb)
      : strand_(net::make_strand(ioc)),
        resolver_(strand_),
        timer_(strand_),
        stream_(make_stream(tls)),
        target_(std::move(t)),
        req_(std::move(req)),
        cb_(std::move(cb)) {}

  void run() {
    net::post(strand_, [self = this->shared_from_this()] { self->start(); });
  }

private:
  stream_type make_stream(ssl::context* tls) {
    if constexpr (TLS) {
      return stream_type(strand_, *tls);
    } else {
      (void)tls;
      return stream_type(strand_);
    }
  }

  beast::tcp_stream& lowest() { return beast::get_lowest_layer(stream_); }

  void start() {
    timer_.expires_after(req_.timeout);
    timer_.async_wait([self = this->shared_from_this()](boost::system::error_code ec) {
      if (ec || self->done_) return;
      self->timed_out_ = true;
      self->resolver_.cancel();
      self->lowest().close();
    });
    resolver_.async_resolve(target_.host, target_.port,
                            [self = this->shared_from_this()](boost::system::error_code ec, tcp::resolver::results_type r) {
                              if (ec) return self->fail("cannot resolve " + self->target_.host, ec);
                              self->lowest().async_connect(
                                  r, [self](boost::system::error_code cec, const tcp::endpoint&) {
                                    if (cec) return self->fail("cannot connect to " + self->target_.host_header, cec);
                                    self->on_connect();
                                  });
                            });
  }

  void on_connect() {
    if constexpr (TLS) {
      if (!SSL_set_tlsext_host_name(stream_.native_handle(), target_.host.c_str()))
        return fail("cannot set TLS server name", {});
      if (req_.verify_tls) stream_.set_verify_callback(ssl::host_name_verification(target_.host));
      stream_.async_handshake(ssl::stream_base::client, [self = this->shared_from_this()](boost::system::error_code ec) {
        if (ec) return self->fail("TLS handshake with " + self->target_.host_header + " failed", ec);
        self->send();
      });
    } else {
      send();
    }
  }

  void send() {
    auto verb = bhttp::string_to_verb(req_.method);
    if (verb == bhttp::verb::unknown) return fail("unknown HTTP method " + req_.method, {});
    msg_.method(verb);
    msg_.target(target_.path);
    msg_.version(11);
    msg_.set(bhttp::field::host, target_.host_header);
    msg_.set(bhttp::field::user_agent, "hubd/" HUBD_VERSION);
    for (const auto& [k, v] : req_.headers) msg_.set(k, v);
    msg_.keep_alive(false);
    msg_.body() = std::move(req_.body);
    if (!msg_.body().empty() || verb == bhttp::verb::post || verb == bhttp::verb::put || verb == bhttp::verb::patch)
      msg_.prepare_payload();
    head_ = verb == bhttp::verb::head;
    bhttp::async_write(stream_, msg_, [self = this->shared_from_this()](boost::system::error_code ec, std::size_t) {
      if (ec) return self->fail("sending the request to " + self->target_.host_header + " failed", ec);
      self->receive();
    });
  }

  void receive() {
    parser_.body_limit(req_.max_body_bytes);
    parser_.header_limit(1024 * 1024);
    if (head_) parser_.skip(true);
    bhttp::async_read(stream_, buffer_, parser_, [self = this->shared_from_this()](boost::system::error_code ec, std::size_t) {
      if (ec) return self->fail("reading the answer from " + self->target_.host_header + " failed", ec);
      self->succeed();
    });
  }

  void succeed() {
    client_response r;
    auto& m = parser_.get();
    r.status = static_cast<int>(m.result_int());
    for (const auto& f : m) r.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    r.body = std::move(m.body());
    finish(std::move(r));
  }

  void fail(std::string what, boost::system::error_code ec) {
    client_response r;
    if (timed_out_) {
      r.error = "timed out after " + std::to_string(req_.timeout.count()) + " ms (" + what + ")";
    } else {
      r.error = ec ? what + ": " + ec.message() : what;
    }
    finish(std::move(r));
  }

  void finish(client_response&& r) {
    if (done_) return;
    done_ = true;
    timer_.cancel();
    boost::system::error_code ignored;
    lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
    lowest().close();
    auto cb = std::move(cb_);
    cb(std::move(r));
  }

  net::strand<net::io_context::executor_type> strand_;
  tcp::resolver resolver_;
  net::steady_timer timer_;
  stream_type stream_;
  target target_;
  client_request req_;
  client::callback cb_;
  beast::flat_buffer buffer_;
  bhttp::request<bhttp::string_body> msg_;
  bhttp::response_parser<bhttp::string_body> parser_;
  bool head_ = false;
  bool done_ = false;
  bool timed_out_ = false;
};

}  // namespace

client::client(io_pool& pool) : impl_(std::make_unique<impl>(pool.context())) {}

client::~client() = default;

void client::request(client_request req, callback cb) {
  auto t = parse_target_url(req.url);
  if (!t) {
    std::string error = "invalid URL " + req.url;
    net::post(impl_->ioc, [cb = std::move(cb), error = std::move(error)]() mutable {
      client_response r;
      r.error = std::move(error);
      cb(std::move(r));
    });
    return;
  }
  if (t->tls) {
    ssl::context* ctx = req.verify_tls ? &impl_->tls_verify : &impl_->tls_no_verify;
    std::make_shared<exchange<true>>(impl_->ioc, ctx, std::move(*t), std::move(req), std::move(cb))->run();
  } else {
    std::make_shared<exchange<false>>(impl_->ioc, nullptr, std::move(*t), std::move(req), std::move(cb))->run();
  }
}

void client::request(std::string_view method, std::string_view url, header_list headers, std::string body,
                     std::chrono::milliseconds timeout, callback cb) {
  client_request req;
  req.method = std::string(method);
  req.url = std::string(url);
  req.headers = std::move(headers);
  req.body = std::move(body);
  req.timeout = timeout;
  request(std::move(req), std::move(cb));
}

}  // namespace hubd::core::http
