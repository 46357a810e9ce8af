#pragma once
// Spawn progress events (the /progress event stream): what a spawner may send,
// the hub's final events, and the text/event-stream encoding. Pure.
#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace hubd::core::spawn {

// An intermediate event from a spawner: must be an object; "ready" and "failed" are removed (only
// the hub decides those), progress is clamped to 0..99. nullopt: not an event (dropped).
std::optional<nlohmann::json> sanitize_progress_event(const nlohmann::json& ev);
// {"progress": 100, "ready": true, "message": "Server ready at URL", "html_message": ..., "url": URL}
nlohmann::json ready_event(const std::string& url);
// {"progress": 100, "failed": true, "message": "Spawn failed: WHY"}
nlohmann::json failed_event(const std::string& why);
// "data: <json>\n\n" per event.
std::string event_stream(const std::vector<nlohmann::json>& events);

}  // namespace hubd::core::spawn
