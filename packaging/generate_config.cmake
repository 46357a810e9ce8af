# Writes the packaged /etc/hubd/hub.toml: `hubd generate-config` (every key, commented, with its
# default), with the one setting a system install needs: its state in /var/lib/hubd (the systemd
# unit's StateDirectory) rather than beside the config in /etc/hubd.
#   cmake -DHUBD=path/to/hubd -DOUT=hub.toml -P generate_config.cmake
execute_process(COMMAND ${HUBD} generate-config OUTPUT_VARIABLE text RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${HUBD} generate-config failed (${rc})")
endif()
string(FIND "${text}" "\n[JupyterHub]\n" at)
if(at EQUAL -1)
  message(FATAL_ERROR "generate-config printed no [JupyterHub] table")
endif()
string(REPLACE "\n[JupyterHub]\n"
  "\n[JupyterHub]\n# Set by hubd's Debian package: the database and secrets live in the systemd unit's StateDirectory.\ndata_dir = \"/var/lib/hubd\"\n"
  text "${text}")
file(WRITE ${OUT} "${text}")
