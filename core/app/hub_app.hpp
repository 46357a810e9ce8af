#pragma once
// The running hub: owns every component and starts and stops them in order. run_command.cpp is
// its only user in production; tests may build one in-process.
#include "core/app/config.hpp"

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace hubd::core::app {

class hub_app {
public:
  // With a ports_file, start() writes the bound ports there (one a line, as ports() lists them) as
  // soon as it listens: how a caller learns the ports of a hub_bind_url with port 0.
  explicit hub_app(config cfg, std::filesystem::path ports_file = {});
  ~hub_app();
  hub_app(const hub_app&) = delete;
  hub_app& operator=(const hub_app&) = delete;

  // Loads plugins, opens the database, applies the config and starts serving. Throws config_error
  // (config mistakes: key and line) or std::runtime_error (anything else), with a message for people.
  void start();
  // Blocks until SIGINT/SIGTERM or a shutdown request through the API.
  void wait_for_shutdown();
  // Stops serving, cancels plugin work and makes every acknowledged change durable. Idempotent.
  void stop();

  // Bound HTTP ports, in listening order (hub_bind_url, then bind_url when hubd serves it itself).
  std::vector<unsigned short> ports() const;

private:
  struct parts;
  void load_managed_roles();
  void wire_api(const std::string& base_url);
  void wire_refresh();
  void wire_pages();
  // The spawn layer (spawner plugin, proxy, server lifecycle): its own block in hub_app.cpp.
  void wire_spawn();
  void start_spawn();
  void stop_spawn();
  // Services: OAuth clients of services, managed service processes. Its own block in hub_app.cpp.
  void wire_services();
  void start_services();
  void stop_services();
  config cfg_;
  std::filesystem::path ports_file_;
  std::unique_ptr<parts> parts_;
};

}  // namespace hubd::core::app
