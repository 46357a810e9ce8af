#pragma once
// The cookie signing secret, loaded as JupyterHub does: JPY_COOKIE_SECRET (hex) wins; otherwise
// JupyterHub.cookie_secret_file (hex, or legacy base64); a missing file is created with 32 random
// bytes (hex + newline) and mode 0600; a file readable or writable by "other" is refused.
#include "core/store/result.hpp"

#include <filesystem>
#include <string>

namespace hubd::core::store {

struct cookie_secret {
  std::string secret;  // raw bytes
  std::string from;    // "env", "file" or "new"
  bool group_accessible = false;  // file mode has group bits: worth a warning
};

// `env_value` is the value of JPY_COOKIE_SECRET or nullptr when unset.
result<cookie_secret> load_cookie_secret(const std::filesystem::path& file, const char* env_value);
// Same, reading JPY_COOKIE_SECRET from the environment.
result<cookie_secret> load_cookie_secret(const std::filesystem::path& file);

}  // namespace hubd::core::store
