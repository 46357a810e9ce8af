#include "core/plugins/plugin_host.hpp"

#include "core/plugins/detail/host_core.hpp"
#include "core/rbac/scope_table.hpp"

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include <future>
#include <regex>
#include <unordered_map>

namespace hubd::core::plugins {

namespace detail {
namespace {

thread_local bool on_pool_thread = false;

std::string_view view(hubd_str s) { return s.ptr ? std::string_view(s.ptr, s.len) : std::string_view(); }

// Handles given to plugins are ids, not pointers: a stale or repeated handle is detected by lookup
// instead of touching freed memory.
struct handle_tables {
  std::mutex mu;
  uint64_t next_op = 1;
  uint64_t next_instance = 1;
  std::unordered_map<uint64_t, std::shared_ptr<op_state>> ops;
  std::unordered_map<uint64_t, std::weak_ptr<instance>> instances;
  std::atomic<uint64_t> double_completions{0};  // process-wide: a finished op no longer knows its host
};
handle_tables& tables() {
  static handle_tables t;
  return t;
}

uint64_t handle_id(const void* p) { return static_cast<uint64_t>(reinterpret_cast<uintptr_t>(p)); }
hubd_op* op_handle(uint64_t id) { return reinterpret_cast<hubd_op*>(static_cast<uintptr_t>(id)); }

std::shared_ptr<instance> find_instance(hubd_host_obj* obj) {
  auto& t = tables();
  std::lock_guard lock(t.mu);
  auto it = t.instances.find(handle_id(obj));
  return it == t.instances.end() ? nullptr : it->second.lock();
}

struct pool_scope {
  bool saved = on_pool_thread;
  pool_scope() { on_pool_thread = true; }
  ~pool_scope() { on_pool_thread = saved; }
};

}  // namespace

hubd_sink make_sink(std::string& out) {
  return hubd_sink{&out, [](void* ctx, hubd_str piece) {
                     auto* s = static_cast<std::string*>(ctx);
                     if (s->size() + piece.len <= max_plugin_json) s->append(view(piece));
                   }};
}

namespace {

// Runs on the completion thread: parse, validate, deliver.
void deliver(const std::shared_ptr<op_state>& op, hubd_status status, const std::string& text) {
  if (op->timer) op->timer->cancel();
  const auto& plugin = op->inst->plugin();
  op_result r = read_completion(status, text, op->validate, plugin.name, op->op_name);
  if (r.status == op_status::misbehaving) {
    op->inst->host().misbehaving_++;
    spdlog::error("plugin-misbehaving: {} (file {})", r.message, plugin.lib->file.string());
  }
  op->inst->host().completed_++;
  if (op->on_done) op->on_done(std::move(r));
}

void on_timeout(uint64_t id) {
  std::shared_ptr<op_state> op;
  {
    auto& t = tables();
    std::lock_guard lock(t.mu);
    auto it = t.ops.find(id);
    if (it == t.ops.end() || it->second->timed_out) return;
    op = it->second;
    op->timed_out = true;  // stays in the table so the late completion is recognised
  }
  auto& host = op->inst->host();
  host.timeouts_++;
  const auto& plugin = op->inst->plugin();
  spdlog::error("plugin '{}' did not complete {} within {} ms: timed out (file {})", plugin.name, op->op_name,
                op->inst->options().timeout.count(), plugin.lib->file.string());
  op_result r;
  r.status = op_status::timeout;
  r.message = "plugin '" + plugin.name + "' timed out in " + op->op_name;
  auto cb = std::move(op->on_done);
  op->on_done = nullptr;
  op->on_progress = nullptr;
  if (auto cancel = plugin.cancel_fn()) {
    auto inst = op->inst;
    inst->run([inst, cancel, id] { cancel(inst->obj(), op_handle(id)); });
  }
  if (cb) cb(std::move(r));
}

// ---- the host table ----

void host_log(hubd_host_obj* obj, int32_t level, hubd_str msg) {
  std::string who = "plugin";
  if (obj) {
    if (auto inst = find_instance(obj)) who = "plugin '" + inst->plugin().name + "'";
  }
  auto text = view(msg).substr(0, 64 * 1024);
  auto lvl = level >= HUBD_LOG_ERROR     ? spdlog::level::err
             : level >= HUBD_LOG_WARNING ? spdlog::level::warn
             : level >= HUBD_LOG_INFO    ? spdlog::level::info
                                         : spdlog::level::debug;
  spdlog::log(lvl, "{}: {}", who, text);
}

hubd_status host_complete(hubd_op* handle, hubd_status status, hubd_str result) {
  const uint64_t id = handle_id(handle);
  std::shared_ptr<op_state> op;
  {
    auto& t = tables();
    std::lock_guard lock(t.mu);
    auto it = t.ops.find(id);
    if (it == t.ops.end()) {
      bool known = id != 0 && id < t.next_op;
      if (!known) return HUBD_ERR_INVALID;
    } else {
      op = std::move(it->second);
      t.ops.erase(it);
    }
  }
  if (!op) {
    tables().double_completions++;
    // The op is gone: this is a second completion. We cannot tell whose, only count and log it.
    spdlog::error("plugin-misbehaving: op {} completed twice; the second completion is ignored", id);
    return HUBD_ERR_STATE;
  }
  auto& host = op->inst->host();
  if (op->timed_out) {
    host.late_++;
    spdlog::warn("plugin '{}' completed {} after its timeout; the late result is dropped", op->inst->plugin().name,
                 op->op_name);
    return HUBD_ERR_STATE;
  }
  std::string copy(view(result).substr(0, max_plugin_json + 1));
  // The continuation takes our reference: the plugin's thread must never drop the last one, or the
  // instance (and the plugin's destroy) would be torn down on the thread the plugin is completing from.
  host.post_completion([op = std::move(op), status, copy = std::move(copy)] { deliver(op, status, copy); });
  return HUBD_OK;
}

hubd_status host_progress(hubd_op* handle, hubd_str event) {
  std::shared_ptr<op_state> op;
  {
    auto& t = tables();
    std::lock_guard lock(t.mu);
    auto it = t.ops.find(handle_id(handle));
    if (it == t.ops.end() || it->second->timed_out) return HUBD_ERR_STATE;
    op = it->second;
  }
  nlohmann::json ev;
  if (auto err = parse_plugin_json(view(event), ev); !err.empty() || !ev.is_object()) {
    op->inst->host().misbehaving_++;
    spdlog::error("plugin-misbehaving: plugin '{}' sent a malformed progress event for {}: {}", op->inst->plugin().name,
                  op->op_name, err.empty() ? std::string("not a JSON object") : err);
    return HUBD_ERR_INVALID;
  }
  auto cb = op->on_progress;
  if (!cb) return HUBD_OK;
  op->inst->host().post_completion([cb, ev = std::move(ev)]() mutable { cb(std::move(ev)); });
  return HUBD_OK;
}

hubd_status host_post_event(hubd_host_obj* obj, uint64_t event_id) {
  auto inst = find_instance(obj);
  if (!inst) return HUBD_ERR_STATE;  // the instance is gone: dropped
  auto fn = inst->plugin().event_fn();
  if (!fn) return HUBD_ERR_UNSUPPORTED;
  std::weak_ptr<instance> weak = inst;
  if (!inst->run([weak, fn, event_id] {
        if (auto i = weak.lock(); i && i->obj()) fn(i->obj(), i->handle(), event_id);
      }))
    return HUBD_ERR_STATE;
  return HUBD_OK;
}

bool host_is_pool_thread() { return on_pool_thread; }

hubd_status host_get_config(hubd_host_obj* obj, hubd_sink* out) {
  auto inst = find_instance(obj);
  if (!inst) return HUBD_ERR_INVALID;
  if (!out || !out->write) return HUBD_ERR_INVALID;
  auto text = inst->options().config.dump();
  out->write(out->ctx, hubd_str{text.data(), text.size()});
  return HUBD_OK;
}

void write_err(hubd_sink* err, const std::string& msg) {
  if (err && err->write) err->write(err->ctx, hubd_str{msg.data(), msg.size()});
}

hubd_status host_register_scope(hubd_host_obj* obj, hubd_str name, hubd_str definition, hubd_sink* err) {
  auto inst = find_instance(obj);
  if (!inst) {
    write_err(err, "register_scope: unknown instance handle");
    return HUBD_ERR_INVALID;
  }
  auto& host = inst->host();
  std::string scope(view(name));
  nlohmann::json def;
  if (auto perr = parse_plugin_json(view(definition), def); !perr.empty()) {
    write_err(err, "custom scope " + scope + ": definition is not valid JSON: " + perr);
    return HUBD_ERR_INVALID;
  }
  std::lock_guard lock(host.mu_);
  if (!host.scopes_open_) {
    write_err(err, "custom scope " + scope + ": scopes can only be registered while the hub starts (in create)");
    return HUBD_ERR_STATE;
  }
  if (auto bad = rbac::custom_scope_error(host.scopes_, scope, def); !bad.empty()) {
    write_err(err, bad);
    spdlog::warn("plugin '{}' registered an invalid custom scope: {}", inst->plugin().name, bad);
    return HUBD_ERR_INVALID;
  }
  host.scopes_[scope] = def;
  host.scope_plugins_[scope] = inst->plugin().name;
  spdlog::info("plugin '{}' registered custom scope {}", inst->plugin().name, scope);
  return HUBD_OK;
}

// ---- hubd.host.api/1 ----

struct api_call {
  hubd_api_callback cb;
  void* user_data;
  std::atomic<bool> returned{false};
  std::atomic<bool> answered{false};
};

// Delivers on the completion thread, never before request() returned (re-posts until it has).
void deliver_api(const std::shared_ptr<host_core>& host, const std::shared_ptr<api_call>& call, int status,
                 const std::shared_ptr<const std::string>& body) {
  if (!call->returned.load()) {
    host->post_completion([host, call, status, body] { deliver_api(host, call, status, body); });
    return;
  }
  call->cb(call->user_data, status, hubd_str{body->data(), body->size()});
}

hubd_status api_request_fn(hubd_host_obj* obj, hubd_str method, hubd_str path, hubd_str body,
                           hubd_api_callback cb, void* user_data) {
  static const std::regex method_re("GET|POST|PATCH|PUT|DELETE");
  auto inst = find_instance(obj);
  if (!inst || !cb) return HUBD_ERR_INVALID;
  api_request req;
  req.method = std::string(view(method));
  req.path = std::string(view(path));
  if (!std::regex_match(req.method, method_re) || req.path.empty() || req.path[0] != '/') return HUBD_ERR_INVALID;
  if (!parse_plugin_json(view(body), req.body).empty()) return HUBD_ERR_INVALID;
  req.plugin_name = inst->plugin().name;
  req.roles = inst->options().roles;
  auto& host = inst->host();
  if (host.stopping()) return HUBD_ERR_STATE;
  auto call = std::make_shared<api_call>();
  call->cb = cb;
  call->user_data = user_data;
  auto core = host.shared_from_this();
  api_responder respond = [core, call](int status, nlohmann::json response) {
    if (call->answered.exchange(true)) {
      spdlog::error("internal API answered a request twice; the second answer is ignored");
      return;
    }
    auto text = std::make_shared<const std::string>(response.is_null() ? std::string() : response.dump());
    deliver_api(core, call, status, text);
  };
  api_handler handler;
  {
    std::lock_guard lock(host.mu_);
    handler = host.api_;
  }
  if (handler) {
    try {
      handler(std::move(req), respond);
    } catch (const std::exception& e) {
      respond(500, {{"status", 500}, {"message", std::string("internal API error: ") + e.what()}});
    }
  } else {
    respond(503, {{"status", 503}, {"message", "the internal API is not available yet"}});
  }
  call->returned = true;
  return HUBD_OK;
}

const hubd_host_api api_table = {sizeof(hubd_host_api), &api_request_fn};

const void* host_get_extension(const hubd_host*, const char* id) {
  if (id && std::string_view(id) == HUBD_EXT_HOST_API) return &api_table;
  return nullptr;
}

const hubd_host the_host = {
    sizeof(hubd_host),
    HUBD_ABI_MAJOR,
    HUBD_ABI_MINOR,
    &host_log,
    &host_complete,
    &host_progress,
    &host_post_event,
    &host_get_extension,
    &host_is_pool_thread,
    &host_get_config,
    &host_register_scope,
};

}  // namespace

const hubd_host* host_table() { return &the_host; }

instance_options split_section(const nlohmann::json& section) {
  instance_options o;
  if (!section.is_object()) return o;
  for (const auto& [k, v] : section.items()) {
    // hubd's own keys of a [plugins.NAME] table (core/app/config_schema.cpp plugin_host_keys()).
    if (k == "timeout") {
      if (v.is_number() && v.get<double>() > 0) o.timeout = std::chrono::milliseconds(static_cast<int64_t>(v.get<double>() * 1000));
    } else if (k == "roles") {
      if (v.is_array())
        for (const auto& r : v)
          if (r.is_string()) o.roles.push_back(r.get<std::string>());
    } else if (k == "enabled") {
    } else {
      o.config[k] = v;
    }
  }
  return o;
}

// ---- library / plugin_record ----

library::~library() {
  if (initialized && entry.deinit) entry.deinit();
  // lib's destructor unloads; by now nothing from it is alive.
}

uint32_t plugin_record::flags() const {
  switch (kind) {
    case plugin_kind::authenticator: return auth.flags;
    case plugin_kind::spawner: return spawner.flags;
    case plugin_kind::hooks: return hooks.flags;
  }
  return 0;
}
hubd_plugin_obj* (*plugin_record::create_fn() const)(hubd_host_obj*, hubd_str, hubd_sink*) {
  switch (kind) {
    case plugin_kind::authenticator: return auth.create;
    case plugin_kind::spawner: return spawner.create;
    case plugin_kind::hooks: return hooks.create;
  }
  return nullptr;
}
void (*plugin_record::destroy_fn() const)(hubd_plugin_obj*) {
  switch (kind) {
    case plugin_kind::authenticator: return auth.destroy;
    case plugin_kind::spawner: return spawner.destroy;
    case plugin_kind::hooks: return hooks.destroy;
  }
  return nullptr;
}
void (*plugin_record::cancel_fn() const)(hubd_plugin_obj*, hubd_op*) {
  switch (kind) {
    case plugin_kind::authenticator: return auth.cancel_op;
    case plugin_kind::spawner: return spawner.cancel_op;
    case plugin_kind::hooks: return hooks.cancel_op;
  }
  return nullptr;
}
void (*plugin_record::event_fn() const)(hubd_plugin_obj*, hubd_host_obj*, uint64_t) {
  switch (kind) {
    case plugin_kind::authenticator: return auth.on_event;
    case plugin_kind::spawner: return spawner.on_event;
    case plugin_kind::hooks: return hooks.on_event;
  }
  return nullptr;
}

// ---- instance ----

instance::instance(std::shared_ptr<host_core> host, std::shared_ptr<const plugin_record> plugin, instance_options options)
    : host_(std::move(host)),
      plugin_(std::move(plugin)),
      options_(std::move(options)),
      strand_(boost::asio::make_strand(host_->pool_.get_executor())) {
  auto& t = tables();
  std::lock_guard lock(t.mu);
  id_ = t.next_instance++;
  // The weak pointer is filled in by create_instance once shared_from_this works.
}

instance::~instance() {
  {
    auto& t = tables();
    std::lock_guard lock(t.mu);
    t.instances.erase(id_);
  }
  if (!obj_) return;
  auto destroy = plugin_->destroy_fn();
  if (!destroy) return;
  // destroy is [pool]; at shutdown (pool gone) it runs here. The library stays loaded: `plugin`
  // (and so its library) is kept alive by the posted job.
  auto obj = obj_;
  auto plugin = plugin_;
  if (!host_->post_pool([destroy, obj, plugin] { destroy(obj); })) destroy(obj);
}

bool instance::run(std::function<void()> fn) {
  if (plugin_->flags() & HUBD_FLAG_CONCURRENT) return host_->post_pool(std::move(fn));
  return host_->post_serialized(strand_, std::move(fn));
}

void instance::start_op(std::string op_name, std::function<void(hubd_op*)> invoke, result_validator validate,
                        op_callback on_done, progress_callback on_progress,
                        std::optional<std::chrono::milliseconds> timeout) {
  auto op = std::make_shared<op_state>();
  op->inst = shared_from_this();
  op->op_name = std::move(op_name);
  op->validate = std::move(validate);
  op->on_done = std::move(on_done);
  op->on_progress = std::move(on_progress);
  if (host_->stopping()) {
    op_result r{op_status::cancelled, nullptr, "hub is shutting down"};
    if (op->on_done) op->on_done(std::move(r));
    return;
  }
  {
    auto& t = tables();
    std::lock_guard lock(t.mu);
    op->id = t.next_op++;
    t.ops.emplace(op->id, op);
  }
  const uint64_t id = op->id;
  op->timer = std::make_unique<boost::asio::steady_timer>(host_->completion_io_, timeout.value_or(options_.timeout));
  op->timer->async_wait([id](const boost::system::error_code& ec) {
    if (!ec) on_timeout(id);
  });
  bool posted = run([self = shared_from_this(), invoke = std::move(invoke), id] {
    invoke(op_handle(id));
  });
  if (!posted) {
    std::shared_ptr<op_state> mine;
    {
      auto& t = tables();
      std::lock_guard lock(t.mu);
      auto it = t.ops.find(id);
      if (it != t.ops.end()) {
        mine = std::move(it->second);
        t.ops.erase(it);
      }
    }
    if (mine && mine->on_done) mine->on_done(op_result{op_status::cancelled, nullptr, "hub is shutting down"});
  }
}

void call_op(const std::shared_ptr<instance>& inst, std::string op_name, hubd_op_fn fn, const nlohmann::json& input,
             result_validator validate, op_callback done, progress_callback progress,
             std::optional<std::chrono::milliseconds> timeout) {
  if (!fn) {
    auto msg = "plugin '" + inst->plugin().name + "' does not implement " + op_name;
    inst->host().post_completion([done = std::move(done), msg] {
      if (done) done(op_result{op_status::failed, nullptr, msg});
    });
    return;
  }
  auto text = std::make_shared<const std::string>(input.is_null() ? std::string("{}") : input.dump());
  auto weak = std::weak_ptr<instance>(inst);
  inst->start_op(
      std::move(op_name),
      [weak, fn, text](hubd_op* op) {
        if (auto i = weak.lock()) fn(i->obj(), i->handle(), op, hubd_str{text->data(), text->size()});
      },
      std::move(validate), std::move(done), std::move(progress), timeout);
}

// ---- host_core ----

host_core::host_core(unsigned threads)
    : pool_(threads == 0 ? 1 : threads), work_(boost::asio::make_work_guard(completion_io_)) {
  completion_thread_ = std::thread([this] { completion_io_.run(); });
}

host_core::~host_core() { shutdown(); }

bool host_core::stopping() const {
  std::lock_guard lock(mu_);
  return stopping_;
}

void host_core::post_completion(std::function<void()> fn) {
  boost::asio::post(completion_io_, [fn = std::move(fn)] {
    try {
      fn();
    } catch (const std::exception& e) {
      spdlog::error("plugin host: a continuation threw: {}", e.what());
    }
  });
}

bool host_core::post_pool(std::function<void()> fn) {
  std::lock_guard lock(mu_);
  // Once shutdown starts nothing new is queued: a post racing with the pool's join could be lost.
  if (stopping_) return false;
  boost::asio::post(pool_, [fn = std::move(fn)] {
    pool_scope scope;
    fn();
  });
  return true;
}

bool host_core::post_serialized(boost::asio::strand<boost::asio::thread_pool::executor_type>& strand,
                                std::function<void()> fn) {
  std::lock_guard lock(mu_);
  if (stopping_) return false;
  boost::asio::post(strand, [fn = std::move(fn)] {
    pool_scope scope;
    fn();
  });
  return true;
}

void host_core::shutdown() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  // Plugin calls already queued still run (they may complete their ops).
  pool_.join();
  // Everything still pending is answered on the completion thread, where the timers live.
  std::promise<void> drained;
  post_completion([this, &drained] {
    std::vector<std::shared_ptr<op_state>> mine;
    {
      auto& t = tables();
      std::lock_guard lock(t.mu);
      for (auto it = t.ops.begin(); it != t.ops.end();) {
        if (&it->second->inst->host() == this) {
          mine.push_back(std::move(it->second));
          it = t.ops.erase(it);
        } else {
          ++it;
        }
      }
    }
    for (auto& op : mine) {
      if (op->timer) op->timer->cancel();
      if (op->on_done) op->on_done(op_result{op_status::cancelled, nullptr, "hub is shutting down"});
    }
    mine.clear();
    drained.set_value();
  });
  drained.get_future().wait();
  work_.reset();
  if (completion_thread_.joinable()) completion_thread_.join();
}

void create_instance(const std::shared_ptr<host_core>& host, std::shared_ptr<const plugin_record> plugin,
                     const nlohmann::json& section,
                     std::function<void(std::shared_ptr<instance>, std::string error)> on_done) {
  auto inst = std::make_shared<instance>(host, plugin, split_section(section));
  {
    auto& t = tables();
    std::lock_guard lock(t.mu);
    t.instances[handle_id(inst->handle())] = inst;
  }
  bool posted = host->post_pool([inst, on_done, host] {
    auto create = inst->plugin().create_fn();
    std::string err;
    hubd_sink sink = make_sink(err);
    auto cfg = inst->options().config.dump();
    hubd_plugin_obj* obj = create ? create(inst->handle(), hubd_str{cfg.data(), cfg.size()}, &sink) : nullptr;
    std::string error;
    if (!obj) {
      error = "plugin '" + inst->plugin().name + "' (" + inst->plugin().lib->file.string() +
              ") refused its configuration: " + (err.empty() ? std::string("create failed") : err);
    }
    inst->set_obj(obj);
    auto result = obj ? inst : nullptr;
    host->post_completion([on_done, result, error] { on_done(result, error); });
  });
  if (!posted) on_done(nullptr, "hub is shutting down");
}

}  // namespace detail

