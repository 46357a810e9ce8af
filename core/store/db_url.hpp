#pragma once
// JupyterHub.db_url: "sqlite:///relative/path.sqlite" (relative to `base_dir`, the config file's
// folder) or "sqlite:////absolute/path.sqlite", as SQLAlchemy spells them.
#include "core/store/result.hpp"

#include <filesystem>
#include <string_view>

namespace hubd::core::store {

result<std::filesystem::path> sqlite_path_from_url(std::string_view db_url, const std::filesystem::path& base_dir);

}  // namespace hubd::core::store
