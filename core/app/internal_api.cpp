#include "core/app/internal_api.hpp"

#include "core/http/access_log.hpp"
#include "core/http/body_stream.hpp"
#include "core/http/io_pool.hpp"
#include "core/http/router.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include <chrono>

namespace hubd::core::app {
namespace {

nlohmann::json error_body(int status, const std::string& message) {
  return {{"status", status}, {"message", message}};
}

}  // namespace

std::vector<plugin_principal> plugin_principals(const nlohmann::json& plugin_tables) {
  std::vector<plugin_principal> out;
  if (!plugin_tables.is_object()) return out;
  for (const auto& [name, table] : plugin_tables.items()) {
    if (!table.is_object() || !table.value("enabled", true)) continue;
    auto roles = table.find("roles");
    if (roles == table.end() || !roles->is_array() || roles->empty()) continue;
    plugin_principal pp;
    pp.name = name;
    for (const auto& r : *roles) pp.roles.push_back(r.get<std::string>());
    out.push_back(std::move(pp));
  }
  return out;
}

internal_api::internal_api(http::router& router, http::io_pool& io, std::string base_url,
                           const std::vector<plugin_principal>& principals)
    : router_(router), io_(io), api_prefix_(std::move(base_url) + "hub/api") {
  for (const auto& pp : principals) principals_.insert(pp.name);
}

namespace {

template <class F>
void drain(std::shared_ptr<http::body_stream> stream, std::shared_ptr<std::string> body, F finish) {
  auto source = stream;
  source->next([stream = std::move(stream), body, finish = std::move(finish)](std::optional<std::string> chunk) mutable {
    if (!chunk) return finish(*body);
    body->append(*chunk);
    drain(std::move(stream), body, std::move(finish));
  });
}

}  // namespace

void internal_api::handle(plugins::api_request request, plugins::api_responder respond) const {
  if (!principals_.contains(request.plugin_name)) {
    respond(403, error_body(403, "plugin '" + request.plugin_name +
                                     "' has no principal for the internal API: give it roles with "
                                     "[plugins." + request.plugin_name + "] roles = [...]"));
    return;
  }
  http::header_list headers{{"Accept", "application/json"}};
  std::string body;
  if (!request.body.is_null()) {
    headers.emplace_back("Content-Type", "application/json");
    body = request.body.dump();
  }
  auto req = http::make_request(request.method, api_prefix_ + request.path, std::move(body), std::move(headers));
  if (!req) {
    respond(400, error_body(400, "malformed internal API path: " + request.path));
    return;
  }
  // Marks the access-log line so operators can tell plugin calls from network ones.
  req->remote_addr = "internal";
  req->plugin_principal = request.plugin_name;
  boost::asio::post(io_.context(), [this, req, respond = std::move(respond)]() mutable {
    const auto started = std::chrono::steady_clock::now();
    router_.dispatch(req, [req, started, respond = std::move(respond)](http::response&& r) mutable {
      // Same access-log line as a network request, with the peer "internal".
      const auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
      http::log_access(*req, r.status, ms, r.header("Location").value_or(std::string_view{}));
      auto finish = [status = r.status, respond = std::move(respond)](const std::string& body) {
        nlohmann::json parsed;
        if (!body.empty()) {
          parsed = nlohmann::json::parse(body, nullptr, false);
          if (parsed.is_discarded()) parsed = nlohmann::json(body);  // non-JSON bodies arrive as a string
        }
        respond(status, std::move(parsed));
      };
      if (!r.stream) return finish(r.body);
      // A streamed body (an event stream) reaches a plugin whole, once the stream ends.
      drain(std::move(r.stream), std::make_shared<std::string>(), std::move(finish));
    });
  });
}

}  // namespace hubd::core::app
