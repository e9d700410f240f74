# SPDX-License-Identifier: Apache-2.0
# Packaging: `cpack -G DEB` in a build folder makes a Debian package of what
# `cmake --install` installs (the layer, its one manifest, suballoc-run and its
# probe, suballoc-picture, the man pages, the vkconfig files, README and
# LICENSE), for /usr. scripts/package-test.sh builds, installs, uses and
# removes it. Configure with -DCMAKE_INSTALL_PREFIX=/usr for Debian's
# multi-arch library folder (lib/x86_64-linux-gnu); the manifest finds the
# library relative to itself either way.
set(SUBALLOC_PACKAGE_MAINTAINER "VK_LAYER_TRANSPARENT_suballoc maintainers <maintainers@transparent-suballoc.invalid>"
    CACHE STRING "Maintainer field of the Debian package")

set(CPACK_PACKAGE_NAME "transparent-suballoc")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_VENDOR "VK_LAYER_TRANSPARENT_suballoc")
set(CPACK_PACKAGE_CONTACT "${SUBALLOC_PACKAGE_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Vulkan layer that sub-allocates device memory for unchanged applications")
string(CONCAT CPACK_PACKAGE_DESCRIPTION
       "VK_LAYER_TRANSPARENT_suballoc serves an application's many small vkAllocateMemory\n"
       "calls from a few large driver allocations, so that it stays far below the driver's\n"
       "maxMemoryAllocationCount and skips a kernel call per allocation, without any change\n"
       "to the application. Switch it on with suballoc-run, VK_INSTANCE_LAYERS, the loader's\n"
       "filters or Vulkan Configurator; suballoc-picture draws the layer's memory dumps.")
set(CPACK_RESOURCE_FILE_LICENSE "${PROJECT_SOURCE_DIR}/LICENSE")
set(CPACK_PACKAGING_INSTALL_PREFIX "/usr")

set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT) # transparent-suballoc_0.1.0_amd64.deb
set(CPACK_DEBIAN_PACKAGE_SECTION "graphics")
set(CPACK_DEBIAN_PACKAGE_PRIORITY "optional")
# dpkg-shlibdeps finds libc6 (the layer links only libc and libm) and
# libvulkan1 (the loader, which suballoc-probe links); python3 runs
# suballoc-picture, which draws with matplotlib (only --picture needs it).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "python3")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "python3-matplotlib")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "vulkan-tools")
if(SUBALLOC_URL MATCHES "^https?://")
  set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "${SUBALLOC_URL}")
endif()

include(CPack)
