#!/usr/bin/env bash
# dev.sh -- set up, build and run shardsim; what the README's two commands call.
#
#   bash cmake/dev.sh run [SHARDSIM ARGS]  install what is missing, build (release), run
#                                          the main job (no args: the embedded defaults)
#   bash cmake/dev.sh test                 install, build, run the whole test suite:
#                                          release (-O2, warnings as errors), then
#                                          AddressSanitizer + UndefinedBehaviorSanitizer,
#                                          then byte-identical results from gcc -O2,
#                                          gcc -O0 and clang -O2 builds
#   bash cmake/dev.sh bench                install, build, run every benchmark
#
# Packages come from Debian 12 with apt-get, only when missing (idempotent). Needs root
# or sudo the first time.
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_PACKAGES="gcc make cmake pkg-config libc6-dev libcmocka-dev libinih-dev libjansson-dev libxxhash-dev gnuplot-nox"
TEST_PACKAGES="clang clang-format"
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

build() { # build PRESET
    cmake --preset "$1" >/dev/null
    cmake --build --preset "$1" -j "$JOBS"
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
    install $BUILD_PACKAGES $TEST_PACKAGES
    build release
    ctest --preset release -j "$JOBS"
    build asan
    ctest --preset asan -j "$JOBS"
    build debug
    build clang
    sh tests/check_determinism.sh "$PWD" build/release/shardsim build/debug/shardsim \
        build/clang/shardsim
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
