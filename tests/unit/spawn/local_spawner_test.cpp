// The `local` spawner plugin, loaded through the real loader and adapters, running real processes.
#include "core/plugins/op_result.hpp"
#include "core/plugins/plugin_host.hpp"
#include "core/plugins/plugin_registry.hpp"
#include "core/plugins/spawner_adapter.hpp"
#include "tests/support/eventually.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

namespace fs = std::filesystem;
using nlohmann::json;
using namespace hubd::core::plugins;
using hubd::test::eventually;

namespace {

fs::path plugin_file() { return fs::path(HUBD_PLUGIN_DIR) / "hubd_local_spawner.so"; }

// The default logger's sink list is not thread-safe: the sink is added before the plugin host exists
// and removed after it is gone, when no plugin thread (a server's output reader) can log any more.
struct attached_sink {
  std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> sink = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(4096);
  attached_sink() { spdlog::default_logger()->sinks().push_back(sink); }
  ~attached_sink() {
    auto& sinks = spdlog::default_logger()->sinks();
    sinks.erase(std::remove(sinks.begin(), sinks.end(), sink), sinks.end());
  }
};

struct fixture {
  attached_sink log;  // first member: destroyed after the host has joined its threads
  plugin_host host{2};
  plugin_registry registry{host};
  fs::path dir;

  fixture() {
    dir = fs::temp_directory_path() / ("hubd-local-spawner-" + std::to_string(::getpid()) + "-" +
                                       std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
    fs::create_directories(dir);
    REQUIRE(registry.load_file(plugin_file()));
  }
  ~fixture() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }

  std::shared_ptr<spawner_adapter> make(json section = json::object()) {
    if (!section.contains("home_dir_template")) section["home_dir_template"] = (dir / "home-{username}").string();
    auto r = registry.create_spawner_sync("local", section);
    REQUIRE(r);
    return r.value();
  }

