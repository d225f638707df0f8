# Turns a file into a C array at build time: cmake -DIN=file -DOUT=file.c -DNAME=symbol -P this.
# The service serves its OpenAPI document from memory, so it can never disagree with the build.
file(READ "${IN}" hex HEX)
string(LENGTH "${hex}" n)
math(EXPR bytes "${n} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," body "${hex}")
file(WRITE "${OUT}" "/* Generated from ${IN} by tools/serve/embed_file.cmake. */\n#include <stddef.h>\n"
  "const char ${NAME}[] = {${body} 0};\nconst size_t ${NAME}_len = ${bytes};\n")
