# Project-wide options, applied through INTERFACE targets (no global flag edits).
option(TALLY_SANITIZE "Build with AddressSanitizer and UndefinedBehaviorSanitizer" OFF)
option(TALLY_WERROR "Treat warnings as errors" OFF)

add_library(tally_options INTERFACE)
target_compile_options(tally_options INTERFACE -Wall -Wextra -Wpedantic -Wno-missing-field-initializers)
if(TALLY_WERROR)
  target_compile_options(tally_options INTERFACE -Werror)
endif()
if(TALLY_SANITIZE)
  target_compile_options(tally_options INTERFACE -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  target_link_options(tally_options INTERFACE -fsanitize=address,undefined)
endif()
