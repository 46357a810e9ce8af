// The "generic-oauth" authenticator (oauthenticator's GenericOAuthenticator): logs people in through
// any OAuth 2.0 / OpenID Connect identity provider and keeps their tokens fresh. This file is the ABI
// layer only: each export parses its input, calls oauth_authenticator and completes the op.
#include "authenticator.hpp"
#include "http_client.hpp"

#include <hubd/sdk.hpp>

#include <cstring>
#include <memory>

namespace {

using nlohmann::json;
using generic_oauth::answer;
using generic_oauth::oauth_authenticator;

const hubd_host* g_host = nullptr;

struct instance {
  hubd_host_obj* host_obj;
  std::unique_ptr<oauth_authenticator> auth;
};

instance* self_of(hubd_plugin_obj* p) { return reinterpret_cast<instance*>(p); }

hubd_plugin_obj* create(hubd_host_obj* host_obj, hubd_str config_json, hubd_sink* err) noexcept {
  return hubd::sdk::barrier<hubd_plugin_obj*>(nullptr, [&]() -> hubd_plugin_obj* {
    json cfg = json::parse(hubd::sdk::view(config_json), nullptr, false);
    auto parsed = generic_oauth::parse_settings(cfg.is_discarded() ? json("not json") : cfg);
    if (!parsed.value) {
      hubd::sdk::write(err, parsed.error);
      return nullptr;
    }
    auto inst = std::make_unique<instance>();
    inst->host_obj = host_obj;
    // Plugin log lines carry the host's "plugin 'generic-oauth':" prefix.
    auto log = [host_obj](int level, const std::string& msg) { hubd::sdk::log(g_host, host_obj, level, msg); };
    inst->auth = std::make_unique<oauth_authenticator>(std::move(*parsed.value), log);
    return reinterpret_cast<hubd_plugin_obj*>(inst.release());
  });
}

void destroy(hubd_plugin_obj* self) noexcept { delete self_of(self); }

template <class F>
void run_op(hubd_op* op, hubd_str input, F&& call) {
  hubd::sdk::op_barrier(g_host, op, [&] {
    json in = json::parse(hubd::sdk::view(input), nullptr, false);
    if (!in.is_object()) {
      hubd::sdk::fail(g_host, op, 400, "input is not a JSON object");
      return;
    }
    answer a = call(in);
    hubd::sdk::complete(g_host, op, a.status, a.json);
  });
}

void authenticate(hubd_plugin_obj*, hubd_host_obj*, hubd_op* op, hubd_str) noexcept {
  // The login form has no password to check: people log in at the identity provider.
  hubd::sdk::complete(g_host, op, HUBD_DENIED,
                      R"({"message":"Log in with the button: this hub signs people in through its identity provider."})");
}

void handle_request(hubd_plugin_obj* self, hubd_host_obj*, hubd_op* op, hubd_str input) noexcept {
  run_op(op, input, [&](const json& in) { return self_of(self)->auth->handle_request(in); });
}

void refresh_user(hubd_plugin_obj* self, hubd_host_obj*, hubd_op* op, hubd_str input) noexcept {
  run_op(op, input, [&](const json& in) { return self_of(self)->auth->refresh_user(in); });
}

void check_allowed(hubd_plugin_obj* self, hubd_host_obj*, hubd_op* op, hubd_str input) noexcept {
  run_op(op, input, [&](const json& in) { return self_of(self)->auth->check_allowed(in); });
}

// Revokes the refresh token at the provider (RFC 7009) before the hub ends the session.
void logout(hubd_plugin_obj* self, hubd_host_obj*, hubd_op* op, hubd_str input) noexcept {
  run_op(op, input, [&](const json& in) { return self_of(self)->auth->logout(in); });
}

bool login_url(hubd_plugin_obj*, hubd_str base_url, hubd_sink* out) noexcept {
  return hubd::sdk::barrier(false, [&] {
    std::string base(hubd::sdk::view(base_url));
    if (base.empty() || base.back() != '/') base += '/';
    hubd::sdk::write(out, base + "oauth_login");
    return true;
  });
}

// oauthenticator's logout_redirect_url: where the browser goes after the hub's logout.
bool logout_url(hubd_plugin_obj* self, hubd_str, hubd_sink* out) noexcept {
  return hubd::sdk::barrier(false, [&] {
    const auto& url = self_of(self)->auth->config().logout_redirect_url;
    if (url.empty()) return false;
    hubd::sdk::write(out, url);
    return true;
  });
}

const char* const routes[] = {"oauth_login", "oauth_callback", nullptr};

hubd_authenticator_vtbl make_vtbl() {
  hubd_authenticator_vtbl v{};
  v.struct_size = sizeof v;
  // Logins of different people run side by side; refreshes are serialised per user inside.
  v.flags = HUBD_FLAG_CONCURRENT;
  v.create = &create;
  v.destroy = &destroy;
  v.authenticate = &authenticate;
  v.refresh_user = &refresh_user;
  v.check_allowed = &check_allowed;
  v.handle_request = &handle_request;
  v.login_url = &login_url;
  v.logout_url = &logout_url;
  v.routes = routes;
  v.logout = &logout;
  return v;
}
const hubd_authenticator_vtbl vtbl = make_vtbl();

const void* get_factory(const char* id) noexcept {
  return std::strcmp(id, HUBD_FACTORY_AUTHENTICATOR) == 0 ? &vtbl : nullptr;
}

const hubd_plugin_desc desc = {sizeof(hubd_plugin_desc), HUBD_KIND_AUTHENTICATOR, "generic-oauth", "1.0.0",
                               "OAuth 2.0 / OpenID Connect login through an identity provider (GenericOAuthenticator)",
                               &get_factory};
const hubd_plugin_desc* const plugin_list[] = {&desc};

bool init(const hubd_host* host, hubd_sink* err) noexcept {
  g_host = host;
  if (!generic_oauth::http_global_init()) {
    hubd::sdk::write(err, "libcurl's global initialisation failed");
    return false;
  }
  return true;
}
void deinit() noexcept {
  generic_oauth::http_global_cleanup();
  g_host = nullptr;
}

const hubd_plugin_entry entry = {sizeof(hubd_plugin_entry), HUBD_ABI_MAJOR, HUBD_ABI_MINOR, "generic_oauth", "1.0.0",
                                 &init, &deinit, 1, plugin_list};

}  // namespace

extern "C" HUBD_EXPORT const hubd_plugin_entry* hubd_plugin_entry_v1(void) { return &entry; }
