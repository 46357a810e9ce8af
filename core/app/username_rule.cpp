#include "core/app/username_rule.hpp"

#include "core/model/plugin_views.hpp"

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
    auto first = name.find_first_not_of(" \t\r\n\f\v");
    auto last = name.find_last_not_of(" \t\r\n\f\v");
    if (first != 0 || last + 1 != name.size()) return "username must not start or end with whitespace";
    if (pattern && !std::regex_search(name.begin(), name.end(), *pattern, std::regex_constants::match_continuous))
      return "username does not match Authenticator.username_pattern " + text;
    return std::nullopt;
  };
}

void check_existing_users(const config& cfg, model::hub_model& model, const username_rule& rule,
                          plugins::authenticator_adapter& authenticator) {
  std::set<std::string, std::less<>> blocked;
  for (const auto& n : cfg.get("Authenticator", "blocked_users")) blocked.insert(n.get<std::string>());
  const bool remove = cfg.get("Authenticator", "delete_invalid_users").get<bool>();
  const bool has_add_user = authenticator.implements("add_user");
  std::vector<std::string> kept;
  for (const auto& u : model.list_users(0, std::numeric_limits<std::size_t>::max())) {
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
