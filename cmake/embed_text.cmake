# Embeds a text file in a generated C++ header as a raw string literal, so the library carries
# the file and never looks for it on disk. Run at build time (cmake -P) by a custom command:
#   cmake -DINPUT=<file> -DOUTPUT=<header> -DSYMBOL=<name> -DNAME=<name in messages> -P embed_text.cmake
# The header defines `inline constexpr std::string_view <SYMBOL>` (the file's exact text; its
# first character starts line 1, so line numbers in parse errors are the file's) and
# `<SYMBOL>Name` (NAME, for error messages).
foreach(var INPUT OUTPUT SYMBOL NAME)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "embed_text.cmake: -D${var}=... is required")
  endif()
endforeach()
file(READ "${INPUT}" text)
set(delimiter "contactsim_embed")
string(FIND "${text}" ")${delimiter}\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${INPUT} contains \")${delimiter}\"\", which would end the raw string literal")
endif()
set(header "#pragma once\n// Generated at build time from ${NAME} by cmake/embed_text.cmake: do not edit.\n#include <string_view>\nnamespace contactsim {\ninline constexpr std::string_view ${SYMBOL}Name = \"${NAME}\";\ninline constexpr std::string_view ${SYMBOL} = R\"${delimiter}(${text})${delimiter}\";\n}  // namespace contactsim\n")
file(WRITE "${OUTPUT}" "${header}")
