#pragma once
// Test-side rendering of the page templates, the way the web handlers are meant to do it
// (core/web/TEMPLATES.md): JSON data converted to kainjow data, page.mustache as the layout with
// the header, footer and page body as partials.
#include <kainjow/mustache.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

namespace hubd::tests::web {

namespace mustache = kainjow::mustache;

// kainjow has no number type and treats "" as true in sections, so numbers become strings and
// null or "" become false: `{{#x}}` then means "x is set" for every type.
inline mustache::data to_data(const nlohmann::json& j) {
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

inline std::string read_text(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + file.string());
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The partials every page uses; `content` is the page's own template.
inline void add_partials(mustache::data& d, const std::filesystem::path& dir, const std::string& page) {
  d.set("header", read_text(dir / "header.mustache"));
  d.set("footer", read_text(dir / "footer.mustache"));
  d.set("content", read_text(dir / (page + ".mustache")));
}

struct rendered {
  std::string html;
  std::string error;  // empty when the template parsed and rendered
};

inline rendered render_page(const std::filesystem::path& dir, const std::string& page, const nlohmann::json& data) {
  mustache::mustache tmpl{read_text(dir / "page.mustache")};
  if (!tmpl.is_valid()) return {"", tmpl.error_message()};
  auto d = to_data(data);
  add_partials(d, dir, page);
  auto html = tmpl.render(d);
  if (!tmpl.error_message().empty()) return {"", tmpl.error_message()};
  return {html, ""};
}

// common.json overlaid with <page>.json (top-level keys of the page file win).
inline nlohmann::json sample_data(const std::filesystem::path& samples, const std::string& page) {
  auto data = nlohmann::json::parse(read_text(samples / "common.json"));
  data.update(nlohmann::json::parse(read_text(samples / (page + ".json"))));
  return data;
}

}  // namespace hubd::tests::web
