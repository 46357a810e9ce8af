#include "core/web/login_pipeline.hpp"

#include "core/web/managed_roles.hpp"

#include <spdlog/spdlog.h>

#include <memory>
#include <mutex>

namespace hubd::core::web {
namespace {

constexpr const char* invalid_login = "Invalid username or password";

// A refusal message from the authenticator is shown on the login page (the template escapes it);
// a plugin cannot flood the page with it.
constexpr std::size_t max_refusal_message = 200;
// The attempted name in log lines: anyone can type anything into the form.
constexpr std::size_t max_logged_name = 64;

// Cuts at a UTF-8 character boundary so the page never shows half a character.
std::string cap_utf8(std::string s, std::size_t max) {
  if (s.size() <= max) return s;
  std::size_t cut = max;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  s.resize(cut);
  return s + "…";
}

}  // namespace

std::string loggable_name(std::string_view raw) {
  if (raw.empty()) return "(unknown)";
  std::string out;
  for (std::size_t i = 0; i < raw.size() && i < max_logged_name; ++i) {
    auto c = static_cast<unsigned char>(raw[i]);
    if (c < 0x20 || c == 0x7f || c == '\\') {
      static constexpr char hex[] = "0123456789abcdef";
      out += c == '\\' ? std::string("\\\\") : std::string("\\x") + hex[c >> 4] + hex[c & 15];
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  if (raw.size() > max_logged_name) out += "...";
  return out;
}

namespace {

struct login_run : std::enable_shared_from_this<login_run> {
  web_context& ctx;
  login_callback done;
  nlohmann::json auth;
  std::string name;
  bool admin = false;
  std::size_t next_hook = 0;
  login_session session = login_session::create;

  login_run(web_context& c, login_callback d) : ctx(c), done(std::move(d)) {}

  std::string attempted;  // the name as typed, for the refusal log line before normalisation

  void fail(int status, std::string message, std::string_view why) {
    spdlog::warn("login: refused for {}: {}", loggable_name(name.empty() ? attempted : name), why);
    login_result r;
    r.status = status;
    r.message = std::move(message);
    done(std::move(r));
  }

  // The plugin answered "not implemented" or had no opinion: JupyterHub's default applies.
  static std::optional<bool> opinion(const plugins::op_result& r) {
    if (!r.ok() || !r.value.is_boolean()) return std::nullopt;
    return r.value.get<bool>();
  }

  void start(nlohmann::json auth_model) {
    if (auth_model.is_string()) auth_model = nlohmann::json{{"name", auth_model}};
    if (!auth_model.is_object() || !auth_model.contains("name") || !auth_model["name"].is_string())
      return fail(403, invalid_login, "the authenticator returned no name");
    auth = std::move(auth_model);
    std::string raw = auth["name"].get<std::string>();
    auto normal = ctx.authenticator.normalize_username ? ctx.authenticator.normalize_username(raw) : names::normalize_username(raw);
    attempted = raw;
    // The person sees why: the rule is public and says nothing about the credentials.
    if (!normal.ok()) return fail(403, "Invalid username: " + normal.error, normal.error);
    name = std::move(normal.name);
    if (auto it = ctx.options.username_map.find(name); it != ctx.options.username_map.end()) name = it->second;
    if (auto bad = validate(name)) return fail(403, invalid_login, "invalid username: " + *bad);
    auth["name"] = name;
    // As JupyterHub: with manage_groups the auth model must say something about groups; null
    // means "leave memberships as they are", a missing key means the authenticator does not
    // support manage_groups, which is a configuration mistake and refuses the login.
    if (ctx.options.manage_groups && !auth.contains("groups"))
      return fail(403,
                  "Login failed: Authenticator.manage_groups is enabled, but the authenticator (" + ctx.authenticator.name +
                      ") returned no groups. Ask the hub's administrator.",
                  "manage_groups is on and the auth model has no 'groups' (null leaves memberships unchanged)");
    check_blocked();
  }

  std::optional<std::string> validate(const std::string& n) const {
    if (ctx.authenticator.validate_username) return ctx.authenticator.validate_username(n);
    if (n.empty()) return "empty";
    if (n.find('/') != std::string::npos) return "contains '/'";
    return std::nullopt;
  }

  void check_blocked() {
    if (ctx.options.blocked_users.count(name)) return fail(403, invalid_login, "in blocked_users");
    if (!ctx.authenticator.check_blocked) return check_allowed();
    auto self = shared_from_this();
    ctx.authenticator.check_blocked(nlohmann::json{{"name", name}, {"auth_model", auth}}, [self](plugins::op_result r) {
      auto blocked = opinion(r);
      if (!r.ok() && r.status != plugins::op_status::failed) return self->fail(403, invalid_login, "check_blocked " + r.message);
      if (blocked.value_or(false)) return self->fail(403, invalid_login, "blocked by the authenticator");
      self->check_allowed();
    });
  }

  // Whom the hub's own allow configuration admits: JupyterHub checks allow_all first, and its
  // authenticators' check_allowed falls back to allowed_users (which holds admin_users and, with
  // allow_existing_users, the users in the database).
  bool listed() const {
    const auto& o = ctx.options;
    if (o.allow_all || o.allowed_users.count(name) || o.admin_users.count(name)) return true;
    return o.allow_existing_users && ctx.model.find_user(name);
  }

  // JupyterHub 5's default rule; an empty allow configuration leaves the decision to the
  // authenticator (it has already accepted the credentials).
  bool default_allowed() const {
    const auto& o = ctx.options;
    return listed() || (o.allowed_users.empty() && !o.allow_existing_users);
  }

  void check_allowed() {
    if (!ctx.authenticator.check_allowed) {
      if (!default_allowed()) return fail(403, invalid_login, "not in allowed_users");
      return check_admin();
    }
    auto self = shared_from_this();
    ctx.authenticator.check_allowed(nlohmann::json{{"name", name}, {"auth_model", auth}}, [self](plugins::op_result r) {
      // true admits. false, or a refusal (its message is shown), means the authenticator's own rule
      // (allowed_groups) does not admit the user: the hub's allow configuration still may. null is no
      // opinion (no such rule configured): the default rule decides. Anything else fails closed.
      if (r.ok() && r.value.is_null()) {
        if (!self->default_allowed()) return self->fail(403, invalid_login, "not in allowed_users");
        return self->check_admin();
      }
      if (r.ok() && r.value.is_boolean() && r.value.get<bool>()) return self->check_admin();
      if (self->listed()) return self->check_admin();
      if (r.status == plugins::op_status::denied) {
        bool own = r.value.is_object() && r.value.contains("message") && r.value["message"].is_string() &&
                   !r.value["message"].get<std::string>().empty();
        return self->fail(403, own ? cap_utf8(r.value["message"].get<std::string>(), max_refusal_message) : invalid_login,
                          "not allowed by the authenticator");
      }
      if (!r.ok()) return self->fail(403, invalid_login, "check_allowed " + std::string(plugins::to_string(r.status)) + ": " + r.message);
      self->fail(403, invalid_login, "not allowed by the authenticator");
    });
  }

  void check_admin() {
    if (ctx.options.admin_users.count(name)) admin = true;
    else if (auto it = auth.find("admin"); it != auth.end() && it->is_boolean()) admin = it->get<bool>();
    else if (auto existing = ctx.model.find_user(name)) admin = existing->admin;
    run_hooks();
  }

  void run_hooks() {
    if (next_hook >= ctx.post_auth_hooks.size()) return store();
    auto self = shared_from_this();
    auto& hook = ctx.post_auth_hooks[next_hook++];
    hook(auth, [self](plugins::op_result r) {
      if (r.status == plugins::op_status::denied) return self->fail(403, invalid_login, "refused by a post_auth hook");
      if (!r.ok()) return self->fail(500, "Login failed", "post_auth hook " + std::string(plugins::to_string(r.status)));
      if (r.value.is_object()) {
        auto renamed = r.value.contains("name");
        self->auth.merge_patch(r.value);
        if (renamed && (!self->auth["name"].is_string() || self->auth["name"].get<std::string>() != self->name))
          return self->fail(500, "Login failed", "a post_auth hook may not rename the user");
        if (auto it = self->auth.find("admin"); it != self->auth.end() && it->is_boolean() &&
                                                !self->ctx.options.admin_users.count(self->name))
          self->admin = it->get<bool>();
      }
      self->run_hooks();
    });
  }

  // Each model step answers through `then` after its commit; errors end the login.
  void store() {
    auto self = shared_from_this();
    auto existing = ctx.model.find_user(name);
    if (!existing) {
      model::new_user nu;
      nu.name = name;
      nu.admin = admin;
      nu.source = "authenticator";
      if (auto it = auth.find("user_info"); it != auth.end() && it->is_object()) nu.user_info = it->dump();
      auto r = ctx.model.create_user(nu, [self](const model::status& s) {
        if (!s) return self->fail(500, "Login failed", "creating the user: " + s.err().message);
        spdlog::info("login: created user {}", self->name);
        self->after_user();
      });
      if (!r) {
        // Created concurrently by another login: carry on as an existing user.
        if (ctx.model.find_user(name)) return after_user();
        return fail(500, "Login failed", "creating the user: " + r.err().message);
      }
      return;
    }
    model::user_patch p;
    bool change = false;
    if (existing->admin != admin) { p.admin = admin; change = true; }
    if (auto it = auth.find("user_info"); it != auth.end() && it->is_object()) {
      p.user_info = std::optional<std::string>(it->dump());
      change = true;
    }
    if (!change) return after_user();
    auto r = ctx.model.update_user(name, p, [self](const model::status& s) {
      if (!s) return self->fail(500, "Login failed", "updating the user: " + s.err().message);
      self->after_user();
    });
    if (!r) fail(500, "Login failed", "updating the user: " + r.err().message);
  }

  // As JupyterHub: the `user` role is granted again at every login.
  void after_user() {
    bool has_user_role = false;
    for (const auto& r : ctx.model.roles_of(model::holder_kind::user, name))
      if (r->name == "user") has_user_role = true;
    if (!has_user_role && ctx.model.find_role("user")) {
      auto self = shared_from_this();
      auto st = ctx.model.assign_role("user", {model::holder_kind::user, name}, "authenticator",
                                      [self](const model::status& s) {
                                        if (!s) return self->fail(500, "Login failed", "granting the user role: " + s.err().message);
                                        self->apply_groups();
                                      });
      if (!st) return fail(500, "Login failed", "granting the user role: " + st.err().message);
      return;
    }
    apply_groups();
  }

  void apply_groups() {
    if (ctx.options.manage_groups) {
      auto g = auth.find("groups");
      if (g != auth.end() && g->is_array()) {
        std::vector<std::string> groups;
        for (const auto& x : *g)
          if (x.is_string()) groups.push_back(x.get<std::string>());
        auto self = shared_from_this();
        auto st = ctx.model.set_user_groups_from_source(name, groups, "authenticator", [self](const model::status& s) {
          if (!s) return self->fail(500, "Login failed", "setting groups: " + s.err().message);
          self->apply_roles();
        });
        if (!st) return fail(500, "Login failed", "setting groups: " + st.err().message);
        return;
      }
    }
    apply_roles();
  }

  // Authenticator.manage_roles: the plan is decided from the model as it is, then
  // carried out in order; the writer commits in order, so the last step's completion goes on.
  void apply_roles() {
    auto it = auth.find("roles");
    if (!ctx.options.manage_roles || it == auth.end() || it->is_null()) return save_auth_state();
    auto plan = plan_managed_roles(ctx.scopes, ctx.model, name, *it, {ctx.options.keep_default_roles, admin});
    if (plan.error) return fail(409, "Login failed: " + *plan.error, "managed roles: " + *plan.error);
    for (const auto& w : plan.warnings) spdlog::warn("login: managed roles of {}: {}", name, w);
    if (plan.loses_self)
      spdlog::warn("login: user {} holds no role granting 'self' after the authenticator's roles; list the 'user' "
                   "role in the auth model's roles or set Authenticator.keep_default_roles = true",
                   name);
    using step = std::function<model::status(model::completion)>;
    std::vector<step> steps;
    auto as_status = [](const auto& r) { return r ? model::status{} : model::status(r.err()); };
    for (const auto& nr : plan.create)
      steps.push_back([this, nr, as_status](model::completion d) { return as_status(ctx.model.create_role(nr, d)); });
    for (const auto& [role, patch] : plan.update)
      steps.push_back([this, role, patch, as_status](model::completion d) {
        return as_status(ctx.model.update_role(role, patch, d));
      });
    const model::holder_ref me{model::holder_kind::user, name};
    for (const auto& role : plan.unassign)
      steps.push_back([this, role, me](model::completion d) { return ctx.model.unassign_role(role, me, "authenticator", d); });
    for (const auto& role : plan.assign)
      steps.push_back([this, role, me](model::completion d) { return ctx.model.assign_role(role, me, "authenticator", d); });
    for (const auto& c : plan.holders_assign)
      steps.push_back([this, c](model::completion d) { return ctx.model.assign_role(c.role, c.holder, "authenticator", d); });
    for (const auto& c : plan.holders_unassign)
      steps.push_back([this, c](model::completion d) { return ctx.model.unassign_role(c.role, c.holder, "authenticator", d); });
    for (const auto& role : plan.remove)
      steps.push_back([this, role](model::completion d) { return ctx.model.delete_role(role, d); });
    if (steps.empty()) return save_auth_state();
    auto self = shared_from_this();
    for (std::size_t i = 0; i < steps.size(); ++i) {
      model::completion done;
      if (i + 1 == steps.size())
        done = [self](const model::status& s) {
          if (!s) return self->fail(500, "Login failed", "applying managed roles: " + s.err().message);
          self->save_auth_state();
        };
      if (auto st = steps[i](std::move(done)); !st) {
        // A concurrent login may have made the same role a moment ago: that is the outcome we wanted.
        if (st.err().code == model::errc::conflict && i + 1 < steps.size()) continue;
        return fail(st.err().code == model::errc::conflict ? 409 : 500, "Login failed",
                    "applying managed roles: " + st.err().message);
      }
    }
  }

  void save_auth_state() {
    auto it = auth.find("auth_state");
    if (!ctx.options.enable_auth_state || it == auth.end() || !ctx.model.auth_state_enabled()) return new_session();
    std::optional<nlohmann::json> state;
    if (!it->is_null()) state = *it;
    auto self = shared_from_this();
    auto st = ctx.model.set_auth_state(name, state, [self](const model::status& s) {
      if (!s) return self->fail(500, "Login failed", "storing auth_state: " + s.err().message);
      self->new_session();
    });
    if (!st) fail(500, "Login failed", "storing auth_state: " + st.err().message);
  }

  void new_session() {
    if (session == login_session::none) {
      arrived = 1;
      return arrive();
    }
    auto self = shared_from_this();
    auto r = ctx.model.create_session(name, [self](const model::status& s) {
      if (!s) return self->fail(500, "Login failed", "creating the session: " + s.err().message);
      self->arrive();
    });
    if (!r) return fail(500, "Login failed", "creating the session: " + r.err().message);
    {
      std::lock_guard lock(mutex);
      session_id = r.value()->id;
    }
    arrive();
  }

  // The commit may complete before create_session returned the id: finish on the second arrival.
  void arrive() {
    {
      std::lock_guard lock(mutex);
      if (++arrived < 2) return;
    }
    finish();
  }

  std::mutex mutex;
  int arrived = 0;
  std::string session_id;

  void finish() {
    login_result out;
    out.ok = true;
    out.status = 200;
    out.user = ctx.model.find_user(name);
    out.session_id = session_id;
    out.auth_model = auth;
    out.auth_model.erase("auth_state");  // secrets stay in the encrypted store only
    if (!out.user) return fail(500, "Login failed", "the user vanished during login");
    spdlog::info("login: user {} logged in", name);
    if (auto* r = ctx.sessions.refresher()) r->logged_in(name);  // fresh credentials count as a refresh
    done(std::move(out));
  }
};

}  // namespace

void run_login(web_context& ctx, nlohmann::json login_data, login_callback done, login_session session) {
  auto run = std::make_shared<login_run>(ctx, std::move(done));
  run->session = session;
  if (auto u = login_data.find("username"); u != login_data.end() && u->is_string()) run->attempted = u->get<std::string>();
  if (!ctx.authenticator.authenticate) return run->fail(500, "Login failed", "no authenticator configured");
  ctx.authenticator.authenticate(std::move(login_data), [run](plugins::op_result r) {
    if (!r.ok()) {
      if (r.status == plugins::op_status::denied) {
        // The authenticator's own words ("account locked", "use your university login") when it gave any.
        bool own = r.value.is_object() && r.value.contains("message") && r.value["message"].is_string() &&
                   !r.value["message"].get<std::string>().empty();
        auto message = own ? cap_utf8(r.value["message"].get<std::string>(), max_refusal_message) : std::string(invalid_login);
        return run->fail(403, std::move(message), own ? "the authenticator said no: " + loggable_name(message) : "the authenticator said no");
      }
      return run->fail(403, invalid_login, "authenticate " + std::string(plugins::to_string(r.status)) + ": " + r.message);
    }
    run->start(std::move(r.value));
  });
}

void complete_login(web_context& ctx, nlohmann::json auth_model, login_callback done) {
  auto run = std::make_shared<login_run>(ctx, std::move(done));
  run->start(std::move(auth_model));
}

}  // namespace hubd::core::web
