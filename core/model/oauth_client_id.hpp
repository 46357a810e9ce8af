#pragma once
// The OAuth client id of a user server, both ways. Names may contain '-', so a plain
// "jupyterhub-user-<U>-<S>" would let user "cx" with server "y" and user "cx-y" share one client:
// here '-' inside a name is escaped as %2D, which leaves the one unescaped '-' after the prefix as the
// only separator. Names without '-' keep JupyterHub's ids ("jupyterhub-user-alice",
// "jupyterhub-user-alice-gpu").
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace hubd::core::model {

// "jupyterhub-user-<U>" or "jupyterhub-user-<U>-<S>": each name percent-encoded (Python's quote) and
// '-' as %2D.
std::string server_client_id(std::string_view user, std::string_view server);

// The (user, server) whose client id `id` is; nullopt for anything server_client_id does not
// produce (another prefix, more than one separator, a malformed escape, a name not re-encoding to
// the same id).
std::optional<std::pair<std::string, std::string>> parse_server_client_id(std::string_view id);

}  // namespace hubd::core::model
