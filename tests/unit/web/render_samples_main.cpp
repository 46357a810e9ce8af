// web_render_samples OUT_DIR: every page rendered with its sample data, as OUT_DIR/<page>.html.
#include "tests/unit/web/render.hpp"

#include <iostream>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: web_render_samples OUT_DIR\n";
    return 2;
  }
  namespace fs = std::filesystem;
  const fs::path out = argv[1];
  fs::create_directories(out);
  int failures = 0;
  for (const auto& entry : fs::directory_iterator(HUBD_WEB_SAMPLES_DIR)) {
    const auto page = entry.path().stem().string();
    if (page == "common") continue;
    try {
      const auto r = hubd::tests::web::render_page(HUBD_WEB_TEMPLATES_DIR, page,
                                                   hubd::tests::web::sample_data(HUBD_WEB_SAMPLES_DIR, page));
      if (!r.error.empty()) throw std::runtime_error(r.error);
      std::ofstream(out / (page + ".html"), std::ios::binary) << r.html;
    } catch (const std::exception& e) {
      std::cerr << page << ": " << e.what() << "\n";
      ++failures;
    }
  }
  return failures == 0 ? 0 : 1;
}
