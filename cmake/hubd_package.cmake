# `cpack -G DEB` in a build folder: the Debian package "hubd" with what `cmake --install` gives
# (under /usr), the example systemd unit and /etc/hubd/hub.toml (a conffile) written at build time by
# `hubd generate-config`. Depends come from dpkg-shlibdeps; what hubd starts at run time is
# recommended. tests/install/test_install.py builds, installs and removes it.

# /etc/hubd/hub.toml: made by the hubd just built, so it lists exactly the keys this hubd knows.
set(HUBD_ETC_CONFIG ${CMAKE_BINARY_DIR}/packaging/hub.toml)
add_custom_command(OUTPUT ${HUBD_ETC_CONFIG}
  COMMAND ${CMAKE_COMMAND} -DHUBD=$<TARGET_FILE:hubd> -DOUT=${HUBD_ETC_CONFIG}
          -P ${PROJECT_SOURCE_DIR}/packaging/generate_config.cmake
  DEPENDS hubd ${PROJECT_SOURCE_DIR}/packaging/generate_config.cmake
  COMMENT "hubd generate-config > packaging/hub.toml")
add_custom_target(hubd_etc_config ALL DEPENDS ${HUBD_ETC_CONFIG})

# /etc is not under the prefix for /usr (GNUInstallDirs' rule): the package gets /etc/hubd/hub.toml,
# `cmake --install --prefix P` gets P/etc/hubd/hub.toml and never touches the machine's /etc.
install(CODE "
  if(CMAKE_INSTALL_PREFIX STREQUAL \"/usr\")
    set(hubd_etc /etc/hubd)
  else()
    set(hubd_etc \"\${CMAKE_INSTALL_PREFIX}/etc/hubd\")
  endif()
  file(INSTALL \"${HUBD_ETC_CONFIG}\" DESTINATION \"\${hubd_etc}\" PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
" COMPONENT runtime)
install(FILES ${PROJECT_SOURCE_DIR}/packaging/hubd.service DESTINATION lib/systemd/system COMPONENT runtime)

file(WRITE ${CMAKE_BINARY_DIR}/packaging/conffiles "/etc/hubd/hub.toml\n")

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME hubd)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "hubd")
set(CPACK_PACKAGE_CONTACT "hubd developers <hubd@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "JupyterHub-compatible hub written in C++")
set(CPACK_PACKAGE_DESCRIPTION "hubd serves JupyterHub's REST API and pages, starts single-user servers through plugins\n(local processes by default) and routes them through configurable-http-proxy.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_INSTALL_PREFIX /usr)
# The install runs with DESTDIR=<staging> and prefix /usr, so that /etc/hubd above lands in the package.
set(CPACK_SET_DESTDIR ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# configurable-http-proxy is hubd's default proxy; jupyterhub-singleuser (Debian's jupyterhub) is
# what the local spawner starts by default.
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "node-configurable-http-proxy, jupyterhub")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${CMAKE_BINARY_DIR}/packaging/conffiles)
include(CPack)
