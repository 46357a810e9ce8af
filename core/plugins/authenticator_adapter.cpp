#include "core/plugins/authenticator_adapter.hpp"

#include "core/plugins/detail/host_core.hpp"

namespace hubd::core::plugins {

namespace {

using nlohmann::json;
using detail::check_auth_model;
using detail::expect_bool;
using detail::expect_object_or_null;

// Calls a sink function; nullopt when the slot is missing or the plugin returned false.
template <class Fn>
std::optional<std::string> sink_call(const detail::instance& inst, Fn fn, std::string_view in) {
  if (!fn || !inst.obj()) return std::nullopt;
  std::string out;
  hubd_sink sink = detail::make_sink(out);
  if (!fn(inst.obj(), hubd_str{in.data(), in.size()}, &sink)) return std::nullopt;
  return out;
}

}  // namespace

authenticator_adapter::authenticator_adapter(std::shared_ptr<detail::instance> inst) : inst_(std::move(inst)) {}
authenticator_adapter::~authenticator_adapter() = default;

const std::string& authenticator_adapter::name() const { return inst_->plugin().name; }

bool authenticator_adapter::implements(std::string_view op) const {
  const auto& v = inst_->plugin().auth;
  if (op == "authenticate") return v.authenticate;
  if (op == "refresh_user") return v.refresh_user;
  if (op == "check_allowed") return v.check_allowed;
  if (op == "check_blocked") return v.check_blocked;
  if (op == "is_admin") return v.is_admin;
  if (op == "pre_spawn_start") return v.pre_spawn_start;
  if (op == "post_spawn_stop") return v.post_spawn_stop;
  if (op == "add_user") return v.add_user;
  if (op == "delete_user") return v.delete_user;
  if (op == "load_managed_roles") return v.load_managed_roles;
  if (op == "handle_request") return v.handle_request;
  if (op == "logout") return v.logout;
  if (op == "normalize_username") return v.normalize_username;
  if (op == "validate_username") return v.validate_username;
  if (op == "login_url") return v.login_url;
  if (op == "logout_url") return v.logout_url;
  return false;
}

void authenticator_adapter::authenticate(json login_data, op_callback done) {
  detail::call_op(inst_, "authenticate", inst_->plugin().auth.authenticate, login_data, check_auth_model,
                  [done = std::move(done)](op_result r) {
                    if (r.ok() && r.value.is_string()) r.value = json{{"name", r.value}};
                    if (done) done(std::move(r));
                  });
}

void authenticator_adapter::refresh_user(json input, op_callback done) {
  detail::call_op(inst_, "refresh_user", inst_->plugin().auth.refresh_user, input,
                  [](const json& v) { return v.is_boolean() || v.is_object() ? "" : "expected true, false or an auth model"; },
                  std::move(done));
}
void authenticator_adapter::check_allowed(json input, op_callback done) {
  // null: the authenticator has no rule of its own configured (the hub's default rule decides).
  detail::call_op(inst_, "check_allowed", inst_->plugin().auth.check_allowed, input,
                  [](const json& v) { return v.is_boolean() || v.is_null() ? "" : "expected true, false or null"; },
                  std::move(done));
}
void authenticator_adapter::check_blocked(json input, op_callback done) {
  detail::call_op(inst_, "check_blocked", inst_->plugin().auth.check_blocked, input, expect_bool, std::move(done));
}
void authenticator_adapter::is_admin(json input, op_callback done) {
  detail::call_op(inst_, "is_admin", inst_->plugin().auth.is_admin, input,
                  [](const json& v) { return v.is_boolean() || v.is_null() ? "" : "expected true, false or null"; },
                  std::move(done));
}
void authenticator_adapter::pre_spawn_start(json input, op_callback done) {
  detail::call_op(inst_, "pre_spawn_start", inst_->plugin().auth.pre_spawn_start, input, expect_object_or_null,
                  std::move(done));
}
void authenticator_adapter::post_spawn_stop(json input, op_callback done) {
  detail::call_op(inst_, "post_spawn_stop", inst_->plugin().auth.post_spawn_stop, input, {}, std::move(done));
}
void authenticator_adapter::add_user(json input, op_callback done) {
  detail::call_op(inst_, "add_user", inst_->plugin().auth.add_user, input, {}, std::move(done));
}
void authenticator_adapter::delete_user(json input, op_callback done) {
  detail::call_op(inst_, "delete_user", inst_->plugin().auth.delete_user, input, {}, std::move(done));
}
void authenticator_adapter::load_managed_roles(op_callback done) {
  detail::call_op(inst_, "load_managed_roles", inst_->plugin().auth.load_managed_roles, json::object(),
                  [](const json& v) {
                    return v.is_object() && v.contains("roles") && v["roles"].is_array() ? "" : "expected {\"roles\": [...]}";
                  },
                  std::move(done));
}
void authenticator_adapter::handle_request(json request, op_callback done) {
  detail::call_op(inst_, "handle_request", inst_->plugin().auth.handle_request, request,
                  [](const json& v) { return v.is_object() ? "" : "expected a response object"; }, std::move(done));
}

void authenticator_adapter::logout(json input, op_callback done) {
  detail::call_op(inst_, "logout", inst_->plugin().auth.logout, input, {}, std::move(done));
}

names::username_result authenticator_adapter::normalize_username(std::string_view username) const {
  // A plugin that answers chose the name, case included (pam_normalize_username: the account's own
  // name, and Alice and alice may be two accounts); NFC and the refusals still apply.
  if (auto r = sink_call(*inst_, inst_->plugin().auth.normalize_username, username))
    return names::normalize_username(*r, names::case_rule::keep);
  return names::normalize_username(username);
}

std::optional<std::string> authenticator_adapter::validate_username(std::string_view username) const {
  auto fn = inst_->plugin().auth.validate_username;
  if (fn && inst_->obj()) {
    std::string reason;
    hubd_sink sink = detail::make_sink(reason);
    if (fn(inst_->obj(), hubd_str{username.data(), username.size()}, &sink)) return std::nullopt;
    return reason.empty() ? "invalid username" : reason;
  }
  if (username.empty()) return "username must not be empty";
  if (username.find('/') != std::string_view::npos) return "username must not contain '/'";
  return std::nullopt;
}

std::string authenticator_adapter::login_url(std::string_view base_url) const {
  if (auto r = sink_call(*inst_, inst_->plugin().auth.login_url, base_url)) return *r;
  return std::string(base_url) + "login";
}
std::string authenticator_adapter::logout_url(std::string_view base_url) const {
  if (auto r = sink_call(*inst_, inst_->plugin().auth.logout_url, base_url)) return *r;
  return std::string(base_url) + "logout";
}

std::vector<std::string> authenticator_adapter::routes() const {
  std::vector<std::string> out;
  if (auto r = inst_->plugin().auth.routes)
    for (size_t i = 0; r[i] && i < 64; ++i) out.emplace_back(r[i]);
  return out;
}

}  // namespace hubd::core::plugins
