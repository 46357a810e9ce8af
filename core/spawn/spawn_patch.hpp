#pragma once
// A pre_spawn hook's answer applied to the spawner context: hooks return a
// patch, never a mutated object. Pure.
#include <nlohmann/json.hpp>

#include <string>

namespace hubd::core::spawn {

// Applies `patch` ({} / null: no change; else any of {"env": {K: str|null}, "args": [str],
// "user_options": {...}}) to `ctx` in place. env keys are set (null removes one), args replace the
// context's args, user_options keys are merged (null removes one). Returns "" on success, else what
// is wrong with the patch (then ctx is unchanged and the spawn must fail: fail closed).
std::string apply_spawn_patch(nlohmann::json& ctx, const nlohmann::json& patch);

}  // namespace hubd::core::spawn
