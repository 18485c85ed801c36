# Project-wide options, applied through INTERFACE targets (no global flag edits).
option(TALLY_SANITIZE "Build with AddressSanitizer and UndefinedBehaviorSanitizer" OFF)
option(TALLY_TSAN "Build with ThreadSanitizer" OFF)
option(TALLY_WERROR "Treat warnings as errors" OFF)

if(TALLY_SANITIZE AND TALLY_TSAN)
  message(FATAL_ERROR "TALLY_SANITIZE (ASan+UBSan) and TALLY_TSAN cannot be combined: use the asan or the tsan preset")
endif()

add_library(tally_options INTERFACE)
target_compile_options(tally_options INTERFACE -Wall -Wextra -Wpedantic -Wno-missing-field-initializers)
if(TALLY_WERROR)
  target_compile_options(tally_options INTERFACE -Werror)
endif()
if(TALLY_SANITIZE)
  target_compile_options(tally_options INTERFACE -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  target_link_options(tally_options INTERFACE -fsanitize=address,undefined)
endif()
if(TALLY_TSAN)
  # g++ 12 warns (-Wtsan) that TSan does not model std::atomic_thread_fence,
  # which Boost.Asio's headers use; silenced here only, where it is expected.
  target_compile_options(tally_options INTERFACE -fsanitize=thread -fno-omit-frame-pointer -Wno-tsan)
  target_link_options(tally_options INTERFACE -fsanitize=thread)
endif()
