#include "core/oauth/clients.hpp"

#include "core/http/url_codec.hpp"
#include "core/model/oauth_client_id.hpp"

namespace hubd::core::oauth {

std::string server_client_id(std::string_view user, std::string_view server) {
  return model::server_client_id(user, server);
}

// The server's prefix as the spawn env gives it (JUPYTERHUB_OAUTH_CALLBACK_URL): the names escaped
// with url_escape_path, so the redirect URI jupyterhub-singleuser sends matches exactly.
std::string server_redirect_uri(std::string_view base_url, std::string_view user, std::string_view server) {
  std::string uri(base_url);
  uri += "user/" + http::url_escape_path(user) + "/";
  if (!server.empty()) uri += http::url_escape_path(server) + "/";
  return uri + "oauth_callback";
}

std::string service_client_id(const model::service& s) {
  return s.oauth_client_id && !s.oauth_client_id->empty() ? *s.oauth_client_id : "service-" + s.name;
}

std::string service_redirect_uri(std::string_view base_url, const model::service& s) {
  if (s.oauth_redirect_uri && !s.oauth_redirect_uri->empty()) return *s.oauth_redirect_uri;
  return std::string(base_url) + "services/" + s.name + "/oauth_callback";
}

bool service_wants_client(const model::service& s) {
  return s.url || s.oauth_client_id || s.oauth_redirect_uri || s.oauth_no_confirm;
}

rbac::oauth_client_ref client_ref_of(const model::hub_model& m, std::string_view client_id) {
  for (const auto& s : m.list_services())
    if (service_wants_client(*s) && service_client_id(*s) == client_id) return rbac::oauth_client_ref::service(s->name);
  if (auto owner = model::parse_server_client_id(client_id)) {
    auto& [u, srv] = *owner;
    if (srv.empty() ? m.find_user(u) != nullptr : m.find_server(u, srv) != nullptr)
      return rbac::oauth_client_ref::server(u, srv);
  }
  return rbac::oauth_client_ref::hub();
}

model::result<model::oauth_client_ptr> register_server_client(model::hub_model& m, std::string_view base_url,
                                                              std::string_view user, std::string_view server,
                                                              std::string secret, std::vector<std::string> allowed_scopes,
                                                              model::completion done) {
  model::oauth_client c;
  c.identifier = server_client_id(user, server);
  std::string base_path = std::string(base_url) + "user/" + http::url_escape_path(user) + "/" +
                          (server.empty() ? "" : http::url_escape_path(server) + "/");
  c.description = "Server at " + base_path;
  c.redirect_uri = server_redirect_uri(base_url, user, server);
  c.owner = rbac::access_scope_string(rbac::oauth_client_ref::server(std::string(user), std::string(server)));
  allowed_scopes.push_back(*c.owner);
  c.allowed_scopes = std::move(allowed_scopes);
  return m.put_oauth_client(std::move(c), std::move(secret), std::move(done));
}

model::result<model::oauth_client_ptr> register_service_client(model::hub_model& m, std::string_view base_url,
                                                               const model::service& s, std::optional<std::string> secret,
                                                               model::completion done) {
  model::oauth_client c;
  c.identifier = service_client_id(s);
  c.description = "JupyterHub service " + s.name;
  c.redirect_uri = service_redirect_uri(base_url, s);
  c.owner = rbac::access_scope_string(rbac::oauth_client_ref::service(s.name));
  c.allowed_scopes = s.oauth_allowed_scopes;
  c.allowed_scopes.push_back(*c.owner);
  return m.put_oauth_client(std::move(c), std::move(secret), std::move(done));
}

}  // namespace hubd::core::oauth
