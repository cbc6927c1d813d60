# Fails unless every GoogleTest that FILTER selects in the full suite (TESTS) is defined in one of
# SOURCES (paths under tests/), the files the ThreadSanitizer build compiles; and
# unless the filter selects some test from each of them (a stale entry). Run by ctest
# (tests/CMakeLists.txt: thread_tests_are_all_in_the_thread_test_sources).
cmake_policy(VERSION 3.20)
set(listing ${WORK_DIR}/thread_tests.json)
file(REMOVE ${listing})
execute_process(COMMAND ${TESTS} --gtest_list_tests "--gtest_filter=${FILTER}" "--gtest_output=json:${listing}"
                OUTPUT_QUIET RESULT_VARIABLE status)
if(NOT status EQUAL 0 OR NOT EXISTS ${listing})
  message(FATAL_ERROR "${TESTS} --gtest_list_tests failed (${status})")
endif()
file(READ ${listing} json)
string(JSON suites LENGTH "${json}" testsuites)
set(selected 0)
set(files_used "")
math(EXPR last_suite "${suites} - 1")
foreach(s RANGE ${last_suite})
  string(JSON tests LENGTH "${json}" testsuites ${s} testsuite)
  if(tests EQUAL 0)  # a suite none of whose tests the filter selects
    continue()
  endif()
  math(EXPR last_test "${tests} - 1")
  foreach(t RANGE ${last_test})
    string(JSON name GET "${json}" testsuites ${s} testsuite ${t} name)
    string(JSON suite GET "${json}" testsuites ${s} name)
    string(JSON file GET "${json}" testsuites ${s} testsuite ${t} file)
    # As compiled: absolute, or relative to the build when ccache's base_dir rewrote it.
    string(REGEX REPLACE "^.*/tests/" "" relative "${file}")
    if(NOT relative IN_LIST SOURCES)
      message(FATAL_ERROR "${suite}.${name} (${relative}) runs threads but its file is not in "
                          "CONTACTSIM_THREAD_TEST_SOURCES (tests/CMakeLists.txt): TSan would not check it")
    endif()
    list(APPEND files_used ${relative})
    math(EXPR selected "${selected} + 1")
  endforeach()
endforeach()
foreach(source ${SOURCES})
  if(NOT source IN_LIST files_used)
    message(FATAL_ERROR "${source} is in CONTACTSIM_THREAD_TEST_SOURCES but holds no test the filter selects")
  endif()
endforeach()
list(LENGTH SOURCES files)
message(STATUS "${selected} thread tests, all in the ${files} listed files")
