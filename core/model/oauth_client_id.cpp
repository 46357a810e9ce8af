#include "core/model/oauth_client_id.hpp"

#include "core/http/url_codec.hpp"

namespace hubd::core::model {
namespace {

constexpr std::string_view prefix = "jupyterhub-user-";

std::string encode_part(std::string_view name) {
  std::string out;
  for (char c : http::percent_encode(name)) {
    if (c == '-') out += "%2D";
    else out.push_back(c);
  }
  return out;
}

}  // namespace

std::string server_client_id(std::string_view user, std::string_view server) {
  std::string id = std::string(prefix) + encode_part(user);
  if (!server.empty()) id += "-" + encode_part(server);
  return id;
}

std::optional<std::pair<std::string, std::string>> parse_server_client_id(std::string_view id) {
  if (id.substr(0, prefix.size()) != prefix) return std::nullopt;
  auto rest = id.substr(prefix.size());
  auto dash = rest.find('-');
  std::string user, server;
  if (!http::percent_decode(rest.substr(0, dash), user, false) || user.empty()) return std::nullopt;
  if (dash != std::string_view::npos && !http::percent_decode(rest.substr(dash + 1), server, false)) return std::nullopt;
  if (dash != std::string_view::npos && server.empty()) return std::nullopt;
  // One spelling per server: "%61lice" or a second '-' is not a client id hubd hands out.
  if (server_client_id(user, server) != id) return std::nullopt;
  return std::pair{std::move(user), std::move(server)};
}

}  // namespace hubd::core::model
