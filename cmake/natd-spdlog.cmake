# natd::spdlog: the spdlog (and fmt) that natd_core links.
#
# Included from the top-level CMakeLists.txt in place of a bare
# find_package(spdlog); lib/ links natd::spdlog instead of spdlog::spdlog.
#
#   NATD_SPDLOG_HEADER_ONLY=OFF (default): the distribution's compiled
#     spdlog (libspdlog.so, and libfmt.so when spdlog uses an external fmt).
#   NATD_SPDLOG_HEADER_ONLY=ON: spdlog and fmt compiled into natd and
#     natd-ctl, so the binaries need neither library at run time. The RPM for
#     Amazon Linux 2023 builds this way: fmt and spdlog are not in AL2023's
#     core repository (only in SPAL, which an instance may not have enabled).
#
# spdlog::spdlog_header_only is not enough by itself: when spdlog was built
# against an external fmt (Debian, Fedora/EPEL), that target links the shared
# fmt::fmt. Here fmt::fmt is swapped for fmt::fmt-header-only.

option(NATD_SPDLOG_HEADER_ONLY
  "Compile spdlog and fmt into the binaries (no libspdlog/libfmt at run time)" OFF)

find_package(spdlog REQUIRED)

add_library(natd_spdlog INTERFACE)
add_library(natd::spdlog ALIAS natd_spdlog)

if(NOT NATD_SPDLOG_HEADER_ONLY)
  target_link_libraries(natd_spdlog INTERFACE spdlog::spdlog)
  return()
endif()

if(NOT TARGET spdlog::spdlog_header_only)
  message(FATAL_ERROR "NATD_SPDLOG_HEADER_ONLY=ON, but this spdlog "
    "(${spdlog_DIR}) exports no spdlog::spdlog_header_only target")
endif()

foreach(property INTERFACE_INCLUDE_DIRECTORIES INTERFACE_COMPILE_DEFINITIONS
                 INTERFACE_COMPILE_OPTIONS INTERFACE_COMPILE_FEATURES)
  get_target_property(value spdlog::spdlog_header_only ${property})
  if(value)
    set_property(TARGET natd_spdlog APPEND PROPERTY ${property} ${value})
  endif()
endforeach()
# The headers are the distribution's, not ours: no warnings from them.
get_target_property(includes spdlog::spdlog_header_only INTERFACE_INCLUDE_DIRECTORIES)
if(includes)
  set_property(TARGET natd_spdlog APPEND PROPERTY
    INTERFACE_SYSTEM_INCLUDE_DIRECTORIES ${includes})
endif()

get_target_property(links spdlog::spdlog_header_only INTERFACE_LINK_LIBRARIES)
if(NOT links)
  set(links "")
endif()
set(natd_spdlog_links "")
foreach(lib IN LISTS links)
  if(lib STREQUAL "fmt::fmt")
    if(NOT TARGET fmt::fmt-header-only)
      find_package(fmt REQUIRED CONFIG)
    endif()
    if(NOT TARGET fmt::fmt-header-only)
      message(FATAL_ERROR "NATD_SPDLOG_HEADER_ONLY=ON: spdlog uses an external fmt, "
        "but fmt (${fmt_DIR}) exports no fmt::fmt-header-only target")
    endif()
    list(APPEND natd_spdlog_links fmt::fmt-header-only)
  else()
    list(APPEND natd_spdlog_links ${lib})
  endif()
endforeach()
target_link_libraries(natd_spdlog INTERFACE ${natd_spdlog_links})
message(STATUS "natd: spdlog and fmt header-only (${natd_spdlog_links})")
