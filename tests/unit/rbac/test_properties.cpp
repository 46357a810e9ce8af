// Property tests over random role sets.
#include "tests/unit/rbac/helpers.hpp"

#include <catch2/catch.hpp>

#include <random>

using namespace hubd::test::rbac;

namespace {

const char* const users[] = {"ann", "bob", "cy"};
const char* const groups[] = {"g", "h"};

struct world : membership_view {
  bool is_member(std::string_view u, std::string_view g) const override {
    return (u == "ann" && g == "g") || (u == "bob" && g == "g") || (u == "cy" && g == "h");
  }
};

std::string random_scope(std::mt19937& rng) {
  const auto& t = table();
  std::uniform_int_distribution<int> pick_scope(0, static_cast<int>(t.size()) - 1), pick(0, 9);
  std::string s = t.name(static_cast<scope_id>(pick_scope(rng)));
  switch (pick(rng)) {
    case 0: case 1: case 2: return s;
    case 3: case 4: return s + "!user=" + users[pick(rng) % 3];
    case 5: return s + "!group=" + groups[pick(rng) % 2];
    case 6: return s + "!server=" + users[pick(rng) % 3] + "/" + (pick(rng) % 2 ? "" : "lab");
    case 7: return s + "!service=svc";
    case 8: return s + "!user";
    default: return s + "!server";
  }
}

strings random_role(std::mt19937& rng) {
  strings out;
  std::uniform_int_distribution<int> n(0, 8);
  for (int i = n(rng); i > 0; --i) out.push_back(random_scope(rng));
  return out;
}

std::vector<resource_ref> resources() {
  std::vector<resource_ref> out{resource_ref::none(), resource_ref::service("svc"), resource_ref::group("g"),
                                resource_ref::group("h")};
  for (const char* u : users) {
    out.push_back(resource_ref::user(u));
    out.push_back(resource_ref::server(u, ""));
    out.push_back(resource_ref::server(u, "lab"));
  }
  return out;
}

}  // namespace

TEST_CASE("properties over random role sets", "[rbac][property]") {
  std::mt19937 rng(20240601);
  world w;
  const auto owner = principal_ref::user("ann");
  const auto client = oauth_client_ref::server("bob", "lab");
  const auto res = resources();
  for (int iter = 0; iter < 300; ++iter) {
    strings ra = random_role(rng), rb = random_role(rng);
    INFO("A=" << ::Catch::Detail::stringify(ra) << " B=" << ::Catch::Detail::stringify(rb));
    scope_set a = expand(table(), ra, owner, client).scopes;
    scope_set b = expand(table(), rb, owner, client).scopes;

    // Expansion is idempotent: expanding the expanded strings again changes nothing.
    auto a_strings = a.to_strings(table());
    CHECK(expand(table(), a_strings, owner, client).scopes == a);

    // Intersection is commutative and a subset of both sides (with and without membership).
    for (const membership_view* m : {static_cast<const membership_view*>(&w), static_cast<const membership_view*>(nullptr)}) {
      scope_set ab = intersect(a, b, m), ba = intersect(b, a, m);
      CHECK(ab == ba);
      for (scope_id s : ab.bases())
        for (const auto& r : res) {
          if (!has_scope(ab, s, r, m)) continue;
          CHECK(has_scope(a, s, r, m));
          CHECK(has_scope(b, s, r, m));
        }
      // Without membership the intersection never gives more than with it.
      if (!m) CHECK(ab.subset_of(intersect(a, b, &w)));
    }

    // A filtered scope never grants more than its unfiltered form.
    std::string one = random_scope(rng);
    std::string base = one.substr(0, one.find('!'));
    // `self` is a metascope: unfiltered it becomes the owner's self set, filtered it stays an inert
    // literal, so the two are not comparable.
    if (base == "self") continue;
    scope_set filtered = expand(table(), strings{one}, owner, client).scopes;
    scope_set unfiltered = expand(table(), strings{base}, owner, client).scopes;
    for (scope_id s : filtered.bases())
      for (const auto& r : res)
        if (has_scope(filtered, s, r, &w)) CHECK(has_scope(unfiltered, s, r, &w));
  }
}