  bool logged(const std::string& needle) {
    for (auto& line : log.sink->last_formatted())
      if (line.find(needle) != std::string::npos) return true;
    return false;
  }
};

op_result start(spawner_adapter& s, const json& ctx) {
  std::promise<op_result> p;
  s.start(ctx, {}, [&](op_result r) { p.set_value(std::move(r)); }, std::chrono::seconds(30));
  return p.get_future().get();
}
op_result poll(spawner_adapter& s) {
  std::promise<op_result> p;
  s.poll([&](op_result r) { p.set_value(std::move(r)); });
  return p.get_future().get();
}
op_result stop(spawner_adapter& s, bool now = false) {
  std::promise<op_result> p;
  s.stop(now, [&](op_result r) { p.set_value(std::move(r)); }, std::chrono::seconds(30));
  return p.get_future().get();
}
json get_state(spawner_adapter& s) {
  std::promise<json> p;
  s.get_state([&](json j) { p.set_value(std::move(j)); });
  return p.get_future().get();
}
bool load_state(spawner_adapter& s, json st) {
  std::promise<bool> p;
  s.load_state(std::move(st), [&](bool ok) { p.set_value(ok); });
  return p.get_future().get();
}

// A tiny HTTP server reading its bind address from $JUPYTERHUB_SERVICE_URL, as the single-user server does.
const char* k_http_server =
    "import os,http.server,urllib.parse\n"
    "u=urllib.parse.urlparse(os.environ['JUPYTERHUB_SERVICE_URL'])\n"
    "print('serving on', u.port, flush=True)\n"
    "http.server.HTTPServer((u.hostname,u.port),http.server.SimpleHTTPRequestHandler).serve_forever()\n";

json ctx_for(const std::string& user, std::vector<std::string> cmd, json env = json::object(), int port = 0) {
  env["JUPYTERHUB_SERVICE_PREFIX"] = "/user/" + user + "/";
  env["PATH"] = std::getenv("PATH") ? std::getenv("PATH") : "/usr/bin:/bin";
  return json{{"user", {{"name", user}}}, {"server_name", ""}, {"cmd", cmd}, {"args", json::array()},
              {"env", env}, {"ip", "127.0.0.1"}, {"port", port}, {"service_prefix", "/user/" + user + "/"}};
}

int port_of(const std::string& url) { return std::stoi(url.substr(url.rfind(':') + 1)); }

bool connects(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

bool pid_alive(pid_t pid) { return ::kill(pid, 0) == 0; }

}  // namespace

TEST_CASE("local spawner starts a server on a free port, polls, saves its pid and stops it", "[local_spawner]") {
  fixture f;
  auto s = f.make();
  auto r = start(*s, ctx_for("alice", {"python3", "-c", k_http_server}));
  REQUIRE(r.ok());
  std::string url = r.value["url"];
  CHECK(url.rfind("http://127.0.0.1:", 0) == 0);
  REQUIRE(eventually([&] { return connects(port_of(url)); }));

  auto p = poll(*s);
  REQUIRE(p.ok());
  CHECK(p.value == json{{"running", true}});

  json st = get_state(*s);
  REQUIRE(st.is_object());
  pid_t pid = st["pid"];
  CHECK(pid > 0);
  CHECK(st["start_time"].get<std::uint64_t>() > 0);

  // The server's output reaches hubd's log, with the user's name.
  CHECK(eventually([&] { return f.logged("[alice] serving on " + std::to_string(port_of(url))); }));
  // The per-user working folder was created and used.
  CHECK(fs::is_directory(f.dir / "home-alice"));

  REQUIRE(stop(*s).ok());
  CHECK_FALSE(pid_alive(pid));
  auto after = poll(*s);
  REQUIRE(after.ok());
  CHECK(after.value.contains("exit_status"));
  CHECK(get_state(*s).is_null());
}

TEST_CASE("local spawner passes the environment, HOME and the working folder", "[local_spawner]") {
  fixture f;
  auto s = f.make();
  auto out = f.dir / "env.txt";
  auto r = start(*s, ctx_for("bob",
                             {"sh", "-c", "echo \"$JUPYTERHUB_API_TOKEN|$HOME|$USER|$(pwd)|$JUPYTERHUB_SERVICE_URL\" > " +
                                              out.string() + "; sleep 30"},
                             json{{"JUPYTERHUB_API_TOKEN", "tok123"}}));
  REQUIRE(r.ok());
  REQUIRE(eventually([&] { return fs::exists(out) && fs::file_size(out) > 0; }));
  std::ifstream in(out);
  std::string line;
  std::getline(in, line);
  auto home = (f.dir / "home-bob").string();
  CHECK(line == "tok123|" + home + "|bob|" + home + "|http://127.0.0.1:" + std::to_string(port_of(r.value["url"])) +
                    "/user/bob/");
  REQUIRE(stop(*s).ok());
}

TEST_CASE("local spawner reports a command that does not exist", "[local_spawner]") {
  fixture f;
  auto s = f.make();
  auto r = start(*s, ctx_for("carol", {"no-such-command-hubd"}));
  REQUIRE(r.status == op_status::failed);
  CHECK(r.user_message().find("command not found: \"no-such-command-hubd\"") != std::string::npos);
  CHECK(get_state(*s).is_null());
  auto p = poll(*s);
  REQUIRE(p.ok());
  CHECK(p.value.contains("exit_status"));
}

TEST_CASE("local spawner refuses a configured port that is in use", "[local_spawner]") {
  fixture f;
  auto s = f.make();
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  REQUIRE(::listen(fd, 1) == 0);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  int port = ntohs(a.sin_port);
  auto r = start(*s, ctx_for("dave", {"python3", "-c", k_http_server}, json::object(), port));
  ::close(fd);
  REQUIRE(r.status == op_status::failed);
  CHECK(r.user_message() == "port " + std::to_string(port) + " on 127.0.0.1 is already in use");
  CHECK(get_state(*s).is_null());
}

TEST_CASE("local spawner sees a crashed server's exit status", "[local_spawner]") {
  fixture f;
  auto s = f.make();
  auto r = start(*s, ctx_for("erin", {"sh", "-c", "echo dying; exit 3"}));
  REQUIRE(r.ok());
  json last;
  REQUIRE(eventually([&] {
    last = poll(*s).value;
    return last.contains("exit_status");
  }));
  CHECK(last["exit_status"] == 3);
}

TEST_CASE("local spawner kills a server that ignores SIGTERM after the grace period", "[local_spawner]") {
  fixture f;
  auto s = f.make(json{{"term_timeout", 0.3}, {"kill_timeout", 5}});
  auto r = start(*s, ctx_for("frank", {"python3", "-c",
                                       "import signal,time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
                                       "print('ready', flush=True)\ntime.sleep(120)\n"}));
  REQUIRE(r.ok());
  REQUIRE(eventually([&] { return f.logged("[frank] ready"); }));
  pid_t pid = get_state(*s)["pid"];
  REQUIRE(stop(*s).ok());
  CHECK_FALSE(pid_alive(pid));
  CHECK(f.logged("ignored SIGTERM"));
}

TEST_CASE("a new spawner instance re-adopts a running server from its saved state", "[local_spawner]") {
  fixture f;
  json st;
  std::string url;
  {
    auto s = f.make();
    auto r = start(*s, ctx_for("gina", {"python3", "-c", k_http_server}));
    REQUIRE(r.ok());
    url = r.value["url"];
    REQUIRE(eventually([&] { return connects(port_of(url)); }));
    st = get_state(*s);
  }  // the instance goes away (as when hubd restarts); the process keeps running
  pid_t pid = st["pid"];
  REQUIRE(pid_alive(pid));

  auto again = f.make();
  REQUIRE(load_state(*again, st));
  CHECK(poll(*again).value == json{{"running", true}});
  CHECK(get_state(*again) == st);
  REQUIRE(stop(*again).ok());
  auto p = poll(*again);
  CHECK(p.value.contains("exit_status"));

  // A stale pid (or a reused one) is not re-adopted as running.
  auto stale = f.make();
  REQUIRE(load_state(*stale, json{{"pid", pid}, {"start_time", 1}}));
  CHECK(poll(*stale).value.contains("exit_status"));
  CHECK_FALSE(load_state(*stale, json{{"pid", "nope"}}));
}

TEST_CASE("local spawner adds --allow-root only for jupyter commands running as root", "[local_spawner]") {
  fixture f;
  auto bin = f.dir / "bin";
  fs::create_directories(bin);
  auto out = f.dir / "args.txt";
  for (std::string name : {"jupyterhub-fake", "plain-fake"}) {
    std::ofstream script(bin / name);
    script << "#!/bin/sh\necho \"$0 $*\" >> " << out.string() << "\nsleep 30\n";
    script.close();
    fs::permissions(bin / name, fs::perms::owner_all);
  }
  auto s = f.make();
  json env = {{"PATH", bin.string() + ":/usr/bin:/bin"}};
  auto ctx = ctx_for("hank", {"jupyterhub-fake"});
  ctx["env"]["PATH"] = env["PATH"];
  ctx["args"] = json::array({"--debug"});
  REQUIRE(start(*s, ctx).ok());
  REQUIRE(eventually([&] { return fs::exists(out) && fs::file_size(out) > 0; }));
  REQUIRE(stop(*s).ok());
  ctx["cmd"] = json::array({"plain-fake"});
  REQUIRE(start(*s, ctx).ok());
  std::vector<std::string> lines;
  REQUIRE(eventually([&] {
    lines.clear();
    std::ifstream in(out);
    for (std::string l; std::getline(in, l);) lines.push_back(l);
    return lines.size() == 2;
  }));
  REQUIRE(stop(*s).ok());
  if (::geteuid() == 0) {
    CHECK(lines[0] == (bin / "jupyterhub-fake").string() + " --debug --allow-root");
  } else {
    CHECK(lines[0] == (bin / "jupyterhub-fake").string() + " --debug");
  }
  CHECK(lines[1] == (bin / "plain-fake").string() + " --debug");
}

TEST_CASE("local spawner rejects bad config and refuses system-user mode for unknown users", "[local_spawner]") {
  fixture f;
  auto bad = f.registry.create_spawner_sync("local", json{{"mode", "docker"}});
  REQUIRE_FALSE(bad);
  CHECK(bad.error().find("mode must be") != std::string::npos);

  auto s = f.make(json{{"mode", "system-user"}});
  auto r = start(*s, ctx_for("no-such-user-hubd", {"python3", "-c", k_http_server}));
  REQUIRE(r.status == op_status::failed);
  if (::geteuid() != 0) {
    CHECK(r.user_message().find("needs hubd to run as root") != std::string::npos);
    return;
  }
  CHECK(r.user_message() == "no system user named \"no-such-user-hubd\" to run the server as");

  // Debian's `daemon` account (uid 1, home /usr/sbin): the server really runs as that user.
  auto out = f.dir / "shared";
  fs::create_directories(out);
  fs::permissions(out, fs::perms::all);
  auto ok = start(*s, ctx_for("daemon", {"sh", "-c", "echo \"$(id -u) $HOME $USER\" > " + (out / "id.txt").string() +
                                                         "; sleep 30"}));
  REQUIRE(ok.ok());
  REQUIRE(eventually([&] { return fs::exists(out / "id.txt") && fs::file_size(out / "id.txt") > 0; }));
  std::ifstream in(out / "id.txt");
  std::string line;
  std::getline(in, line);
  CHECK(line == "1 /usr/sbin daemon");
  REQUIRE(stop(*s).ok());
}
