#pragma once
// Internal to core/plugins: the only place (with its .cpp files) that sees ABI structs. The rest of
// core uses the adapters and never includes this header.
#include "hubd/plugin.h"

#include "core/plugins/detail/completion.hpp"
#include "core/plugins/op_result.hpp"
#include "core/plugins/plugin_host.hpp"
#include "core/plugins/plugin_kind.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/dll/shared_library.hpp>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace hubd::core::plugins::detail {

// A loaded library. It is never unloaded while anything that came from it is alive: plugin records
// and instances hold it, and its destructor runs deinit before the dlclose.
struct library {
  std::filesystem::path file;
  boost::dll::shared_library lib;
  hubd_plugin_entry entry{};  // zero-extended copy of the plugin's entry
  bool initialized = false;
  ~library();
};

// One registered plugin: its descriptor fields and its vtable, copied into a zeroed full-size local
// so that slots beyond the plugin's struct_size read as NULL.
struct plugin_record {
  std::shared_ptr<library> lib;
  plugin_kind kind = plugin_kind::authenticator;
  std::string name;
  std::string version;
  std::string description;
  hubd_authenticator_vtbl auth{};
  hubd_spawner_vtbl spawner{};
  hubd_hooks_vtbl hooks{};
  std::vector<std::string> hook_points;

  uint32_t flags() const;
  hubd_plugin_obj* (*create_fn() const)(hubd_host_obj*, hubd_str, hubd_sink*);
  void (*destroy_fn() const)(hubd_plugin_obj*);
  void (*cancel_fn() const)(hubd_plugin_obj*, hubd_op*);
  void (*event_fn() const)(hubd_plugin_obj*, hubd_host_obj*, uint64_t);
};

// What the host keeps of a [plugins.NAME] section; `config` is the rest, handed to create().
struct instance_options {
  nlohmann::json config = nlohmann::json::object();
  std::chrono::milliseconds timeout{10000};
  std::vector<std::string> roles;
};
instance_options split_section(const nlohmann::json& section);

class host_core;

class instance : public std::enable_shared_from_this<instance> {
public:
  instance(std::shared_ptr<host_core> host, std::shared_ptr<const plugin_record> plugin, instance_options options);
  ~instance();
  instance(const instance&) = delete;
  instance& operator=(const instance&) = delete;

  hubd_host_obj* handle() const { return reinterpret_cast<hubd_host_obj*>(static_cast<uintptr_t>(id_)); }
  const plugin_record& plugin() const { return *plugin_; }
  const instance_options& options() const { return options_; }
  host_core& host() const { return *host_; }
  hubd_plugin_obj* obj() const { return obj_; }
  void set_obj(hubd_plugin_obj* obj) { obj_ = obj; }

  // Runs fn on the pool, serialized with every other call into this instance unless it is
  // HUBD_FLAG_CONCURRENT. Returns false when the host is shutting down (fn is not run).
  bool run(std::function<void()> fn);

  // Starts an op: invoke(op) runs on the pool; on_done gets the validated result on the completion
  // thread, exactly once (result, timeout, or cancelled at shutdown).
  void start_op(std::string op_name, std::function<void(hubd_op*)> invoke, result_validator validate,
                op_callback on_done, progress_callback on_progress = {},
                std::optional<std::chrono::milliseconds> timeout = std::nullopt);

private:
  std::shared_ptr<host_core> host_;
  std::shared_ptr<const plugin_record> plugin_;
  instance_options options_;
  uint64_t id_;
  hubd_plugin_obj* obj_ = nullptr;
  boost::asio::strand<boost::asio::thread_pool::executor_type> strand_;
};

// A pending op. Lives in the global op table from start until completion (or, after a timeout,
// until the late completion or shutdown).
struct op_state {
  uint64_t id = 0;
  std::shared_ptr<instance> inst;
  std::string op_name;
  result_validator validate;
  op_callback on_done;
  progress_callback on_progress;
  bool timed_out = false;
  std::unique_ptr<boost::asio::steady_timer> timer;
};

class host_core : public std::enable_shared_from_this<host_core> {
public:
  explicit host_core(unsigned threads);
  ~host_core();

  // Posts to the completion thread. Never runs fn inline.
  void post_completion(std::function<void()> fn);
  // False when stopping (nothing posted).
  bool post_pool(std::function<void()> fn);
  bool post_serialized(boost::asio::strand<boost::asio::thread_pool::executor_type>& strand, std::function<void()> fn);
  void shutdown();
  bool stopping() const;

  boost::asio::thread_pool pool_;
  boost::asio::io_context completion_io_;

  mutable std::mutex mu_;
  api_handler api_;
  nlohmann::json scopes_ = nlohmann::json::object();
  std::map<std::string, std::string> scope_plugins_;  // custom scope -> the plugin that registered it
  bool scopes_open_ = true;

  std::atomic<uint64_t> completed_{0}, timeouts_{0}, late_{0}, misbehaving_{0};

private:
  bool stopping_ = false;  // guarded by mu_
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::thread completion_thread_;
};

// The one host table every plugin gets.
const hubd_host* host_table();

// Creates an instance on the pool and calls create(); on_done gets it or the error message.
void create_instance(const std::shared_ptr<host_core>& host, std::shared_ptr<const plugin_record> plugin,
                     const nlohmann::json& section,
                     std::function<void(std::shared_ptr<instance>, std::string error)> on_done);

// Starts op `fn` with `input`; a NULL fn completes (asynchronously) as failed "not implemented".
void call_op(const std::shared_ptr<instance>& inst, std::string op_name, hubd_op_fn fn, const nlohmann::json& input,
             result_validator validate, op_callback done, progress_callback progress = {},
             std::optional<std::chrono::milliseconds> timeout = std::nullopt);

// A host sink appending into out (bounded).
hubd_sink make_sink(std::string& out);


}  // namespace hubd::core::plugins::detail
