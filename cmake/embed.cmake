# Writes OUTPUT, a C file that holds INPUT's bytes as
# tally_catalog_builtin_json[] and its length as tally_catalog_builtin_len.
file(READ "${INPUT}" hex HEX)
string(LENGTH "${hex}" hexlen)
math(EXPR len "${hexlen} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REGEX REPLACE "((0x..,){16})" "\\1\n" bytes "${bytes}")
file(WRITE "${OUTPUT}.tmp"
  "/* Generated from ${INPUT} at build time; do not edit. */\n"
  "#include <stddef.h>\n"
  "const char tally_catalog_builtin_json[] = {\n${bytes}0x00};\n"
  "const size_t tally_catalog_builtin_len = ${len};\n")
file(RENAME "${OUTPUT}.tmp" "${OUTPUT}")
