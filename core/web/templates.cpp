#include "core/web/templates.hpp"

#include <kainjow/mustache.hpp>

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace hubd::core::web {
namespace {

namespace mustache = kainjow::mustache;

// kainjow has no number type and treats "" as true in sections, so numbers become strings and
// null or "" become false: `{{#x}}` then means "x is set" whatever its type (TEMPLATES.md).
mustache::data to_data(const nlohmann::json& j) {
  switch (j.type()) {
    case nlohmann::json::value_t::object: {
      mustache::data d{mustache::data::type::object};
      for (const auto& [key, value] : j.items()) d.set(key, to_data(value));
      return d;
    }
    case nlohmann::json::value_t::array: {
      mustache::data d{mustache::data::type::list};
      for (const auto& value : j) d.push_back(to_data(value));
      return d;
    }
    case nlohmann::json::value_t::string: {
      const auto& s = j.get_ref<const std::string&>();
      return s.empty() ? mustache::data{false} : mustache::data{s};
    }
    case nlohmann::json::value_t::boolean:
      return mustache::data{j.get<bool>()};
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned:
    case nlohmann::json::value_t::number_float:
      return mustache::data{j.dump()};
    default:
      return mustache::data{false};
  }
}

std::string read_text(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read template " + file.string());
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

template_renderer::template_renderer(const std::vector<std::filesystem::path>& dirs) {
  for (const auto& dir : dirs) {
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec)) continue;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
      if (entry.path().extension() != ".mustache") continue;
      auto name = entry.path().stem().string();
      if (texts_.count(name)) continue;
      auto text = read_text(entry.path());
      mustache::mustache check{text};
      if (!check.is_valid()) throw std::runtime_error("template " + entry.path().string() + ": " + check.error_message());
      texts_.emplace(std::move(name), std::move(text));
    }
  }
  if (!texts_.count("page")) throw std::runtime_error("no page.mustache layout in the template folders");
}

std::optional<std::string> template_renderer::render(const std::string& page, const nlohmann::json& data) const {
  auto content = texts_.find(page);
  if (content == texts_.end()) return std::nullopt;
  mustache::mustache layout{texts_.at("page")};
  auto d = to_data(data);
  for (const char* partial : {"header", "footer"}) {
    auto it = texts_.find(partial);
    d.set(partial, it == texts_.end() ? std::string() : it->second);
  }
  d.set("content", content->second);
  auto html = layout.render(d);
  if (!layout.error_message().empty()) return std::nullopt;
  return html;
}

std::filesystem::path template_renderer::default_dir() { return HUBD_WEB_TEMPLATES_DIR; }

}  // namespace hubd::core::web
