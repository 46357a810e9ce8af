// Store benchmarks (a timed program; figures go to bench/README-store.md).
//   store_bench load DIR     start-up with 100,000 users, 10,000 groups, 200,000 tokens
//   store_bench create DIR   10,000 single-user creations from 16 threads, durable before acknowledged
#include "core/model/hub_model.hpp"
#include "core/store/crypto.hpp"
#include "core/store/sqlite_store.hpp"

#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>

using namespace hubd::core;
using clock_type = std::chrono::steady_clock;

namespace {

long status_kb(const char* key) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(key, 0) == 0) return std::stol(line.substr(std::string(key).size()));
  return -1;
}

double seconds_since(clock_type::time_point t) { return std::chrono::duration<double>(clock_type::now() - t).count(); }

int load_bench(const std::filesystem::path& dir) {
  const auto file = dir / "load.sqlite";
  std::filesystem::remove(file);
  {
    auto s = std::move(store::sqlite_store::open(file).value());
    std::vector<store::change> batch;
    const auto t0 = store::time_point(std::chrono::seconds(1700000000));
    for (std::int64_t g = 1; g <= 10000; ++g) batch.push_back(store::group_row{g, "group" + std::to_string(g), "{}"});
    for (std::int64_t u = 1; u <= 100000; ++u) {
      store::user_row r;
      r.id = u, r.name = "user" + std::to_string(u), r.created = t0, r.cookie_id = store::generate_token();
      batch.push_back(std::move(r));
      batch.push_back(store::membership_row{u, 1 + u % 10000, "api"});
    }
    for (std::int64_t t = 1; t <= 200000; ++t) {
      store::token_row r;
      const auto secret = store::generate_token();
      r.id = t, r.digest = store::token_digest(secret), r.prefix = secret.substr(0, 4), r.user_id = 1 + t % 100000;
      r.scopes = {"inherit"}, r.created = t0, r.note = "bench";
      batch.push_back(std::move(r));
    }
    if (auto st = s->commit(batch); !st) {
      std::fprintf(stderr, "%s\n", st.err().message.c_str());
      return 1;
    }
  }
  const long rss_before = status_kb("VmRSS:");
  const auto start = clock_type::now();
  auto db = store::sqlite_store::open(file);
  auto m = model::hub_model::open(std::move(db.value()));
  if (!m) return 1;
  const double secs = seconds_since(start);
  std::printf("load: %zu users, %zu groups, %zu tokens in %.3f s; RSS %ld MiB (before load %ld MiB, peak %ld MiB); "
              "file %.1f MiB\n",
              m.value()->user_count(), m.value()->group_count(), m.value()->token_count(), secs,
              status_kb("VmRSS:") / 1024, rss_before / 1024, status_kb("VmHWM:") / 1024,
              std::filesystem::file_size(file) / 1048576.0);
  return secs <= 2.0 ? 0 : 3;
}

int create_bench(const std::filesystem::path& dir) {
  constexpr int total = 10000, threads = 16;
  for (const bool blocking : {false, true}) {
    const auto file = dir / "create.sqlite";
    std::filesystem::remove(file);
    std::filesystem::remove(file.string() + "-wal");
    std::filesystem::remove(file.string() + "-shm");
    auto m = std::move(model::hub_model::open(std::move(store::sqlite_store::open(file).value())).value());
    std::atomic<int> acked{0};
    std::mutex mu;
    std::condition_variable cv;
    const auto start = clock_type::now();
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
      pool.emplace_back([&, t] {
        for (int i = t; i < total; i += threads) {
          std::string name = std::to_string(i);  // (not "u" + ...: GCC 12 -Wrestrict false positive at -O2)
          name.insert(0, 1, 'u');
          if (blocking) {
            if (m->wait([&](auto d) { return m->create_user({name}, d); })) ++acked;
          } else {
            m->create_user({name}, [&](const model::status& s) {
              if (s && ++acked == total) {
                std::lock_guard lock(mu);
                cv.notify_all();
              }
            });
          }
        }
      });
    for (auto& th : pool) th.join();
    if (!blocking) {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return acked.load() == total; });
    }
    const double secs = seconds_since(start);
    const auto stats = m->writer_stats();
    std::printf("create (%s): %d users from %d threads in %.3f s = %.0f/s durable; %llu commits, largest batch %llu\n",
                blocking ? "each thread waits for its ack" : "asynchronous submission", acked.load(), threads, secs,
                acked.load() / secs, static_cast<unsigned long long>(stats.batches),
                static_cast<unsigned long long>(stats.largest_batch));
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  spdlog::set_level(spdlog::level::warn);
  if (argc != 3) {
    std::fprintf(stderr, "usage: store_bench load|create DIR\n");
    return 2;
  }
  const std::string what = argv[1];
  std::filesystem::create_directories(argv[2]);
  if (what == "load") return load_bench(argv[2]);
  if (what == "create") return create_bench(argv[2]);
  std::fprintf(stderr, "usage: store_bench load|create DIR\n");
  return 2;
}
