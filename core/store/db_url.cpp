#include "core/store/db_url.hpp"

#include <string>

namespace hubd::core::store {

result<std::filesystem::path> sqlite_path_from_url(std::string_view db_url, const std::filesystem::path& base_dir) {
  constexpr std::string_view prefix = "sqlite:///";
  if (db_url.substr(0, prefix.size()) != prefix) {
    const auto colon = db_url.find(':');
    return make_error(errc::invalid, "JupyterHub.db_url: '" +
                                         std::string(colon == std::string_view::npos ? db_url : db_url.substr(0, colon)) +
                                         "' is not supported; this build stores its state in SQLite (sqlite:///path)");
  }
  std::string_view rest = db_url.substr(prefix.size());
  const auto query = rest.find('?');
  if (query != std::string_view::npos) rest = rest.substr(0, query);
  if (rest.empty() || rest == ":memory:")
    return make_error(errc::invalid, "JupyterHub.db_url: an in-memory database would lose every change at exit; name a file");
  std::filesystem::path p{std::string(rest)};
  if (p.is_relative()) p = base_dir / p;
  return p.lexically_normal();
}

}  // namespace hubd::core::store
