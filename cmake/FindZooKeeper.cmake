# FindZooKeeper.cmake -- the ZooKeeper C client, multi-threaded flavour (Debian:
# libzookeeper-mt-dev), which ships neither a pkg-config file nor a CMake config.
#
# Defines ZooKeeper_FOUND, ZooKeeper_INCLUDE_DIR, ZooKeeper_LIBRARY, ZooKeeper_VERSION
# (from zookeeper_version.h) and the imported target ZooKeeper::zookeeper_mt, which
# defines THREADED (the header declares the multi-threaded API only with it) and links
# the threads library.
find_path(ZooKeeper_INCLUDE_DIR NAMES zookeeper/zookeeper.h)
find_library(ZooKeeper_LIBRARY NAMES zookeeper_mt)

if(ZooKeeper_INCLUDE_DIR AND EXISTS "${ZooKeeper_INCLUDE_DIR}/zookeeper/zookeeper_version.h")
  file(STRINGS "${ZooKeeper_INCLUDE_DIR}/zookeeper/zookeeper_version.h" _zk_version_line
       REGEX "^#define ZOO_VERSION \"[^\"]+\"")
  string(REGEX REPLACE "^#define ZOO_VERSION \"([^\"]+)\".*" "\\1" ZooKeeper_VERSION
         "${_zk_version_line}")
  unset(_zk_version_line)
endif()

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(ZooKeeper
  REQUIRED_VARS ZooKeeper_LIBRARY ZooKeeper_INCLUDE_DIR
  VERSION_VAR ZooKeeper_VERSION)

if(ZooKeeper_FOUND AND NOT TARGET ZooKeeper::zookeeper_mt)
  find_package(Threads REQUIRED)
  add_library(ZooKeeper::zookeeper_mt UNKNOWN IMPORTED)
  set_target_properties(ZooKeeper::zookeeper_mt PROPERTIES
    IMPORTED_LOCATION "${ZooKeeper_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${ZooKeeper_INCLUDE_DIR}"
    INTERFACE_COMPILE_DEFINITIONS THREADED
    INTERFACE_LINK_LIBRARIES Threads::Threads)
endif()

mark_as_advanced(ZooKeeper_INCLUDE_DIR ZooKeeper_LIBRARY)
