#include "tests/unit/rbac/helpers.hpp"

#include <catch2/catch.hpp>

using namespace hubd::test::rbac;
using nlohmann::json;

namespace {
const auto R = id(builtin::read_users);
const auto RS = id(builtin::read_servers);
}  // namespace

TEST_CASE("endpoint guard (spec 7.1)", "[rbac][access]") {
  fake_membership m{{"bob", "g"}};
  struct row {
    strings held;
    scope_id required;
    resource_ref resource;
    access_result want;
  };
  const std::vector<row> rows = {
      {{"read:users"}, R, resource_ref::user("x"), access_result::allowed},
      {{"read:users"}, R, resource_ref::none(), access_result::allowed},
      {{"read:users!user=bob"}, R, resource_ref::user("bob"), access_result::allowed},
      {{"read:users!user=bob"}, R, resource_ref::user("alice"), access_result::not_found},
      {{"read:users!user=bob"}, R, resource_ref::none(), access_result::forbidden},
      {{"read:users!group=g"}, R, resource_ref::user("bob"), access_result::allowed},
      {{"read:users!group=g"}, R, resource_ref::user("alice"), access_result::not_found},
      {{"read:servers!user=bob"}, RS, resource_ref::server("bob", "x"), access_result::allowed},
      {{"read:servers!user=bob"}, RS, resource_ref::server("bobby", "x"), access_result::not_found},
      {{"read:servers!server=bob/x"}, RS, resource_ref::server("bob", "x"), access_result::allowed},
      {{"read:servers!server=bob/x"}, RS, resource_ref::server("bob", ""), access_result::not_found},
      {{"read:servers!server=bob/"}, RS, resource_ref::server("bob", ""), access_result::allowed},
      {{"read:servers!server=bob/x"}, RS, resource_ref::user("bob"), access_result::not_found},
      {{"read:servers!group=g"}, RS, resource_ref::server("bob", "lab"), access_result::allowed},
      {{"read:groups!group=g"}, id(builtin::read_groups), resource_ref::group("g"), access_result::allowed},
      {{"read:groups!group=g"}, id(builtin::read_groups), resource_ref::group("h"), access_result::not_found},
      {{"read:services!service=s"}, id(builtin::read_services), resource_ref::service("s"), access_result::allowed},
      {{"read:hub!user=bob"}, id(builtin::read_hub), resource_ref::none(), access_result::forbidden},
      {{"read:metrics!user=bob"}, id(builtin::read_metrics), resource_ref::none(), access_result::forbidden},
      {{"users"}, R, resource_ref::user("x"), access_result::allowed},
      {{}, R, resource_ref::user("x"), access_result::forbidden},
      {{"groups"}, R, resource_ref::user("x"), access_result::forbidden},
  };
  for (const auto& r : rows) {
    INFO(::Catch::Detail::stringify(r.held) << " " << table().name(r.required) << " on " << r.resource.describe());
    auto held = expand(table(), r.held, principal_ref::none()).scopes;
    CHECK(check(held, {r.required}, r.resource, &m) == r.want);
  }
}

TEST_CASE("without membership, group filters never match", "[rbac][access]") {
  auto held = set_of({"read:users!group=g"});
  CHECK(check(held, {R}, resource_ref::user("bob"), nullptr) == access_result::not_found);
}

TEST_CASE("any of several scopes; messages", "[rbac][access]") {
  auto held = set_of({"read:users:name"});
  const scope_id req[] = {R, id(builtin::read_users_name)};
  CHECK(check(held, req, resource_ref::user("x"), nullptr) == access_result::allowed);
  const scope_id admin_req[] = {id(builtin::admin_users), id(builtin::delete_users)};
  auto res = check(held, admin_req, resource_ref::user("x"), nullptr);
  CHECK(res == access_result::forbidden);
  CHECK(denied_message(table(), res, admin_req) ==
        "Action is not authorized with current scopes; requires any of [admin:users, delete:users]");
  CHECK(denied_message(table(), access_result::not_found, admin_req) == "No access to resources or resources not found");
}

TEST_CASE("listing post-filter (spec 7.2)", "[rbac][access]") {
  fake_membership m{{"bob", "g"}};
  auto held = expand(table(), strings{"list:users!group=g", "list:users!user=carol"}, principal_ref::none()).scopes;
  const auto L = id(builtin::list_users);
  CHECK(held.has_any(L));
  CHECK(usable_list_filters(held, L, {filter_kind::user, filter_kind::group}));
  strings visible;
  for (const char* u : {"alice", "bob", "carol"})
    if (has_scope(held, L, resource_ref::user(u), &m)) visible.push_back(u);
  CHECK(visible == strings{"bob", "carol"});
  auto odd = set_of({"list:users!service=s"});
  CHECK_FALSE(usable_list_filters(odd, L, {filter_kind::user, filter_kind::group}));
  CHECK(usable_list_filters(set_of({"list:users"}), L, {filter_kind::user, filter_kind::group}));
}

