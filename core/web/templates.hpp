#pragma once
// Page rendering with kainjow mustache: page.mustache is the layout, header/footer/<page> are its
// partials (core/web/TEMPLATES.md). Templates are read once at start-up; folders listed first win,
// so JupyterHub.template_paths can override single pages.
#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace hubd::core::web {

class template_renderer {
public:
  // Loads every *.mustache of the folders (earlier folders win). Throws std::runtime_error naming
  // the file when a template cannot be read or does not parse, so a broken template is a start-up error.
  explicit template_renderer(const std::vector<std::filesystem::path>& dirs);

  // Renders `page` inside the layout. nullopt when the page is unknown or rendering failed.
  std::optional<std::string> render(const std::string& page, const nlohmann::json& data) const;
  bool has(const std::string& page) const { return texts_.count(page) != 0; }

  // The folder shipped with the sources (compile-time default).
  static std::filesystem::path default_dir();

private:
  std::map<std::string, std::string> texts_;
};

}  // namespace hubd::core::web
