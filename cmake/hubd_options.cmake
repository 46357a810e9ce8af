# Compile options shared by every target of our own code.
add_library(hubd_options INTERFACE)
target_compile_options(hubd_options INTERFACE
  $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Werror -Wno-error=deprecated-declarations>
  # GCC 12's optimizer reports these inside libstdc++'s inlined string and vector code where nothing
  # is wrong (GCC bugs 105329, 105651, 106199): keep them visible, but not fatal, at -O2.
  $<$<AND:$<COMPILE_LANGUAGE:CXX>,$<CXX_COMPILER_ID:GNU>>:-Wno-error=restrict -Wno-error=stringop-overflow -Wno-error=array-bounds -Wno-error=maybe-uninitialized>
  $<$<COMPILE_LANGUAGE:C>:-Wall -Wextra -Werror>)
target_compile_definitions(hubd_options INTERFACE
  HUBD_VERSION="${PROJECT_VERSION}"
  BOOST_ASIO_NO_DEPRECATED
  SPDLOG_FMT_EXTERNAL)
# HUBD_SANITIZE was a boolean (ON meant ASan and UBSan): every true value still means that.
string(TOLOWER "${HUBD_SANITIZE}" hubd_sanitize)
if(hubd_sanitize STREQUAL "thread")
  # GCC warns (-Wtsan) that TSan does not instrument std::atomic_thread_fence, which Boost.Asio's
  # headers use; -Werror would make that fatal in every file that includes Asio.
  target_compile_options(hubd_options INTERFACE -fsanitize=thread -fno-omit-frame-pointer
    $<$<CXX_COMPILER_ID:GNU>:-Wno-tsan>)
  target_link_options(hubd_options INTERFACE -fsanitize=thread)
elseif(hubd_sanitize MATCHES "^(address|on|yes|true|y|1)$")
  target_compile_options(hubd_options INTERFACE -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  target_link_options(hubd_options INTERFACE -fsanitize=address,undefined)
elseif(HUBD_SANITIZE)
  message(FATAL_ERROR "HUBD_SANITIZE=${HUBD_SANITIZE}: use OFF, ON/address or thread")
endif()
if(hubd_sanitize STREQUAL "thread" OR hubd_sanitize MATCHES "^(address|on|yes|true|y|1)$")
  # The sanitizers intercept crypt_r and look the real one up when the process starts. libcrypt
  # arrives later, with pam_unix, which PAM loads at the first login: the lookup found nothing and
  # that login jumped to address 0. Loaded from the start, it is found.
  target_link_options(hubd_options INTERFACE "LINKER:--push-state,--no-as-needed,-lcrypt,--pop-state")
endif()

# The build tree has the layout of an installed tree, so that one rule finds everything hubd ships:
# <root>/bin/hubd, <root>/lib/hubd/plugins/*.so, <root>/share/hubd/{templates,static}, with <root> the
# build folder or the install prefix (core/plugins/install_layout.hpp holds the same two subfolders).
set(HUBD_PLUGIN_SUBDIR lib/hubd/plugins)
set(HUBD_DATA_SUBDIR share/hubd)

# Plugins are built hidden, exporting only the entry symbol.
function(hubd_add_plugin name)
  add_library(${name} MODULE ${ARGN})
  target_link_libraries(${name} PRIVATE hubd_plugin_api hubd_options)
  set_target_properties(${name} PROPERTIES PREFIX "" C_VISIBILITY_PRESET hidden CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/${HUBD_PLUGIN_SUBDIR})
  target_link_options(${name} PRIVATE -Wl,--version-script=${PROJECT_SOURCE_DIR}/plugin_api/hubd_plugin.map -Wl,--no-undefined)
endfunction()
