#!/bin/sh
# check_format.sh -- every C file follows the root .clang-format (the house style),
# except the generated CRC32C tables. Fails naming the files that would change; skips
# (exit 77) where clang-format is not installed (cmake/dev.sh test installs it).
top=${1:-.}
cd "$top" || exit 2
command -v clang-format > /dev/null 2>&1 || { echo "check_format: no clang-format: skipped"; exit 77; }
bad=0
for f in $(find core backends sim bench tests -name '*.[ch]' ! -name crc32c_tables.h | sort); do
    if ! clang-format --dry-run --Werror "$f" > /dev/null 2>&1; then
        echo "check_format: $f: not formatted (clang-format -i $f)"
        bad=1
    fi
done
exit $bad
