#include "core/web/templates.hpp"

#include "core/plugins/install_layout.hpp"

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
  for (const auto& [name, text] : texts_) {
    std::string page = texts_.at("page");
    const std::pair<const char*, std::string> partials[] = {
        {"header", texts_.count("header") ? texts_.at("header") : std::string()},
        {"footer", texts_.count("footer") ? texts_.at("footer") : std::string()},
        {"content", text}};
    for (const auto& [partial, body] : partials) {
      // The tag alone is replaced, its line ending kept: kainjow renders a partial that way, and the
      // pages stay byte for byte what rendering the partials one by one gives (web_templates test).
      for (std::string tag : {std::string("{{> ") + partial + "}}", std::string("{{>") + partial + "}}"})
        for (auto at = page.find(tag); at != std::string::npos; at = page.find(tag, at + body.size()))
          page.replace(at, tag.size(), body);
    }
    mustache::mustache check{page};
    if (!check.is_valid()) throw std::runtime_error("template " + name + " inside the layout: " + check.error_message());
    composed_.emplace(name, std::move(page));
  }
}

struct template_renderer::parsed {
  explicit parsed(const std::string& text) : tmpl(text) {}
  mustache::mustache tmpl;
};

std::unique_ptr<template_renderer::parsed> template_renderer::take(const std::string& page) const {
  {
    std::lock_guard lock(pool_mutex_);
    auto& free = pool_[page];
    if (!free.empty()) {
      auto t = std::move(free.back());
      free.pop_back();
      return t;
    }
  }
  return std::make_unique<parsed>(composed_.at(page));
}

void template_renderer::give_back(const std::string& page, std::unique_ptr<parsed> t) const {
  std::lock_guard lock(pool_mutex_);
  pool_[page].push_back(std::move(t));
}

template_renderer::~template_renderer() = default;

std::optional<std::string> template_renderer::render(const std::string& page, const nlohmann::json& data) const {
  if (!composed_.count(page)) return std::nullopt;
  auto t = take(page);
  auto html = t->tmpl.render(to_data(data));
  bool failed = !t->tmpl.error_message().empty();
  if (!failed) give_back(page, std::move(t));  // a template that failed keeps its error: drop it
  if (failed) return std::nullopt;
  return html;
}

std::filesystem::path template_renderer::default_dir() { return plugins::shipped_data_dir() / "templates"; }

}  // namespace hubd::core::web
