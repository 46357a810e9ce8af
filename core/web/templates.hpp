#pragma once
// Page rendering with kainjow mustache: page.mustache is the layout, header/footer/<page> are its
// partials (core/web/TEMPLATES.md). Templates are read once at start-up; folders listed first win,
// so JupyterHub.template_paths can override single pages.
#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace hubd::core::web {

class template_renderer {
public:
  // Loads every *.mustache of the folders (earlier folders win). Throws std::runtime_error naming
  // the file when a template cannot be read or does not parse, so a broken template is a start-up error.
  explicit template_renderer(const std::vector<std::filesystem::path>& dirs);
  ~template_renderer();

  // Renders `page` inside the layout. nullopt when the page is unknown or rendering failed.
  std::optional<std::string> render(const std::string& page, const nlohmann::json& data) const;
  bool has(const std::string& page) const { return texts_.count(page) != 0; }

  // The folder shipped with the sources (compile-time default).
  static std::filesystem::path default_dir();

private:
  // Each page is the layout with header, footer and the page's content put in its partial tags,
  // parsed once and then rendered from a pool: parsing the four templates at every render was the
  // largest cost of a login. A kainjow template is not safe to render from two threads at once,
  // hence a pool rather than one shared object.
  struct parsed;
  std::unique_ptr<parsed> take(const std::string& page) const;
  void give_back(const std::string& page, std::unique_ptr<parsed> t) const;

  std::map<std::string, std::string> texts_;
  std::map<std::string, std::string> composed_;  // page -> layout with its partials in place
  mutable std::mutex pool_mutex_;
  mutable std::map<std::string, std::vector<std::unique_ptr<parsed>>> pool_;
};

}  // namespace hubd::core::web
