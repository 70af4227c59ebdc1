#!/usr/bin/env bash
# dev.sh -- set up, build and run shardsim; what the README's two commands call.
#
#   bash cmake/dev.sh run [SHARDSIM ARGS]  install what is missing, build (release), run
#                                          the main job (no args: the embedded defaults)
#   bash cmake/dev.sh test                 install, build, run the whole test suite:
#                                          start a real ZooKeeper (standalone and a
#                                          3-server ensemble, on loopback, in a temp
#                                          folder), release (-O2, warnings as errors)
#                                          and a 1000-seed campaign in 2 shards under
#                                          GNU parallel, merged (shardsim check), a
#                                          report page opened in headless chromium,
#                                          then AddressSanitizer + UndefinedBehaviorSanitizer,
#                                          then byte-identical results from gcc -O2,
#                                          gcc -O0 and clang -O2 builds, then 30 s of
#                                          libFuzzer per reader (tests/fuzz/run.sh); the
#                                          servers are stopped by pid however the tests end
#   bash cmake/dev.sh bench                install, build, run every benchmark
#
# Packages come from Debian 12 with apt-get, only when missing (idempotent). Needs root
# or sudo the first time.
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_PACKAGES="gcc make cmake pkg-config libc6-dev libcmocka-dev libinih-dev libjansson-dev libxxhash-dev gnuplot-nox"
# libclang-rt-14-dev: libFuzzer and the sanitizer runtimes (only Recommended by clang-14)
# parallel: GNU parallel, which runs the CI campaign's shards (README "Campaigns")
# chromium: opens a report page headless, as a user's browser would (README "Results")
TEST_PACKAGES="clang clang-format libclang-rt-14-dev parallel chromium"
# the real ZooKeeper backend and the servers its tests run against (pulls a JRE: tests only)
ZK_PACKAGES="libzookeeper-mt-dev zookeeper"
JOBS=$(nproc 2>/dev/null || echo 2)

log() { printf 'dev.sh: %s\n' "$*" >&2; }

# install PKG...: apt-get install the packages that are not installed yet.
install() {
    local missing=()
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    log "installing ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

build() { # build PRESET [CMAKE ARGS]
    local preset=$1
    shift
    cmake --preset "$preset" "$@" >/dev/null
    cmake --build --preset "$preset" -j "$JOBS"
}

# Start the ZooKeeper servers the tests need: ZK_CONNECT (standalone), ZK_ENSEMBLE and
# ZK_ENSEMBLE_DIR (3 servers, for the tests that kill one). They are stopped by pid when
# this script exits, however it exits (and by a watcher if it is killed).
start_zookeeper() {
    ZK_TMP=$(mktemp -d "${TMPDIR:-/tmp}/shardsim-zk.XXXXXX")
    trap 'bash tests/zk_server.sh stop "$ZK_TMP/standalone" >/dev/null 2>&1;
          bash tests/zk_server.sh stop "$ZK_TMP/ensemble" >/dev/null 2>&1; rm -rf "$ZK_TMP"' EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    export ZK_WATCH_PID=$$
    ZK_CONNECT=$(bash tests/zk_server.sh start "$ZK_TMP/standalone" standalone)
    ZK_ENSEMBLE=$(bash tests/zk_server.sh start "$ZK_TMP/ensemble" ensemble)
    ZK_ENSEMBLE_DIR="$ZK_TMP/ensemble"
    export ZK_CONNECT ZK_ENSEMBLE ZK_ENSEMBLE_DIR
    log "ZooKeeper: standalone $ZK_CONNECT, ensemble $ZK_ENSEMBLE"
}

# campaign SHARDSIM: the default campaign's 1000 seeds in 2 shards under GNU parallel,
# then their summaries merged: exits non-zero if any seed breaks an invariant.
campaign() {
    local bin=$1 work
    work=$(mktemp -d "${TMPDIR:-/tmp}/shardsim-campaign.XXXXXX")
    parallel --will-cite --halt now,fail=1 "$bin" check bench/scenarios/campaign.ini \
        --seeds 1..1000 --shard {}/2 --quiet --out "$work"/shard-{} ::: 1 2
    "$bin" check --merge "$work"/shard-1 "$work"/shard-2
    rm -rf "$work"
}

# report_page SHARDSIM: a result folder's index.html opened in headless chromium: it
# must load (a screenshot is taken) and its DOM must hold every plot, inlined.
report_page() {
    local bin=$1 work plots shown
    work=$(mktemp -d "${TMPDIR:-/tmp}/shardsim-page.XXXXXX")
    "$bin" run failover --runs 0,20 --quiet --out "$work/result"
    plots=$(find "$work/result" -name '*.svg' | wc -l)
    timeout 120 chromium --headless --no-sandbox --disable-gpu --window-size=1200,3000 \
        --screenshot="$work/page.png" "file://$work/result/index.html" >/dev/null 2>&1
    shown=$(timeout 120 chromium --headless --no-sandbox --disable-gpu --dump-dom \
        "file://$work/result/index.html" 2>/dev/null | grep -o '<svg' | wc -l)
    if [ ! -s "$work/page.png" ] || [ "$shown" -ne "$plots" ] || [ "$plots" -lt 8 ]; then
        log "report page: chromium showed $shown of $plots plots (screenshot: $work/page.png)"
        exit 1
    fi
    log "report page: chromium rendered index.html with all $plots plots"
    rm -rf "$work"
}

case "${1:-}" in
run)
    shift
    install $BUILD_PACKAGES
    build release
    if [ $# -eq 0 ]; then
        set -- run
    fi
    exec ./build/release/shardsim "$@"
    ;;
test)
    install $BUILD_PACKAGES $TEST_PACKAGES $ZK_PACKAGES
    build release -DSHARDSIM_ZOOKEEPER=ON
    start_zookeeper
    ctest --preset release -j "$JOBS"
    campaign build/release/shardsim
    report_page build/release/shardsim
    build asan -DSHARDSIM_ZOOKEEPER=ON
    ctest --preset asan -j "$JOBS"
    build debug -DSHARDSIM_ZOOKEEPER=ON
    build clang -DSHARDSIM_ZOOKEEPER=ON
    sh tests/check_determinism.sh "$PWD" build/release/shardsim build/debug/shardsim \
        build/clang/shardsim
    sh tests/fuzz/run.sh
    ;;
bench)
    install $BUILD_PACKAGES
    build release
    for b in build/release/bench/bench_*; do
        log "running $b"
        "$b"
    done
    ;;
*)
    echo "usage: bash cmake/dev.sh run [ARGS] | test | bench" >&2
    exit 2
    ;;
esac
