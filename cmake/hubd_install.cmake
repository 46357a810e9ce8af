# `cmake --install`: component "runtime" is hubd itself (bin/hubd, lib/hubd/plugins, share/hubd with
# the page templates and static files, the docs in share/doc/hubd; their install rules sit beside
# their targets), component "plugin_dev" is for plugin authors: the C ABI headers, the C++ SDK, the
# linker version script and a CMake package, so that an out-of-tree plugin does find_package(hubd)
# and hubd_add_plugin(name src...). The default install includes both.
include(CMakePackageConfigHelpers)

install(TARGETS hubd_plugin_api EXPORT hubdTargets COMPONENT plugin_dev)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/plugin_api/hubd DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
  COMPONENT plugin_dev FILES_MATCHING PATTERN "*.h" PATTERN "*.hpp")
install(FILES ${PROJECT_SOURCE_DIR}/plugin_api/hubd_plugin.map
  DESTINATION ${CMAKE_INSTALL_DATADIR}/hubd COMPONENT plugin_dev)
install(EXPORT hubdTargets NAMESPACE hubd:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/hubd COMPONENT plugin_dev)

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/hubdConfig.cmake.in
  ${CMAKE_BINARY_DIR}/hubdConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/hubd
  PATH_VARS CMAKE_INSTALL_DATADIR HUBD_PLUGIN_SUBDIR)
write_basic_package_version_file(${CMAKE_BINARY_DIR}/hubdConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMajorVersion)
install(FILES ${CMAKE_BINARY_DIR}/hubdConfig.cmake ${CMAKE_BINARY_DIR}/hubdConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/hubd COMPONENT plugin_dev)

install(DIRECTORY ${PROJECT_SOURCE_DIR}/docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT runtime)
install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT runtime)

include(${CMAKE_CURRENT_LIST_DIR}/hubd_package.cmake)