TEST_CASE("user model field visibility (rest-api 3.1)", "[rbac][fields]") {
  fake_membership m{};
  auto model = [] {
    return json{{"kind", "user"},   {"name", "bob"},   {"admin", false},         {"user_info", nullptr},
                {"roles", {"user"}}, {"groups", json::array()}, {"server", nullptr}, {"pending", nullptr},
                {"created", "t"},   {"last_activity", "t"}, {"servers", json::object()}, {"auth_state", nullptr}};
  };
  struct row {
    strings held;
    strings keys;
  };
  const std::vector<row> rows = {
      {{"read:users:name!user=bob"}, {"admin", "kind", "name", "user_info"}},
      {{"read:users:groups!user=bob"}, {"groups", "kind", "name"}},
      {{"read:users:activity"}, {"kind", "last_activity", "name"}},
      {{"read:roles:users"}, {"admin", "kind", "name", "roles"}},
      {{"admin:auth_state"}, {"auth_state", "kind", "name"}},
      // read:servers carries read:users:name for the same user
      {{"read:servers!user=bob"}, {"admin", "kind", "name", "servers", "user_info"}},
      {{"read:users"},
       {"admin", "created", "groups", "kind", "last_activity", "name", "pending", "roles", "server", "user_info"}},
      {{"read:users!user=alice"}, {}},
      {{"read:servers!server=bob/x"}, {}},
  };
  for (const auto& r : rows) {
    INFO(::Catch::Detail::stringify(r.held));
    auto held = expand(table(), r.held, principal_ref::none()).scopes;
    auto j = model();
    bool any = filter_user_model(j, visible_user_fields(held, "bob", &m));
    strings keys;
    for (auto it = j.begin(); it != j.end(); ++it) keys.push_back(it.key());
    CHECK(sorted(keys) == r.keys);
    CHECK(any == !r.keys.empty());
  }
  auto held = set_of({"read:servers!server=bob/x", "admin:server_state!server=bob/x"});
  CHECK(can_read_server(held, "bob", "x", &m));
  CHECK_FALSE(can_read_server(held, "bob", "", &m));
  CHECK(can_read_server_state(held, "bob", "x", &m));
}

TEST_CASE("group and service model fields", "[rbac][fields]") {
  auto held = set_of({"read:groups:name!group=g", "read:roles:groups!group=h", "read:services!service=s",
                      "read:roles:services"});
  auto g = json{{"kind", "group"}, {"name", "g"}, {"users", json::array()}, {"properties", json::object()}, {"roles", json::array()}};
  auto h = g;
  CHECK(filter_group_model(g, visible_group_fields(held, "g")));
  CHECK(g.size() == 2);
  CHECK(filter_group_model(h, visible_group_fields(held, "h")));
  CHECK(h.contains("roles"));
  CHECK_FALSE(h.contains("users"));
  auto other = g;
  CHECK_FALSE(filter_group_model(other, visible_group_fields(held, "zzz")));
  auto svc = json{{"kind", "service"}, {"name", "s"}, {"admin", false}, {"url", "u"}, {"roles", json::array()}, {"pid", 0}};
  CHECK(filter_service_model(svc, visible_service_fields(held, "s")));
  CHECK(svc.size() == 6);
  auto t = json{{"kind", "service"}, {"name", "t"}, {"url", "u"}, {"roles", json::array()}};
  CHECK(filter_service_model(t, visible_service_fields(held, "t")));
  CHECK(t.contains("roles"));
  CHECK_FALSE(t.contains("url"));
}

TEST_CASE("RequestIdentity renders with the identify scopes", "[rbac][fields]") {
  auto owner = principal_ref::user("u");
  auto held = set_of({"access:servers!server=u/"});
  auto view = identity_render_scopes(table(), held, owner);
  auto mask = visible_user_fields(view, "u", nullptr);
  CHECK((mask & user_field::name));
  CHECK((mask & user_field::groups));
  CHECK((mask & user_field::admin));
  CHECK_FALSE((mask & user_field::created));
  CHECK(held.to_strings(table()) == strings{"access:servers!server=u/"});
}
