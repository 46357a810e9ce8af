#pragma once
// hubd's sub-commands. main.cpp only parses the command name; each command parses its own options
// and returns the process exit status.
#include "core/app/config.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hubd::core::app {

using arg_list = std::vector<std::string>;

int run_hub_command(const arg_list& args);         // hubd [--config FILE] [--ports-file FILE]
int check_config_command(const arg_list& args);    // hubd check-config FILE
int generate_config_command(const arg_list& args); // hubd generate-config
int plugins_command(const arg_list& args);         // hubd plugins [--config FILE]
int scopes_command(const arg_list& args);          // hubd scopes expand|check ...
int upgrade_db_command(const arg_list& args);      // hubd upgrade-db [--config FILE]
int rotate_keys_command(const arg_list& args);     // hubd rotate-keys [--config FILE]

// Shared option parsing: `NAME VALUE` (or `ALIAS VALUE`, or `NAME=VALUE`) anywhere in args; removes
// it from args. Returns an empty string when absent.
std::string take_option(arg_list& args, std::string_view name, std::string_view alias = {});
// `--config FILE` (or `-f FILE`, or `--config=FILE`).
std::string take_config_option(arg_list& args);

// For commands that take only `[--config FILE]`: the file's config, or the embedded defaults without
// the option. On a stray argument or a config error it prints why (naming `command`) and returns
// nullopt with `exit_status` set (2: usage, 1: config error). `file_out` receives the file name.
std::optional<config> config_from_args(const arg_list& args, std::string_view command, int& exit_status,
                                       std::string* file_out = nullptr);

}  // namespace hubd::core::app
