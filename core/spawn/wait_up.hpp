#pragma once
// Readiness wait for a freshly started server: GET <url> without following
// redirects, with backoff, until any status below 500 answers or http_timeout passes. Between tries the
// caller's `alive` check (the spawner's poll) lets a crashed server fail the wait at once.
#include "core/http/client.hpp"
#include "core/http/io_pool.hpp"

#include <chrono>
#include <functional>
#include <optional>
#include <string>

namespace hubd::core::spawn {

struct wait_up_result {
  bool ready = false;
  int status = 0;                        // the answering status when ready
  std::optional<std::string> version;    // X-JupyterHub-Version of the answer, if any
  std::string error;                     // why not ready ("never answered within 30 s: ...", "exited ...")
};

// alive(cb): asks whether the server still runs; cb(std::nullopt) when it does, cb("why not") otherwise.
using alive_check = std::function<void(std::function<void(std::optional<std::string>)>)>;

// done runs exactly once on an io thread.
void wait_up(http::io_pool& pool, http::client& client, std::string url, std::chrono::milliseconds timeout,
             alive_check alive, std::function<void(wait_up_result)> done);

}  // namespace hubd::core::spawn
