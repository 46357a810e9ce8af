#include "core/spawn/progress_events.hpp"

#include <algorithm>

namespace hubd::core::spawn {

namespace {
// The message is shown in the page; the HTML form must not let a user name inject markup.
std::string html_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}
}  // namespace

std::optional<nlohmann::json> sanitize_progress_event(const nlohmann::json& ev) {
  if (!ev.is_object()) return std::nullopt;
  nlohmann::json out = ev;
  out.erase("ready");
  out.erase("failed");
  if (out.contains("progress")) {
    if (!out["progress"].is_number()) out.erase("progress");
    else out["progress"] = std::clamp(out["progress"].get<double>(), 0.0, 99.0);
  }
  if (out.contains("message") && !out["message"].is_string()) out["message"] = out["message"].dump();
  return out;
}

nlohmann::json ready_event(const std::string& url) {
  return {{"progress", 100},
          {"ready", true},
          {"message", "Server ready at " + url},
          {"html_message", "Server ready at <a href=\"" + html_escape(url) + "\">" + html_escape(url) + "</a>"},
          {"url", url}};
}

nlohmann::json failed_event(const std::string& why) {
  return {{"progress", 100}, {"failed", true}, {"message", "Spawn failed: " + why}};
}

std::string event_stream(const std::vector<nlohmann::json>& events) {
  std::string out;
  for (const auto& e : events) out += "data: " + e.dump() + "\n\n";
  return out;
}

}  // namespace hubd::core::spawn
