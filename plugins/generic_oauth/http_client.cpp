#include "http_client.hpp"

#include <curl/curl.h>

#include <memory>
#include <mutex>
#include <vector>

namespace generic_oauth {
namespace {

struct body_sink {
  std::string body;
  bool too_large = false;
};

size_t on_body(char* data, size_t size, size_t count, void* user) {
  auto* sink = static_cast<body_sink*>(user);
  size_t n = size * count;
  if (sink->body.size() + n > max_response_body) {
    sink->too_large = true;
    return 0;  // aborts the transfer
  }
  sink->body.append(data, n);
  return n;
}

// Easy handles are reused, so curl keeps its connections to the provider alive between logins. They
// live in the plugin's own list rather than in thread_local storage: the library is unloaded after
// deinit, while hubd's pool threads may live on.
struct idle_list {
  std::mutex mutex;
  std::vector<CURL*> handles;
};
// Never destroyed, so clean-up may run from any static destructor (a test's) in any order.
idle_list& idle() {
  static auto* list = new idle_list;
  return *list;
}
constexpr std::size_t max_idle = 16;

CURL* acquire() {
  {
    auto& l = idle();
    std::lock_guard lock(l.mutex);
    if (!l.handles.empty()) {
      CURL* c = l.handles.back();
      l.handles.pop_back();
      return c;
    }
  }
  return curl_easy_init();
}

void release(CURL* c) {
  {
    auto& l = idle();
    std::lock_guard lock(l.mutex);
    if (l.handles.size() < max_idle) {
      l.handles.push_back(c);
      return;
    }
  }
  curl_easy_cleanup(c);
}

}  // namespace

bool http_global_init() { return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK; }

void http_global_cleanup() {
  {
    auto& l = idle();
    std::lock_guard lock(l.mutex);
    for (CURL* c : l.handles) curl_easy_cleanup(c);
    l.handles.clear();
  }
  curl_global_cleanup();
}

http_response http_fetch(const http_request& req) {
  http_response out;
  std::unique_ptr<CURL, void (*)(CURL*)> handle(acquire(), &release);
  CURL* c = handle.get();
  if (!c) {
    out.error = "libcurl could not be initialised";
    return out;
  }
  curl_easy_reset(c);
  body_sink sink;
  curl_slist* headers = nullptr;
  for (const auto& h : req.headers) headers = curl_slist_append(headers, h.c_str());
  curl_easy_setopt(c, CURLOPT_URL, req.url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(req.connect_timeout.count()));
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(req.total_timeout.count()));
  curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(max_response_body));
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, req.verify_tls ? 1L : 0L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, req.verify_tls ? 2L : 0L);
  curl_easy_setopt(c, CURLOPT_USERAGENT, "hubd-generic-oauth");
  curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  if (req.method == "POST") {
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, req.body.c_str());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
  } else if (req.method != "GET") {
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req.method.c_str());
  }
  CURLcode rc = curl_easy_perform(c);
  curl_slist_free_all(headers);
  if (sink.too_large || rc == CURLE_FILESIZE_EXCEEDED) {
    out.error = "the answer is larger than " + std::to_string(max_response_body) + " bytes";
  } else if (rc == CURLE_OPERATION_TIMEDOUT) {
    out.error = "no complete answer within " + std::to_string(req.total_timeout.count()) + " ms";
  } else if (rc != CURLE_OK) {
    out.error = curl_easy_strerror(rc);
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out.status);
  char* type = nullptr;
  if (curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &type) == CURLE_OK && type) out.content_type = type;
  out.body = std::move(sink.body);
  return out;
}

}  // namespace generic_oauth
