// body_stream: the queue between a producer of chunks and the server that writes them.
#include "core/http/body_stream.hpp"

#include <catch2/catch.hpp>

#include <thread>
#include <vector>

using hubd::core::http::body_stream;

TEST_CASE("body_stream hands out queued chunks, then waits, then ends", "[http][stream]") {
  body_stream s;
  s.push("a");
  s.push("");  // an empty chunk would end a chunked body: dropped
  s.push("b");
  std::vector<std::string> got;
  auto take = [&](std::optional<std::string> c) { got.push_back(c ? *c : std::string("<end>")); };
  s.next(take);
  s.next(take);
  CHECK(got == std::vector<std::string>{"a", "b"});
  s.next(take);  // nothing queued: waits
  CHECK(got.size() == 2);
  s.push("c");  // delivered to the waiting pull
  CHECK(got.back() == "c");
  s.push("d");
  s.close();
  s.push("ignored after close");
  s.next(take);
  s.next(take);
  CHECK(got == std::vector<std::string>{"a", "b", "c", "d", "<end>"});
  CHECK(s.closed());
}

TEST_CASE("body_stream: close wakes a waiting pull; pushes from another thread", "[http][stream]") {
  body_stream s;
  std::string all;
  bool ended = false;
  std::function<void(std::optional<std::string>)> pull = [&](std::optional<std::string> c) {
    if (!c) {
      ended = true;
      return;
    }
    all += *c;
    s.next(pull);
  };
  s.next(pull);
  std::thread producer([&] {
    for (int i = 0; i < 100; ++i) s.push(std::to_string(i % 10));
    s.close();
  });
  producer.join();
  CHECK(ended);
  CHECK(all.size() == 100);
}
