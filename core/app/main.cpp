// hubd: a multi-user notebook hub, wire-compatible with JupyterHub.
#include "core/app/commands.hpp"

#include <cstdio>
#include <iostream>

namespace {

void usage(std::ostream& out) {
  out << "usage: hubd [--config FILE]             run the hub (embedded defaults without --config)\n"
         "            [--ports-file FILE]          and write the ports it listens on to FILE, one a line\n"
         "       hubd --version                    print the version\n"
         "       hubd check-config FILE            validate a config file\n"
         "       hubd generate-config              print a commented default config\n"
         "       hubd plugins [--config FILE]      list the plugins found and why any were skipped\n"
         "       hubd scopes expand [--config FILE] [--role NAME]... [--user NAME] [SCOPE]...\n"
         "       hubd scopes check FILE            validate every role and custom scope in a config\n"
         "       hubd upgrade-db [--config FILE]   back up, then migrate the database\n"
         "       hubd rotate-keys [--config FILE]  re-encrypt auth_state with the first JUPYTERHUB_CRYPT_KEY key\n";
}

}  // namespace

int main(int argc, char** argv) {
  using namespace hubd::core::app;
  arg_list args(argv + 1, argv + argc);
  if (!args.empty()) {
    const std::string cmd = args.front();
    arg_list rest(args.begin() + 1, args.end());
    if (cmd == "--version" || cmd == "version") {
      std::cout << HUBD_VERSION << "\n";
      return 0;
    }
    if (cmd == "--help" || cmd == "-h" || cmd == "help") {
      usage(std::cout);
      return 0;
    }
    if (cmd == "check-config") return check_config_command(rest);
    if (cmd == "generate-config") return generate_config_command(rest);
    if (cmd == "plugins") return plugins_command(rest);
    if (cmd == "scopes") return scopes_command(rest);
    if (cmd == "upgrade-db") return upgrade_db_command(rest);
    if (cmd == "rotate-keys") return rotate_keys_command(rest);
    if (cmd == "run") return run_hub_command(rest);
    if (!cmd.empty() && cmd[0] != '-') {
      std::cerr << "hubd: unknown command '" << cmd << "'\n";
      usage(std::cerr);
      return 2;
    }
  }
  return run_hub_command(args);
}
