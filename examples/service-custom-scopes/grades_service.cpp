// A grades service for hubd (or JupyterHub): people reach it through the hub's OAuth, or with a hub
// token in the Authorization header, and what they may do is decided by *custom scopes* defined in
// the hub's config:
//
//   custom:grades:read    read grades    (custom:grades:read!user=NAME: only NAME's)
//   custom:grades:write   set grades     (custom:grades:write!user=NAME: only NAME's)
//
// The hub enforces nothing for custom scopes: this service asks the hub who the caller is
// (GET $JUPYTERHUB_API_URL/user with the caller's token) and reads the `scopes` list of the answer.
// Everything else comes from the environment the hub gives a managed service (JUPYTERHUB_*).
//
// Routes, under $JUPYTERHUB_SERVICE_PREFIX (for example /services/grades/):
//   GET  ./                  who you are, your scopes and what they allow (browsers: OAuth login first)
//   GET  ./oauth_callback    the end of the OAuth flow
//   GET  ./grades/NAME       NAME's grade: needs custom:grades:read (or ...!user=NAME)
//   POST ./grades/NAME       body {"grade": "A"}: needs custom:grades:write (or ...!user=NAME).
//                            With the cookie, the request must carry X-Requested-With (no cross-site forms)
//
// Single-threaded (one io_context, C++20 coroutines): the grade book needs no lock. Every network
// wait has a deadline.
#include <boost/asio.hpp>
#include <boost/beast.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <map>
#include <optional>
#include <random>
#include <string>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::awaitable;
using asio::use_awaitable;
using asio::ip::tcp;
using json = nlohmann::json;
using namespace std::chrono_literals;

namespace {

using request = http::request<http::string_body>;
using response = http::response<http::string_body>;

// ---- settings from the hub's environment ---------------------------------------------------------

struct url_parts {
  std::string host, port, path;
};

// Only http:// on loopback is expected here (the hub and its managed services share the machine).
std::optional<url_parts> parse_http_url(const std::string& url) {
  const std::string scheme = "http://";
  if (url.rfind(scheme, 0) != 0) return std::nullopt;
  auto rest = url.substr(scheme.size());
  auto slash = rest.find('/');
  std::string hostport = rest.substr(0, slash);
  url_parts u;
  u.path = slash == std::string::npos ? "/" : rest.substr(slash);
  auto colon = hostport.rfind(':');
  if (!hostport.empty() && hostport.front() == '[') {  // [::1]:8081
    auto close = hostport.find(']');
    if (close == std::string::npos) return std::nullopt;
    u.host = hostport.substr(1, close - 1);
    u.port = close + 1 < hostport.size() && hostport[close + 1] == ':' ? hostport.substr(close + 2) : "80";
  } else if (colon != std::string::npos) {
    u.host = hostport.substr(0, colon);
    u.port = hostport.substr(colon + 1);
  } else {
    u.host = hostport;
    u.port = "80";
  }
  if (u.host.empty() || u.port.empty()) return std::nullopt;
  return u;
}

struct settings {
  url_parts api;              // JUPYTERHUB_API_URL
  std::string api_token;      // JUPYTERHUB_API_TOKEN: also the OAuth client secret
  std::string client_id;      // JUPYTERHUB_CLIENT_ID: also the cookie name
  std::string prefix;         // JUPYTERHUB_SERVICE_PREFIX
  url_parts bind;             // JUPYTERHUB_SERVICE_URL
  std::string callback_url;   // JUPYTERHUB_OAUTH_CALLBACK_URL: must equal the client's redirect URI
  std::string authorize_url;  // JUPYTERHUB_HOST + JUPYTERHUB_BASE_URL + hub/api/oauth2/authorize
  std::string name;           // JUPYTERHUB_SERVICE_NAME
};

std::string env_or(const char* key, const std::string& fallback = {}) {
  const char* v = std::getenv(key);
  return v && *v ? v : fallback;
}

settings settings_from_env() {
  settings s;
  auto need = [](const char* key) {
    auto v = env_or(key);
    if (v.empty()) throw std::runtime_error(std::string(key) + " is not set: run me as a hub service");
    return v;
  };
  auto api = parse_http_url(need("JUPYTERHUB_API_URL"));
  auto bind = parse_http_url(need("JUPYTERHUB_SERVICE_URL"));
  if (!api) throw std::runtime_error("JUPYTERHUB_API_URL must be an http:// URL");
  if (!bind) throw std::runtime_error("JUPYTERHUB_SERVICE_URL must be an http:// URL");
  s.api = *api;
  if (s.api.path.empty() || s.api.path.back() != '/') s.api.path += '/';
  s.bind = *bind;
  s.api_token = need("JUPYTERHUB_API_TOKEN");
  s.client_id = need("JUPYTERHUB_CLIENT_ID");
  s.name = env_or("JUPYTERHUB_SERVICE_NAME", "grades");
  s.prefix = env_or("JUPYTERHUB_SERVICE_PREFIX", "/services/" + s.name + "/");
  s.callback_url = env_or("JUPYTERHUB_OAUTH_CALLBACK_URL", s.prefix + "oauth_callback");
  s.authorize_url = env_or("JUPYTERHUB_HOST") + env_or("JUPYTERHUB_BASE_URL", "/") + "hub/api/oauth2/authorize";
  return s;
}

// ---- small helpers -------------------------------------------------------------------------------

std::string url_encode(const std::string& in) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : in) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out;
}

