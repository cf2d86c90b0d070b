# Generates syscall_names.inc — "{number, "name"}," lines — from the kernel UAPI header, so
# capwise names syscalls the way the installed headers do without a hand-kept table.
file(STRINGS "${UNISTD_HEADER}" lines REGEX "^#define __NR_[a-z0-9_]+ [0-9]+$")
set(out "// Generated from ${UNISTD_HEADER}; do not edit.\n")
foreach(line IN LISTS lines)
  string(REGEX REPLACE "^#define __NR_([a-z0-9_]+) ([0-9]+)$" "{\\2, \"\\1\"},\n" entry "${line}")
  string(APPEND out "${entry}")
endforeach()
file(WRITE "${OUTPUT}.tmp" "${out}")
file(RENAME "${OUTPUT}.tmp" "${OUTPUT}")
