#include "core/store/batch_writer.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <future>
#include <mutex>
#include <thread>

using namespace hubd::core::store;

namespace {
// Records every commit; can be told to fail, and to hold a commit until released.
class recording_store : public store {
public:
  result<snapshot> load() override { return snapshot{}; }
  status commit(std::span<const change> changes) override {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [&] { return !hold_; });
    batches.push_back(changes.size());
    if (fail_next) {
      fail_next = false;
      return make_error(errc::disk_full, "disk full (simulated)");
    }
    committed += changes.size();
    return {};
  }
  std::string describe() const override { return "recording"; }
  void hold(bool h) {
    std::lock_guard lock(mutex_);
    hold_ = h;
    cv_.notify_all();
  }
  std::vector<std::size_t> batches;
  std::size_t committed = 0;
  bool fail_next = false;

private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool hold_ = false;
};

std::vector<change> one_user(std::int64_t id) {
  user_row u;
  u.id = id;
  return {u};
}
}  // namespace

TEST_CASE("completions fire after the commit, in submission order, and batches group concurrent changes") {
  recording_store s;
  batch_writer w(s);
  s.hold(true);  // the first commit waits, so the rest pile up behind it
  std::vector<int> order;
  std::mutex m;
  for (int i = 0; i < 50; ++i)
    w.submit(one_user(i), [&, i](const status& st) {
      REQUIRE(st);
      std::lock_guard lock(m);
      order.push_back(i);
    });
  s.hold(false);
  REQUIRE(w.flush());
  REQUIRE(order.size() == 50);
  for (int i = 0; i < 50; ++i) CHECK(order[i] == i);
  CHECK(s.committed == 50);
  CHECK(s.batches.size() < 50);  // grouped
  CHECK(w.get_stats().largest_batch > 1);
}

TEST_CASE("a failed commit reports the error to each change of the batch and calls the failure handler") {
  recording_store s;
  batch_writer w(s);
  std::atomic<int> handler_calls{0};
  w.set_failure_handler([&](const error& e) {
    CHECK(e.code == errc::disk_full);
    ++handler_calls;
  });
  s.fail_next = true;
  std::promise<status> p;
  w.submit(one_user(1), [&](const status& st) { p.set_value(st); });
  auto st = p.get_future().get();
  REQUIRE_FALSE(st);
  CHECK(st.err().code == errc::disk_full);
  CHECK(handler_calls == 1);
  REQUIRE(w.flush());  // the writer keeps going
}

TEST_CASE("after stop, submissions complete at once with a closed error") {
  recording_store s;
  batch_writer w(s);
  w.submit(one_user(1), {});
  w.stop();
  CHECK(s.committed == 1);  // stop drains first
  bool called = false;
  w.submit(one_user(2), [&](const status& st) {
    called = true;
    CHECK(st.err().code == errc::closed);
  });
  CHECK(called);
}