std::string url_decode(std::string_view in) {
  std::string out;
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%' && i + 2 < in.size() && std::isxdigit(static_cast<unsigned char>(in[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(in[i + 2]))) {
      out.push_back(static_cast<char>(std::stoi(std::string(in.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(in[i] == '+' ? ' ' : in[i]);
    }
  }
  return out;
}

std::map<std::string, std::string> parse_query(std::string_view q) {
  std::map<std::string, std::string> out;
  while (!q.empty()) {
    auto amp = q.find('&');
    auto pair = q.substr(0, amp);
    auto eq = pair.find('=');
    out[url_decode(pair.substr(0, eq))] = eq == std::string_view::npos ? "" : url_decode(pair.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    q.remove_prefix(amp + 1);
  }
  return out;
}

std::optional<std::string> cookie(const request& req, const std::string& name) {
  auto it = req.find(http::field::cookie);
  if (it == req.end()) return std::nullopt;
  std::string_view all(it->value().data(), it->value().size());
  while (!all.empty()) {
    auto semi = all.find(';');
    auto item = all.substr(0, semi);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    auto eq = item.find('=');
    if (eq != std::string_view::npos && item.substr(0, eq) == name) return std::string(item.substr(eq + 1));
    if (semi == std::string_view::npos) break;
    all.remove_prefix(semi + 1);
  }
  return std::nullopt;
}

std::string random_hex(std::size_t bytes) {
  static std::random_device rd;  // the kernel's CSPRNG on Linux
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < bytes; ++i) {
    unsigned v = rd() & 0xff;
    out.push_back(hex[v >> 4]);
    out.push_back(hex[v & 15]);
  }
  return out;
}

response make_response(const request& req, http::status status, json body) {
  response res{status, req.version()};
  res.set(http::field::content_type, "application/json");
  res.set(http::field::cache_control, "no-store");
  res.body() = body.dump();
  return res;
}

response error(const request& req, http::status status, const std::string& message) {
  return make_response(req, status, {{"status", static_cast<int>(status)}, {"message", message}});
}

// ---- scopes --------------------------------------------------------------------------------------

// The caller may do `scope` on `student`: the unfiltered scope, or the scope filtered to that user.
// Group filters (`!group=`) cannot be resolved here (no database), exactly like HubAuth's check_scopes.
bool allows(const json& scopes, const std::string& scope, const std::string& student) {
  for (const auto& s : scopes) {
    if (!s.is_string()) continue;
    const auto& v = s.get_ref<const std::string&>();
    if (v == scope || v == scope + "!user=" + student) return true;
  }
  return false;
}

bool allows_everyone(const json& scopes, const std::string& scope) {
  for (const auto& s : scopes)
    if (s == scope) return true;
  return false;
}

bool has_access(const json& scopes, const std::string& service) {
  for (const auto& s : scopes)
    if (s == "access:services" || s == "access:services!service=" + service) return true;
  return false;
}

// ---- the service ---------------------------------------------------------------------------------

class grades_service {
public:
  explicit grades_service(settings s) : s_(std::move(s)) {}

  awaitable<response> handle(const request& req) {
    std::string_view target(req.target().data(), req.target().size());
    auto qmark = target.find('?');
    std::string path(target.substr(0, qmark));
    auto query = parse_query(qmark == std::string_view::npos ? "" : target.substr(qmark + 1));
    if (path.rfind(s_.prefix, 0) != 0 && path + "/" != s_.prefix) co_return error(req, http::status::not_found, "not here");
    std::string rest = path.size() > s_.prefix.size() ? path.substr(s_.prefix.size()) : "";

    if (rest == "oauth_callback" && req.method() == http::verb::get) co_return co_await oauth_callback(req, query);

    // Who is calling: a token in the header (API clients) or our session cookie (browsers).
    std::optional<std::string> token;
    bool from_cookie = false;
    if (auto it = req.find(http::field::authorization); it != req.end()) {
      std::string h(it->value());
      for (const char* scheme : {"token ", "Token ", "bearer ", "Bearer "})
        if (h.rfind(scheme, 0) == 0) token = h.substr(std::strlen(scheme));
      if (!token) co_return error(req, http::status::forbidden, "use 'Authorization: token <hub token>'");
    } else if (auto sid = cookie(req, s_.client_id); sid && sessions_.count(*sid)) {
      token = sessions_[*sid];
      from_cookie = true;
    }
    if (!token) {
      if (req.method() == http::verb::get && rest.empty()) co_return start_oauth(req, path);
      co_return error(req, http::status::forbidden, "log in first: open " + s_.prefix + " in a browser, or send a hub token");
    }
    auto model = co_await identify(*token);
    if (!model) {
      if (from_cookie) {  // the hub revoked it (logout): log in again
        if (auto sid = cookie(req, s_.client_id)) sessions_.erase(*sid);
        if (req.method() == http::verb::get && rest.empty()) co_return start_oauth(req, path);
      }
      co_return error(req, http::status::forbidden, "the hub does not know this token");
    }
    const json scopes = model->value("scopes", json::array());
    const std::string who = model->value("name", "");
    if (!has_access(scopes, s_.name))
      co_return error(req, http::status::forbidden, who + " may not use this service (needs access:services!service=" + s_.name + ")");

    if (rest.empty() && req.method() == http::verb::get) {
      json can = {{"read own grade", allows(scopes, "custom:grades:read", who)},
                  {"read all grades", allows_everyone(scopes, "custom:grades:read")},
                  {"write all grades", allows_everyone(scopes, "custom:grades:write")}};
      co_return make_response(req, http::status::ok,
                              {{"name", who}, {"kind", model->value("kind", "user")}, {"scopes", scopes}, {"can", can}});
    }
    if (rest.rfind("grades/", 0) == 0 && rest.size() > 7) {
      std::string student = url_decode(rest.substr(7));
      if (req.method() == http::verb::get) {
        if (!allows(scopes, "custom:grades:read", student))
          co_return error(req, http::status::forbidden, who + " may not read the grade of " + student + " (needs custom:grades:read)");
        auto it = book_.find(student);
        if (it == book_.end()) co_return error(req, http::status::not_found, "no grade for " + student);
        co_return make_response(req, http::status::ok, {{"student", student}, {"grade", it->second}});
      }
      if (req.method() == http::verb::post) {
        if (from_cookie && req.find("X-Requested-With") == req.end())
          co_return error(req, http::status::forbidden, "cookie requests that change grades need an X-Requested-With header");
        if (!allows(scopes, "custom:grades:write", student))
          co_return error(req, http::status::forbidden, who + " may not set the grade of " + student + " (needs custom:grades:write)");
        auto body = json::parse(req.body(), nullptr, false);
        if (!body.is_object() || !body.contains("grade") || !body["grade"].is_string() || body["grade"].get<std::string>().empty())
          co_return error(req, http::status::bad_request, R"(the body must be {"grade": "<non-empty string>"})");
        book_[student] = body["grade"].get<std::string>();
        std::cout << who << " set the grade of " << student << " to " << book_[student] << std::endl;
        co_return make_response(req, http::status::ok, {{"student", student}, {"grade", book_[student]}});
      }
      co_return error(req, http::status::method_not_allowed, "GET or POST");
    }
    co_return error(req, http::status::not_found, "no such page: " + path);
  }

private:
  // Browsers without a session go to the hub's authorize endpoint; `state` comes back to the callback.
  response start_oauth(const request& req, const std::string& next) {
    std::string state = random_hex(16);
    states_[state] = next;
    if (states_.size() > 1000) states_.erase(states_.begin());  // bounded: abandoned logins
    response res{http::status::found, req.version()};
    res.set(http::field::location, s_.authorize_url + "?client_id=" + url_encode(s_.client_id) +
                                       "&redirect_uri=" + url_encode(s_.callback_url) +
                                       "&response_type=code&state=" + state);
    // The state is also tied to this browser, so a code cannot be injected from another one.
    res.set(http::field::set_cookie, s_.client_id + "-oauth-state=" + state + "; Path=" + s_.prefix +
                                         "; HttpOnly; SameSite=Lax; Max-Age=600");
    return res;
  }

  awaitable<response> oauth_callback(const request& req, const std::map<std::string, std::string>& query) {
    auto get = [&](const char* k) { auto it = query.find(k); return it == query.end() ? std::string() : it->second; };
    if (!get("error").empty()) co_return error(req, http::status::bad_request, "the hub said: " + get("error"));
    std::string state = get("state"), code = get("code");
    auto browser_state = cookie(req, s_.client_id + "-oauth-state");
    auto it = states_.find(state);
    if (code.empty() || state.empty() || !browser_state || *browser_state != state || it == states_.end())
      co_return error(req, http::status::forbidden, "OAuth state does not match: try logging in again");
    std::string next = it->second;
    states_.erase(it);
    std::string form = "client_id=" + url_encode(s_.client_id) + "&client_secret=" + url_encode(s_.api_token) +
                       "&grant_type=authorization_code&code=" + url_encode(code) +
                       "&redirect_uri=" + url_encode(s_.callback_url);
    auto r = co_await hub(http::verb::post, "oauth2/token", std::nullopt, form, "application/x-www-form-urlencoded");
    if (!r || r->result() != http::status::ok)
      co_return error(req, http::status::forbidden, "the hub refused the code" + (r ? ": " + r->body() : std::string()));
    auto answer = json::parse(r->body(), nullptr, false);
    if (!answer.is_object() || !answer.contains("access_token") || !answer["access_token"].is_string())
      co_return error(req, http::status::bad_gateway, "the hub's token answer has no access_token");
    std::string sid = random_hex(24);
    sessions_[sid] = answer["access_token"];
    response res{http::status::found, req.version()};
    res.set(http::field::location, next);
    res.insert(http::field::set_cookie, s_.client_id + "=" + sid + "; Path=" + s_.prefix + "; HttpOnly; SameSite=Lax");
    res.insert(http::field::set_cookie, s_.client_id + "-oauth-state=; Path=" + s_.prefix + "; Max-Age=0");
    co_return res;
  }

  // The caller's model from GET /hub/api/user, or nullopt when the hub answers 403 (unknown token).
  awaitable<std::optional<json>> identify(const std::string& token) {
    auto r = co_await hub(http::verb::get, "user", token, "", "");
    if (!r || r->result() != http::status::ok) co_return std::nullopt;
    auto model = json::parse(r->body(), nullptr, false);
    if (!model.is_object()) co_return std::nullopt;
    co_return model;
  }

  // One request to the hub API with a 10 s deadline; nullopt when the hub cannot be reached.
  awaitable<std::optional<response>> hub(http::verb verb, const std::string& path, std::optional<std::string> token,
                                         std::string body, std::string content_type) {
    try {
      auto ex = co_await asio::this_coro::executor;
      tcp::resolver resolver(ex);
      beast::tcp_stream stream(ex);
      stream.expires_after(10s);
      auto endpoints = co_await resolver.async_resolve(s_.api.host, s_.api.port, use_awaitable);
      co_await stream.async_connect(endpoints, use_awaitable);
      request req{verb, s_.api.path + path, 11};
      req.set(http::field::host, s_.api.host + ":" + s_.api.port);
      // The service's own token is only the client secret; API calls carry the caller's token.
      if (token) req.set(http::field::authorization, "token " + *token);
      if (!content_type.empty()) req.set(http::field::content_type, content_type);
      req.body() = std::move(body);
      req.prepare_payload();
      co_await http::async_write(stream, req, use_awaitable);
      beast::flat_buffer buffer;
      response res;
      co_await http::async_read(stream, buffer, res, use_awaitable);
      beast::error_code ec;
      stream.socket().shutdown(tcp::socket::shutdown_both, ec);
      co_return res;
    } catch (const std::exception& e) {
      std::cerr << "cannot reach the hub at " << s_.api.host << ":" << s_.api.port << ": " << e.what() << std::endl;
      co_return std::nullopt;
    }
  }

  settings s_;
  std::map<std::string, std::string> book_;      // student → grade (in memory: an example)
  std::map<std::string, std::string> sessions_;  // our cookie → the hub's OAuth access token
  std::map<std::string, std::string> states_;    // OAuth state → where to go afterwards
};

awaitable<void> serve(tcp::socket socket, grades_service& svc) {
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  try {
    for (;;) {
      stream.expires_after(30s);  // an idle or slow client is dropped
      request req;
      http::request_parser<http::string_body> parser;
      parser.body_limit(64 * 1024);
      co_await http::async_read(stream, buffer, parser, use_awaitable);
      req = parser.release();
      auto res = co_await svc.handle(req);
      res.keep_alive(req.keep_alive());
      res.prepare_payload();
      stream.expires_after(30s);
      co_await http::async_write(stream, res, use_awaitable);
      if (!res.keep_alive()) break;
    }
  } catch (const boost::system::system_error& e) {
    if (e.code() != http::error::end_of_stream && e.code() != beast::error::timeout && e.code() != asio::error::eof &&
        e.code() != asio::error::connection_reset)
      std::cerr << "connection: " << e.what() << std::endl;
  }
  beast::error_code ec;
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
}

awaitable<void> listen(tcp::acceptor& acceptor, grades_service& svc) {
  for (;;) {
    auto socket = co_await acceptor.async_accept(use_awaitable);
    asio::co_spawn(acceptor.get_executor(), serve(std::move(socket), svc), asio::detached);
  }
}

}  // namespace

int main() {
  try {
    auto s = settings_from_env();
    asio::io_context ioc{1};
    tcp::resolver resolver(ioc);
    auto where = *resolver.resolve(s.bind.host, s.bind.port).begin();
    tcp::acceptor acceptor(ioc, where.endpoint());
    std::cout << "grades service " << s.name << " listening on " << s.bind.host << ":" << s.bind.port << s.prefix
              << std::endl;
    grades_service svc(s);
    asio::signal_set signals(ioc, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code&, int) {
      std::cout << "grades service stopping" << std::endl;
      ioc.stop();
    });
    asio::co_spawn(ioc, listen(acceptor, svc), [](std::exception_ptr e) {
      if (e) std::rethrow_exception(e);
    });
    ioc.run();
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "grades service: " << e.what() << std::endl;
    return 1;
  }
}
