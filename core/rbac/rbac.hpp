#pragma once
// hubd's permission model (JupyterHub 6 RBAC; docs/rbac.md for operators). Pure: no I/O, clock,
// globals or logging; warnings come back as values for the caller to log.
//
// Usage overview:
//   scope_table table;                                  // built-ins (+ admin:roles)
//   auto r = table.add_custom_scopes(cfg["custom_scopes"]);     // r.errors name the scope; all or nothing
//   auto roles = load_roles(table, cfg["load_roles"], extra);   // defaults merged; throws role_error
//
//   // Per request (or cached per principal): raw role scopes -> expanded set.
//   expansion e = expand(table, raw_scopes, principal_ref::user("alice"));   // + e.warnings
//   e.scopes.merge(expand_share_scopes(table, share.scopes, "bob", ""));     // shares
//   token_resolution t = resolve_token(table, stored, owner, client, e.scopes, &membership);
//
//   // Checks on the precomputed set (no allocation):
//   check(t.scopes, {id(builtin::read_users)}, resource_ref::user("bob"), &membership)
//       -> access_result::allowed | not_found (404) | forbidden (403); denied_message() for the body.
//   has_scope(...) for listing post-filters; visible_user_fields() + filter_user_model() for field visibility.
//
//   // Tokens and OAuth: check_token_scopes (strict), resolve_requested (lenient),
//   // identify_scopes, access_scopes(client), intersect(a, b, &membership).
//
// `membership_view` is implemented by the model (live group membership); nullptr means no database
// access, which can only grant less.
#include "core/rbac/access.hpp"
#include "core/rbac/expand.hpp"
#include "core/rbac/intersect.hpp"
#include "core/rbac/roles.hpp"
#include "core/rbac/scope.hpp"
#include "core/rbac/scope_set.hpp"
#include "core/rbac/scope_table.hpp"
