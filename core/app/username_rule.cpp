#include "core/app/username_rule.hpp"

#include "core/model/plugin_views.hpp"
#include "core/names/username.hpp"

#include <spdlog/spdlog.h>

#include <future>
#include <limits>
#include <regex>
#include <set>

namespace hubd::core::app {

username_rule make_username_rule(const config& cfg, std::shared_ptr<plugins::authenticator_adapter> authenticator) {
  const auto text = cfg.get("Authenticator", "username_pattern").get<std::string>();
  std::optional<std::regex> pattern;
  if (!text.empty()) pattern.emplace(text, std::regex::ECMAScript);  // the loader checked it compiles
  return [authenticator = std::move(authenticator), pattern, text](std::string_view name) -> std::optional<std::string> {
    if (auto bad = authenticator->validate_username(name)) return bad;
    // Names from a login or the API have passed it already; names in the database may predate it.
    if (auto normal = names::normalize_username(name); !normal.ok()) return normal.error;
    if (pattern && !std::regex_search(name.begin(), name.end(), *pattern, std::regex_constants::match_continuous))
      return "username does not match Authenticator.username_pattern " + text;
    return std::nullopt;
  };
}

namespace {

// A user stored before names were normalised (ÉLISE, a decomposed rené) is valid but no login or
// API call reaches it any more: they all arrive normalised. It is named, never renamed: its servers'
// URLs, OAuth clients and tokens carry the old name, and when the normal name exists too, which
// account is the person's is the operator's call (PATCH /hub/api/users/OLD {"name": NEW} renames).
void warn_unnormalised(model::hub_model& model, const std::vector<model::user_ptr>& users) {
  for (const auto& u : users) {
    auto normal = names::normalize_username(u->name);
    if (!normal.ok() || normal.name == u->name) continue;  // invalid names: the rule's pass below
    const bool taken = model.find_user(normal.name) != nullptr;
    spdlog::warn("users: {} in the database is not a normalised name (logins and the API now give {}{}); kept as it is: "
                 "rename it or delete it",
                 u->name, normal.name, taken ? ", which is another user" : "");
  }
}

}  // namespace

void check_existing_users(const config& cfg, model::hub_model& model, const username_rule& rule,
                          plugins::authenticator_adapter& authenticator) {
  std::set<std::string, std::less<>> blocked;
  for (const auto& n : cfg.get("Authenticator", "blocked_users")) blocked.insert(n.get<std::string>());
  const bool remove = cfg.get("Authenticator", "delete_invalid_users").get<bool>();
  const bool has_add_user = authenticator.implements("add_user");
  std::vector<std::string> kept;
  const auto users = model.list_users(0, std::numeric_limits<std::size_t>::max());
  warn_unnormalised(model, users);
  for (const auto& u : users) {
    if (blocked.count(u->name)) continue;  // as JupyterHub: blocked users are not offered to add_user
    auto why = rule(u->name);
    if (!why && has_add_user) {
      std::promise<plugins::op_result> answer;
      auto result = answer.get_future();
      authenticator.add_user({{"user", model::plugin_user_view(model, u->name)}},
                             [&answer](plugins::op_result r) { answer.set_value(std::move(r)); });
      auto r = result.get();
      if (!r.ok()) why = "the authenticator's add_user refused it: " + (r.message.empty() ? std::string(plugins::to_string(r.status)) : r.message);
    }
    if (!why) continue;
    if (!remove) {
      spdlog::warn("users: {} in the database is not a valid user: {}", u->name, *why);
      kept.push_back(u->name);
      continue;
    }
    spdlog::warn("users: deleting invalid user {} from the database: {}", u->name, *why);
    auto st = model.wait([&](auto done) { return model.delete_user(u->name, done); });
    if (!st) spdlog::error("users: deleting invalid user {} failed: {}", u->name, st.err().message);
  }
  if (!kept.empty())
    spdlog::warn("users: {} invalid user(s) kept; set Authenticator.delete_invalid_users = true to delete users that no "
                 "longer pass the authenticator's validation at start-up",
                 kept.size());
}

}  // namespace hubd::core::app
