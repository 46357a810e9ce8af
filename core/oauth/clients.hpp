#pragma once
// The OAuth client registry: ids, redirect URIs and descriptions of the clients of
// user servers and services, and their registration in the model. The client secret is the
// server token or the service's api_token; the model stores only its digest.
#include "core/model/hub_model.hpp"
#include "core/rbac/expand.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hubd::core::oauth {

// "jupyterhub-user-<U>" or "jupyterhub-user-<U>-<S>", names percent-encoded and '-' in a name as
// %2D, so that no two servers share an id (model::server_client_id).
std::string server_client_id(std::string_view user, std::string_view server);
// "<base_url>user/<U>/[<S>/]oauth_callback" (relative, as without subdomains).
std::string server_redirect_uri(std::string_view base_url, std::string_view user, std::string_view server);
// "service-<name>" unless the service configures its own id.
std::string service_client_id(const model::service& s);
// The service's oauth_redirect_uri, or "<base_url>services/<name>/oauth_callback".
std::string service_redirect_uri(std::string_view base_url, const model::service& s);

// Who a client belongs to: a user server, a service, or (for anything else) the hub.
rbac::oauth_client_ref client_ref_of(const model::hub_model& m, std::string_view client_id);

// Registers (or replaces its own) client of a user server; the spawn layer calls it at each spawn with
// the new server token. `allowed_scopes` is Spawner.oauth_client_allowed_scopes (resolved).
model::result<model::oauth_client_ptr> register_server_client(model::hub_model& m, std::string_view base_url,
                                                              std::string_view user, std::string_view server,
                                                              std::string secret, std::vector<std::string> allowed_scopes,
                                                              model::completion done);

// Registers (or replaces its own) client of a service. nullopt-like error when the service gets no
// client (no url and no explicit OAuth setting): then nothing is done and `done` is not called. For
// both: an id another owner registered is a conflict error and stays as it is.
model::result<model::oauth_client_ptr> register_service_client(model::hub_model& m, std::string_view base_url,
                                                               const model::service& s, std::optional<std::string> secret,
                                                               model::completion done);

// As JupyterHub: a service gets a client only with a url or an explicit OAuth setting.
bool service_wants_client(const model::service& s);

}  // namespace hubd::core::oauth
