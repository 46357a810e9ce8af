#include "core/web/static_files.hpp"

#include <sodium.h>
#include <spdlog/spdlog.h>

#include <fstream>
#include <sstream>

namespace hubd::core::web {

std::string content_type_for(const std::filesystem::path& p) {
  static const std::map<std::string, std::string, std::less<>> types{
      {".css", "text/css; charset=UTF-8"},     {".js", "application/javascript; charset=UTF-8"},
      {".svg", "image/svg+xml"},               {".png", "image/png"},
      {".ico", "image/x-icon"},                {".html", "text/html; charset=UTF-8"},
      {".json", "application/json"},           {".woff2", "font/woff2"},
      {".txt", "text/plain; charset=UTF-8"},   {".map", "application/json"},
      {".jpg", "image/jpeg"},                  {".gif", "image/gif"}};
  auto it = types.find(p.extension().string());
  return it == types.end() ? "application/octet-stream" : it->second;
}

static_files::static_files(const std::filesystem::path& dir) {
  std::error_code ec;
  auto root = std::filesystem::weakly_canonical(dir, ec);
  if (ec || !std::filesystem::is_directory(root, ec)) {
    spdlog::warn("pages: static folder {} not found; /hub/static/ will answer 404", dir.string());
    return;
  }
  for (auto it = std::filesystem::recursive_directory_iterator(root, ec); !ec && it != std::filesystem::end(it);
       it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    auto real = std::filesystem::weakly_canonical(it->path(), ec);
    auto rel = real.lexically_relative(root);
    if (ec || rel.empty() || *rel.begin() == "..") continue;
    std::ifstream in(real, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    file f;
    f.body = s.str();
    f.type = content_type_for(real);
    unsigned char h[crypto_generichash_BYTES_MIN];
    crypto_generichash(h, sizeof h, reinterpret_cast<const unsigned char*>(f.body.data()), f.body.size(), nullptr, 0);
    static const char* hex = "0123456789abcdef";
    f.etag = "\"";
    for (unsigned char c : h) {
      f.etag.push_back(hex[c >> 4]);
      f.etag.push_back(hex[c & 15]);
    }
    f.etag += "\"";
    files_.emplace(rel.generic_string(), std::move(f));
  }
}

http::response static_files::serve(const http::request& req, const std::string& rel) const {
  // Only exact names that were loaded can match, so "..", "//" or "\" never reach the disk.
  auto it = files_.find(rel);
  if (it == files_.end()) return http::error_response(404);
  const auto& f = it->second;
  http::response r;
  r.set_header("Content-Type", f.type);
  r.set_header("ETag", f.etag);
  r.set_header("Cache-Control", req.query_arg("v") ? "public, max-age=31536000, immutable" : "no-cache");
  if (auto inm = req.header("if-none-match"); inm && *inm == f.etag) {
    r.status = 304;
    return r;
  }
  r.status = 200;
  if (req.method != "HEAD") r.body = f.body;
  return r;
}

}  // namespace hubd::core::web
