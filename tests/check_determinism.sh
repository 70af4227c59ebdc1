#!/bin/sh
# check_determinism.sh -- the same scenario and seed give byte-identical result files
# from every build given (gcc -O2, gcc -O0, clang -O2, ...): `shardsim run` on the
# shipped scenarios and `shardsim balance`, compared file by file. The manifest's
# creation time and command line are the only bytes allowed to differ.
#   sh tests/check_determinism.sh SOURCE_DIR SHARDSIM_BIN [SHARDSIM_BIN ...]
set -eu
src=$1
shift
first=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
i=0
for bin in "$@"; do
    i=$((i + 1))
    # SCENARIO or SCENARIO:CONFIG
    for sc in baseline skew failover failover:ensemble failover:quorum rescale split-brain chaos; do
        config=""
        case $sc in *:*) config="-c ${sc#*:}" ;; esac
        # the failover scenario repeats each cell 20 times (phases); 2 suffice here
        case $sc in failover*) config="$config --set repeat=2" ;; esac
        # shellcheck disable=SC2086 # $config is empty or two words
        "$bin" run "$src/bench/scenarios/${sc%%:*}.ini" $config --seed 7 --quiet --no-plot \
            --out "$work/$i/$sc"
        # Drop the two manifest fields that name the moment and the binary.
        sed -e '/"created_utc"/d' -e '/"command_line"/,/\]/d' "$work/$i/$sc/manifest.json" \
            > "$work/$i/$sc/manifest.stable"
        rm "$work/$i/$sc/manifest.json"
    done
    # the table on stdout too, less its last line, which names the output folder
    "$bin" balance --uniform 50000 --parallelism 4,8,13 --seed 7 --no-plot --out "$work/$i/balance" \
        | grep -v "^wrote " > "$work/$i/balance.txt"
done
status=0
j=2
while [ $j -le $i ]; do
    if ! diff -r "$work/1" "$work/$j" > "$work/diff.txt"; then
        echo "check_determinism: build 1 ($first) and build $j differ:"
        head -n 20 "$work/diff.txt"
        status=1
    fi
    j=$((j + 1))
done
[ $status -eq 0 ] && echo "check_determinism: $i builds give identical results"
exit $status
