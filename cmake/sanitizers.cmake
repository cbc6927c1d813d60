# Sanitizer and fuzzing builds (make sanitize, make fuzz). Each lives in its own build directory.
#
#   CONTACTSIM_SANITIZE=address,undefined  ASan + UBSan on everything built here (gcc or clang);
#                                          UB aborts (-fno-sanitize-recover) so ctest sees it.
#   CONTACTSIM_SANITIZE=thread             TSan (clang with LLVM's libomp: libgomp is not
#                                          instrumented, so its barriers look like races;
#                                          clang >= 19, like fuzzing).
#   CONTACTSIM_FUZZ=ON                     libFuzzer targets in tests/fuzz (clang only); the library
#                                          gets -fsanitize=fuzzer-no-link,address,undefined.
set(CONTACTSIM_SANITIZE "" CACHE STRING "Sanitizers for every target: address,undefined | thread (empty: none)")
option(CONTACTSIM_FUZZ "Build the libFuzzer targets of tests/fuzz (clang only)" OFF)

if(CONTACTSIM_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "CONTACTSIM_FUZZ needs clang (libFuzzer): configure with -DCMAKE_CXX_COMPILER=clang++-19 "
                        "-DCMAKE_C_COMPILER=clang-19")
  endif()
  if(CMAKE_CXX_COMPILER_VERSION VERSION_LESS 19)
    message(FATAL_ERROR "CONTACTSIM_FUZZ needs clang >= 19 (Debian 12: clang-19), the version the fuzz targets "
                        "are built and tested with")
  endif()
  if(NOT CONTACTSIM_SANITIZE)
    set(CONTACTSIM_SANITIZE "address,undefined")
  endif()
  # Coverage instrumentation for libFuzzer everywhere; the fuzz targets add -fsanitize=fuzzer.
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()

if(CONTACTSIM_SANITIZE)
  set(sanitizer_flags -fsanitize=${CONTACTSIM_SANITIZE} -fno-omit-frame-pointer -g1)
  if(CONTACTSIM_SANITIZE MATCHES "undefined")
    list(APPEND sanitizer_flags -fno-sanitize-recover=undefined)
  endif()
  add_compile_options(${sanitizer_flags})
  add_link_options(${sanitizer_flags})
  # -O1, the level the sanitizers' authors recommend, after the build type's -O3 (the last -O
  # wins): the ASan build of everything took 8 minutes instead of 20, its tests 1.2x longer.
  add_compile_options(-O1)

  # Python loads the instrumented _core module into an uninstrumented interpreter: the ASan
  # runtime must be preloaded, and the interpreter's own (deliberate, at-exit) allocations are
  # not leaks worth reporting. tests/CMakeLists.txt adds this to the pytest tests' environment.
  set(CONTACTSIM_SANITIZER_TEST_ENV "")
  if(CONTACTSIM_SANITIZE MATCHES "address")
    if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
      execute_process(COMMAND ${CMAKE_CXX_COMPILER} -print-file-name=libasan.so
                      OUTPUT_VARIABLE asan_runtime OUTPUT_STRIP_TRAILING_WHITESPACE)
    else()
      execute_process(COMMAND ${CMAKE_CXX_COMPILER} -print-file-name=libclang_rt.asan-x86_64.so
                      OUTPUT_VARIABLE asan_runtime OUTPUT_STRIP_TRAILING_WHITESPACE)
    endif()
    # libstdc++ too, and after it: ASan resolves the real __cxa_throw when it starts, and the
    # interpreter does not link libstdc++, so the first C++ exception would abort ASan otherwise.
    execute_process(COMMAND ${CMAKE_CXX_COMPILER} -print-file-name=libstdc++.so.6
                    OUTPUT_VARIABLE cxx_runtime OUTPUT_STRIP_TRAILING_WHITESPACE)
    set(CONTACTSIM_SANITIZER_TEST_ENV "LD_PRELOAD=${asan_runtime}:${cxx_runtime};ASAN_OPTIONS=detect_leaks=0")
  endif()
  message(STATUS "contactsim: sanitizers ${CONTACTSIM_SANITIZE}")
endif()

# The warning list is written for gcc (-Wno-restrict); clang need not mention every flag it lacks.
if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang" AND (CONTACTSIM_SANITIZE OR CONTACTSIM_FUZZ))
  add_compile_options(-Wno-unknown-warning-option)
endif()
