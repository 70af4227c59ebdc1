# Warning flags for every target; SHARDSIM_WERROR turns them into errors (CI does).
set(SHARDSIM_WARNINGS
    -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion
    -Wstrict-prototypes -Wmissing-prototypes -Wvla -Wformat=2 -Wundef)
# -Wformat-truncation guesses from buffer sizes alone; path buffers are PATH_MAX-sized
# and the paths users give are far shorter, so its warnings there are noise.
if(CMAKE_C_COMPILER_ID STREQUAL "GNU")
  list(APPEND SHARDSIM_WARNINGS -Wno-format-truncation)
endif()
add_compile_options(${SHARDSIM_WARNINGS})
if(SHARDSIM_WERROR)
  add_compile_options(-Werror)
endif()
if(SHARDSIM_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()
