#pragma once
// /hub/static/... and /hub/logo: files read into memory once at start-up (the folder is small and
// ships with hubd), served with an ETag, and cached for a year when the URL carries ?v=.
#include "core/http/router.hpp"

#include <filesystem>
#include <map>
#include <string>

namespace hubd::core::web {

class static_files {
public:
  // Reads every regular file under `dir` (symlinks leaving the folder are skipped).
  explicit static_files(const std::filesystem::path& dir);

  // `rel` is the decoded path under the folder. 404 for anything unknown, including "..",
  // absolute paths, backslashes and hidden files.
  http::response serve(const http::request& req, const std::string& rel) const;
  std::size_t size() const { return files_.size(); }

private:
  struct file {
    std::string body;
    std::string type;
    std::string etag;
  };
  std::map<std::string, file, std::less<>> files_;
};

std::string content_type_for(const std::filesystem::path& p);

}  // namespace hubd::core::web
