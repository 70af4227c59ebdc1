#!/bin/sh
# run.sh -- build the libFuzzer targets (the `fuzz` preset: clang, ASan + UBSan) and run
# each for FUZZ_SECONDS (30) from a copy of its committed seed corpus in
# tests/fuzz/corpus/<target>, so the repository's corpus does not grow. The targets run
# side by side. Exits non-zero on any crash, leak, timeout (5 s per input) or
# out-of-memory (2 GB), printing the fuzzer's report and the reproducer's path; rerun it
# with `build/fuzz/tests/fuzz/<target> <reproducer>`.
#
#   sh tests/fuzz/run.sh [TARGET...]    default: fuzz_scenario fuzz_keys fuzz_profile fuzz_history
set -eu
cd "$(dirname "$0")/../.."
targets=${*:-fuzz_scenario fuzz_keys fuzz_profile fuzz_history}
seconds=${FUZZ_SECONDS:-30}

mkdir -p build
log=build/fuzz-build.log
if ! { cmake --preset fuzz && cmake --build --preset fuzz -j "$(nproc 2> /dev/null || echo 2)"; } \
    > "$log" 2>&1; then
    cat "$log" >&2
    echo "fuzz: the build failed" >&2
    exit 1
fi

bin=build/fuzz/tests/fuzz
artifacts=build/fuzz/artifacts
mkdir -p "$artifacts"
work=$(mktemp -d "${TMPDIR:-/tmp}/shardsim-fuzz.XXXXXX")
pids=""
cleanup() {
    for pid in $pids; do kill "$pid" 2> /dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:abort_on_error=0"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
for t in $targets; do
    mkdir -p "$work/$t"
    cp tests/fuzz/corpus/"$t"/* "$work/$t/"
    "$bin/$t" -max_total_time="$seconds" -timeout=5 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$artifacts/$t-" "$work/$t" > "$work/$t.log" 2>&1 &
    pids="$pids $!"
    eval "pid_$t=$!"
done

failed=0
for t in $targets; do
    eval "pid=\$pid_$t"
    if wait "$pid"; then
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$t.log")
        echo "fuzz: $t: ok (${runs:-?} inputs in ${seconds} s)"
    else
        failed=1
        echo "fuzz: $t: FAILED" >&2
        tail -n 60 "$work/$t.log" >&2
        sed -n 's/.*Test unit written to \(.*\)$/fuzz: reproducer: \1/p' "$work/$t.log" >&2
    fi
done
pids=""
exit $failed
