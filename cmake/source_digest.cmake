# Writes a header holding the SHA-256 of the library's sources (every file under core/ and models/
# that the build reads), so that what depends on the code itself — the spin-up cache's file
# names — changes whenever the code does, committed or not. Run at build time (cmake -P):
#   cmake -DROOT=<source dir> -DOUTPUT=<header> -P source_digest.cmake
foreach(var ROOT OUTPUT)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "source_digest.cmake: -D${var}=... is required")
  endif()
endforeach()
file(GLOB_RECURSE files RELATIVE ${ROOT} ${ROOT}/core/* ${ROOT}/models/*)
list(SORT files)
set(all "")
foreach(f ${files})
  file(SHA256 ${ROOT}/${f} digest)
  string(APPEND all "${f} ${digest}\n")
endforeach()
string(SHA256 total "${all}")
set(header "#pragma once\n// Generated at build time by cmake/source_digest.cmake: do not edit.\nnamespace contactsim {\n// SHA-256 over the library's sources (core/, models/): changes whenever the code does.\ninline constexpr const char* kSourceDigest = \"${total}\";\n}  // namespace contactsim\n")
# Rewritten only when it changes, so an unchanged digest recompiles nothing.
if(EXISTS ${OUTPUT})
  file(READ ${OUTPUT} old)
  if(old STREQUAL header)
    return()
  endif()
endif()
file(WRITE ${OUTPUT} "${header}")
