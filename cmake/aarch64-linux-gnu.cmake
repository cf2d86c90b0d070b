# Cross build for arm64 with Debian's cross compiler (g++-aarch64-linux-gnu) against an arm64
# Debian root holding the libraries and headers (CAPWISE_ARM64_ROOT; tests/vm/arm64.sh makes one
# with mmdebstrap, nothing installed on this machine). clang and bpftool stay this machine's: the
# BPF object is built for the arm64 target (__TARGET_ARCH_arm64) by the host's clang.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
# try_compile re-reads this file in a fresh project: hand it the root.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES CAPWISE_ARM64_ROOT)
if(NOT CAPWISE_ARM64_ROOT OR NOT EXISTS "${CAPWISE_ARM64_ROOT}/usr/include")
  message(FATAL_ERROR "CAPWISE_ARM64_ROOT must name an arm64 Debian root (tests/vm/arm64.sh)")
endif()
set(CMAKE_SYSROOT ${CAPWISE_ARM64_ROOT})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
set(ENV{PKG_CONFIG_SYSROOT_DIR} ${CAPWISE_ARM64_ROOT})
set(ENV{PKG_CONFIG_LIBDIR}
    ${CAPWISE_ARM64_ROOT}/usr/lib/aarch64-linux-gnu/pkgconfig:${CAPWISE_ARM64_ROOT}/usr/share/pkgconfig)
