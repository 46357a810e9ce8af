#pragma once
// The executor of one server's lifecycle: a strand on the io_context on which the state machine
// receives its events and the actions it returns are performed (model changes, plugin and proxy
// calls, timers, answers, progress streams). Every completion, whatever thread it arrives on, comes
// back to the strand as an event, so the machine never needs a lock of its own.
#include "core/spawn/lifecycle.hpp"
#include "core/spawn/server_table.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>

#include <map>
#include <memory>

namespace hubd::core::http {
class body_stream;
}
namespace hubd::core::plugins {
class spawner_adapter;
}

namespace hubd::core::spawn {

class spawn_flow : public std::enable_shared_from_this<spawn_flow> {
public:
  spawn_flow(std::shared_ptr<spawn_env> env, server_key key, lifecycle machine);

  // user_options of the spawn about to be requested (before request(event::start)).
  void set_options(nlohmann::json options) { options_ = std::move(options); }
  // What the database recorded at the last run (before the adoption pass): the spawner's state,
  // whether the server was ready, its target.
  void set_saved_record(nlohmann::json state, bool was_ready, std::string target);
  // The adoption pass for a claimed server.
  void adopt();

  // An event that someone waits on (a start or a stop): `done` gets its answer.
  void request(event e, answer_callback done);
  // An event nobody waits on (cancel, exit, adoption).
  void post(event e);
  void progress(progress_callback done);
  void close_streams();
  // The poll timer's check: a server that exited on its own gets an `exited` event.
  void poll_exit();

  const server_key& key() const { return key_; }

private:
  void feed(const event& e);
  void perform(const action& a);
  void publish();
  std::string who() const;
  void make_token();
  void register_client();
  void run_pre_spawn(std::size_t index);
  void create_spawner();
  void start_process(std::chrono::milliseconds timeout);
  void wait_up(const std::string& url, std::chrono::milliseconds timeout);
  void add_route();
  void record_ready(const nlohmann::json& state, const std::string& url);
  void clear_record(bool remove, bool failed, const std::string& message);
  void delete_record();
  void run_post_stop();
  void stop_process(bool now, std::chrono::milliseconds timeout);
  nlohmann::json spawner_context() const;
  template <class F>
  void on_strand(F&& f);

  std::shared_ptr<spawn_env> env_;
  server_key key_;
  lifecycle machine_;
  boost::asio::strand<boost::asio::io_context::executor_type> strand_;
  int next_waiter_ = 1;
  std::map<int, answer_callback> waiters_;
  std::vector<std::shared_ptr<http::body_stream>> listeners_;  // open progress streams
  std::shared_ptr<plugins::spawner_adapter> spawner_;
  nlohmann::json options_ = nlohmann::json::object();
  nlohmann::json saved_state_ = nlohmann::json::object();
  bool saved_ready_ = false;
  std::string saved_target_;
  nlohmann::json context_;  // what the spawner's start receives, patched by each pre_spawn step
  std::string secret_;      // the server token
};

}  // namespace hubd::core::spawn