// ---- public ----

std::optional<plugin_kind> parse_plugin_kind(std::string_view s) {
  if (s == "authenticator") return plugin_kind::authenticator;
  if (s == "spawner") return plugin_kind::spawner;
  if (s == "hooks" || s == "hook") return plugin_kind::hooks;
  return std::nullopt;
}

plugin_host::plugin_host(unsigned threads) : core_(std::make_shared<detail::host_core>(threads)) {}
plugin_host::~plugin_host() { shutdown(); }

void plugin_host::set_api_handler(api_handler handler) {
  std::lock_guard lock(core_->mu_);
  core_->api_ = std::move(handler);
}
nlohmann::json plugin_host::custom_scopes() const {
  std::lock_guard lock(core_->mu_);
  return core_->scopes_;
}
std::map<std::string, std::string> plugin_host::custom_scope_plugins() const {
  std::lock_guard lock(core_->mu_);
  return core_->scope_plugins_;
}
void plugin_host::close_scope_registration() {
  std::lock_guard lock(core_->mu_);
  core_->scopes_open_ = false;
}
host_counters plugin_host::counters() const {
  return host_counters{core_->completed_.load(), core_->timeouts_.load(), core_->late_.load(),
                       detail::tables().double_completions.load(),
                       core_->misbehaving_.load()};
}
void plugin_host::shutdown() { core_->shutdown(); }

}  // namespace hubd::core::plugins
