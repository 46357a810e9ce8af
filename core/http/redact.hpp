#pragma once
// Secrets never reach the logs: URL redaction for access-log lines.
#include <string>
#include <string_view>

namespace hubd::core::http {

// Appends `target` to `out` with secrets replaced by "[secret]": the last path segment of
// `/api/authorizations/token/<t>` and `/api/authorizations/cookie/<name>/<v>`, and the value of
// every query argument whose name contains token, auth, key, code, state or _xsrf (as JupyterHub).
void append_redacted_target(std::string_view target, std::string& out);
std::string redact_target(std::string_view target);

}  // namespace hubd::core::http
