#!/usr/bin/env bash
# zk_server.sh -- throwaway real ZooKeeper servers (Debian 12's 3.8.0) on 127.0.0.1 for the
# tests. Everything lives in DIR, which the script creates and owns; nothing else is written.
#
#   zk_server.sh start DIR standalone|ensemble   start 1 or 3 servers, wait until all serve,
#                                                print the connect string (also in DIR/connect)
#   zk_server.sh stop DIR                        SIGTERM (then SIGKILL) every server; exit 0
#                                                even when nothing runs
#   zk_server.sh kill DIR N                      SIGKILL server N, wait until it is gone
#   zk_server.sh restart DIR N                   start server N again, wait until it serves
#   zk_server.sh leader DIR                      print N of the leader (or of the standalone)
#   zk_server.sh mode DIR N                      print server N's mode (standalone, leader,
#                                                follower); exit 1 if it does not serve
#   zk_server.sh run DIR standalone|ensemble -- CMD ARGS...
#                                                start, run CMD with ZK_CONNECT and ZK_DIR
#                                                exported, stop whatever happens, exit with
#                                                CMD's status
#
# DIR layout: DIR/serverN/{zoo.cfg,log4j.properties,data/} (data/myid in an ensemble),
# DIR/serverN.log (the server's log), DIR/serverN.out (JVM stdout/stderr), DIR/serverN.pid,
# DIR/serverN.port (client port), DIR/connect, DIR/kind (standalone|ensemble).
#
# Environment: ZK_TICK_MS (tickTime, default 200), ZK_FORCE_SYNC (yes: fsync the transaction
# log before answering, as production servers do; default no, faster), ZK_START_TIMEOUT (seconds, default 30; also
# bounds restart and leader), ZK_LOG_LEVEL (default INFO), ZK_JAVA (default java),
# ZK_JAVA_OPTS (extra JVM options), ZK_WATCH_PID (start: stop the servers once that process is
# gone; run sets it to its own pid so a killed `run` leaves no server behind).
#
# Ports are picked in a high range below the ephemeral range, from a base derived from $$; a
# port is skipped if any socket uses it or if it accepts a connection. If a server still loses
# a port race (Address already in use), start retries twice with other ports.

set -u

me=zk_server.sh
java_bin=${ZK_JAVA:-java}
jars="/usr/share/java/zookeeper.jar /usr/share/java/slf4j-log4j12.jar /usr/share/java/log4j-1.2.jar"
tick=${ZK_TICK_MS:-200}
force_sync=${ZK_FORCE_SYNC:-no}
start_timeout=${ZK_START_TIMEOUT:-30}
log_level=${ZK_LOG_LEVEL:-INFO}

die() { echo "$me: $*" >&2; exit 1; }
warn() { echo "$me: $*" >&2; }

usage() {
    cat >&2 << EOF
usage: $me start DIR standalone|ensemble
       $me stop DIR
       $me kill DIR N
       $me restart DIR N
       $me leader DIR
       $me mode DIR N
       $me run DIR standalone|ensemble -- CMD [ARGS...]
EOF
    exit 2
}

# Monotonic-enough wall clock in milliseconds (EPOCHREALTIME may use a locale's comma).
now_ms() {
    local t=${EPOCHREALTIME//[!0-9]/}
    echo $((t / 1000))
}

case $start_timeout in '' | *[!0-9]*) die "ZK_START_TIMEOUT must be whole seconds: $start_timeout" ;; esac
case $tick in '' | *[!0-9]*) die "ZK_TICK_MS must be a whole number of milliseconds: $tick" ;; esac
case $force_sync in yes | no) ;; *) die "ZK_FORCE_SYNC must be yes or no: $force_sync" ;; esac

# --- processes -------------------------------------------------------------------------------

# alive PID: the process exists and is not a zombie (kill -0 succeeds on zombies).
alive() {
    local st
    [ -r "/proc/$1/status" ] || return 1
    st=$(awk '/^State:/ { print $2; exit }' "/proc/$1/status" 2> /dev/null) || return 1
    [ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# ours PID PATTERN: the live process's command line contains PATTERN (guards against pid reuse).
ours() {
    alive "$1" || return 1
    tr '\0' ' ' < "/proc/$1/cmdline" 2> /dev/null | grep -qF -- "$2"
}

# wait_gone PID MS: wait up to MS milliseconds for PID to be gone; 1 if it is still there.
wait_gone() {
    local end=$(($(now_ms) + $2))
    while alive "$1"; do
        [ "$(now_ms)" -ge "$end" ] && return 1
        sleep 0.02
    done
    return 0
}

# server_pid DIR N: print the pid of server N if it runs (and is ours).
server_pid() {
    local pid
    [ -f "$1/server$2.pid" ] || return 1
    pid=$(cat "$1/server$2.pid" 2> /dev/null) || return 1
    case $pid in '' | *[!0-9]*) return 1 ;; esac
    ours "$pid" "$1/server$2/zoo.cfg" || return 1
    echo "$pid"
}

# --- ports -----------------------------------------------------------------------------------

# port_in_use PORT [listen]: some socket uses PORT (any state; only LISTEN with "listen"), or a
# connection to 127.0.0.1:PORT is accepted.
port_in_use() {
    local hex files=() f
    printf -v hex '%04X' "$1"
    for f in /proc/net/tcp /proc/net/tcp6; do [ -r "$f" ] && files+=("$f"); done
    if [ ${#files[@]} -gt 0 ] && awk -v p="$hex" -v lo="${2:-}" '
        FNR > 1 { n = split($2, a, ":"); if (a[n] == p && (lo == "" || $4 == "0A")) { f = 1; exit } }
        END { exit !f }' "${files[@]}"; then
        return 0
    fi
    # shellcheck disable=SC2016 # expanded by the inner bash
    timeout 1 bash -c 'exec 3<> "/dev/tcp/127.0.0.1/$1"' _ "$1" 2> /dev/null && return 0
    return 1
}

# pick_ports COUNT ATTEMPT: set the array PORTS to COUNT distinct free ports.
pick_ports() {
    local need=$1 attempt=$2 lo=15000 hi=32000 eph_lo eph_hi span p tries=0
    if read -r eph_lo eph_hi < /proc/sys/net/ipv4/ip_local_port_range 2> /dev/null; then
        if [ "$eph_lo" -ge 16000 ]; then
            [ "$eph_lo" -lt "$hi" ] && hi=$eph_lo
        elif [ "$eph_hi" -le 64000 ]; then
            lo=$((eph_hi + 1)) hi=65000
        fi
    fi
    span=$((hi - lo))
    p=$((lo + ($$ * 131 + attempt * 1009) % span))
    PORTS=()
    while [ ${#PORTS[@]} -lt "$need" ]; do
        tries=$((tries + 1))
        [ $tries -gt 1000 ] && die "no free loopback ports found in $lo..$hi"
        if ! port_in_use "$p"; then PORTS+=("$p"); fi
        p=$((p + 1))
        [ "$p" -ge "$hi" ] && p=$lo
    done
}

# --- four-letter words -----------------------------------------------------------------------

# fourlw PORT WORD [SECONDS]: print the server's answer; each probe is bounded by 1 s (or less).
fourlw() {
    # shellcheck disable=SC2016 # expanded by the inner bash
    timeout "${3:-1}" bash -c 'exec 3<> "/dev/tcp/127.0.0.1/$1" || exit 1; printf %s "$2" >&3; cat <&3' \
        _ "$1" "$2" 2> /dev/null
}

# server_mode PORT: print standalone/leader/follower (nothing if it does not serve).
server_mode() {
    fourlw "$1" srvr "${2:-1}" | awk '/^Mode: / { print $2; exit }'
}

# While a server starts, a connection made just after its port opens and before its database
# is loaded can hang (a server-side NullPointerException leaves the socket open): 3 of 80
# standalone starts here. Readiness probes therefore give up after 0.3 s, and after three such
# time-outs (a slow, loaded machine) go back to 1 s.
probe_timeouts=0
ready_mode() { # PORT: set ready to the mode (empty if the server does not serve yet)
    local t=0.3 out rc
    [ $probe_timeouts -ge 3 ] && t=1
    out=$(fourlw "$1" srvr "$t")
    rc=$?
    [ $rc -eq 124 ] && probe_timeouts=$((probe_timeouts + 1))
    ready=$(awk '/^Mode: / { print $2; exit }' <<< "$out")
}

# --- directory and configuration -------------------------------------------------------------

# abs_dir DIR: print DIR's absolute path (DIR must exist).
abs_dir() { (cd "$1" 2> /dev/null && pwd -P); }

# existing_dir DIR: the absolute path of a DIR made by start.
existing_dir() {
    local d
    [ -d "$1" ] || die "$1: no such directory"
    d=$(abs_dir "$1") || die "$1: cannot enter"
    [ -f "$d/kind" ] || die "$1: not a directory made by $me start"
    echo "$d"
}

server_count() {
    case $(cat "$1/kind" 2> /dev/null) in
        standalone) echo 1 ;;
        ensemble) echo 3 ;;
        *) die "$1/kind: neither standalone nor ensemble" ;;
    esac
}

check_n() { # DIR N
    local count
    count=$(server_count "$1") || exit 1
    case $2 in '' | *[!0-9]*) die "server number must be 1..$count: $2" ;; esac
    if [ "$2" -lt 1 ] || [ "$2" -gt "$count" ]; then die "server number must be 1..$count: $2"; fi
}

check_tools() {
    local j
    command -v "$java_bin" > /dev/null 2>&1 || die "no java ($java_bin): install the zookeeper package"
    command -v timeout > /dev/null 2>&1 || die "no timeout (coreutils)"
    for j in $jars; do
        [ -r "$j" ] || die "missing $j: install zookeeper (and libslf4j-java, liblog4j1.2-java)"
    done
}

# write_config DIR N COUNT: zoo.cfg, log4j.properties and myid of server N, from PORTS.
# PORTS: client ports 0..2, then quorum and election ports (3,4), (5,6), (7,8).
write_config() {
    local d=$1 n=$2 count=$3 s=$1/server$2 i
    mkdir -p "$s/data" || die "cannot create $s/data"
    {
        echo "tickTime=$tick"
        echo "initLimit=10"
        echo "syncLimit=5"
        echo "dataDir=$s/data"
        echo "clientPort=${PORTS[$((n - 1))]}"
        echo "clientPortAddress=127.0.0.1"
        echo "maxClientCnxns=0"
        echo "admin.enableServer=false"
        echo "4lw.commands.whitelist=srvr,ruok,conf,stat"
        echo "forceSync=$force_sync"
        if [ "$count" -gt 1 ]; then
            for i in $(seq 1 "$count"); do
                echo "server.$i=127.0.0.1:${PORTS[$((count + 2 * i - 2))]}:${PORTS[$((count + 2 * i - 1))]}"
            done
        fi
    } > "$s/zoo.cfg" || die "cannot write $s/zoo.cfg"
    [ "$count" -gt 1 ] && echo "$n" > "$s/data/myid"
    cat > "$s/log4j.properties" << EOF || die "cannot write $s/log4j.properties"
log4j.rootLogger=$log_level, FILE
log4j.appender.FILE=org.apache.log4j.FileAppender
log4j.appender.FILE.File=$d/server$n.log
log4j.appender.FILE.Append=true
log4j.appender.FILE.layout=org.apache.log4j.PatternLayout
log4j.appender.FILE.layout.ConversionPattern=%d{ISO8601} [myid:%X{myid}] - %-5p [%t:%C{1}@%L] - %m%n
EOF
    echo "${PORTS[$((n - 1))]}" > "$d/server$n.port"
}

# launch DIR N: start server N's JVM in the background, cwd DIR, pid in DIR/serverN.pid.
launch() {
    local d=$1 n=$2 s=$1/server$2 cp pid
    cp=${jars// /:}
    # shellcheck disable=SC2086 # ZK_JAVA_OPTS is a list of words
    (
        cd "$d" || exit 1
        exec "$java_bin" -Xmx128m -XX:TieredStopAtLevel=1 -XX:-UsePerfData \
            -XX:ErrorFile="$d/hs_err_server$n.log" -Djava.io.tmpdir="$d" \
            ${ZK_JAVA_OPTS:-} -cp "$cp" -Dlog4j.configuration="file:$s/log4j.properties" \
            org.apache.zookeeper.server.quorum.QuorumPeerMain "$s/zoo.cfg"
    ) > "$d/server$n.out" 2>&1 < /dev/null &
    pid=$!
    disown "$pid" 2> /dev/null # no "Killed" job report from this shell for kill
    echo "$pid" > "$d/server$n.pid"
}

log_tail() { # DIR N
    local f
    for f in "$1/server$2.log" "$1/server$2.out"; do
        if [ -s "$f" ]; then
            echo "--- tail of $f:" >&2
            tail -n 25 "$f" >&2
        fi
    done
}

bind_conflict() { # DIR N
    grep -qs 'Address already in use' "$1/server$2.log" "$1/server$2.out"
}

# wait_serving DIR DEADLINE_MS N...: wait until every listed server answers srvr with a mode.
# 0: all serve; 1: a server died or the deadline passed (named on stderr, log tail printed);
# 2: a server died of a port conflict (no log tail).
wait_serving() {
    local d=$1 end=$2 n pid port ready pending conf
    shift 2
    pending=" $* "
    while :; do
        for n in $pending; do
            pid=$(cat "$d/server$n.pid" 2> /dev/null)
            port=$(cat "$d/server$n.port")
            if ! alive "$pid"; then
                sleep 0.2 # let the log reach the file
                bind_conflict "$d" "$n" && return 2
                warn "server $n (pid $pid) died while starting"
                log_tail "$d" "$n"
                return 1
            fi
            ready_mode "$port"
            case $ready in
                standalone | leader | follower)
                    # Make sure the answer came from this server, not someone else's on the port.
                    conf=$(fourlw "$port" conf)
                    if ! grep -qF "dataDir=$d/server$n/data" <<< "$conf"; then
                        if [ -n "$conf" ]; then
                            warn "port $port answers for another server (dataDir mismatch)"
                            return 2
                        fi
                        continue
                    fi
                    pending=${pending/ $n / }
                    ;;
            esac
        done
        [ -z "${pending// /}" ] && return 0
        if [ "$(now_ms)" -ge "$end" ]; then
            for n in $pending; do
                warn "server $n (port $(cat "$d/server$n.port")) not serving after ${start_timeout}s"
                log_tail "$d" "$n"
            done
            return 1
        fi
        sleep 0.05
    done
}

# --- commands --------------------------------------------------------------------------------

# stop_servers DIR: SIGTERM all servers, wait up to 5 s, SIGKILL the rest; remove pid files.
stop_servers() {
    local d=$1 f pid pids=() n
    for f in "$d"/server*.pid; do
        [ -f "$f" ] || continue
        n=${f##*/server}
        n=${n%.pid}
        pid=$(cat "$f" 2> /dev/null)
        case $pid in '' | *[!0-9]*) rm -f "$f"; continue ;; esac
        if ours "$pid" "$d/server$n/zoo.cfg"; then
            kill -TERM "$pid" 2> /dev/null
            pids+=("$pid")
        fi
    done
    for pid in "${pids[@]}"; do
        if ! wait_gone "$pid" 5000; then
            kill -KILL "$pid" 2> /dev/null
            wait_gone "$pid" 5000 || warn "pid $pid survives SIGKILL"
        fi
    done
    rm -f "$d"/server*.pid
    # The watchdog (if any) has nothing left to do.
    if [ -f "$d/watchdog.pid" ]; then
        pid=$(cat "$d/watchdog.pid" 2> /dev/null)
        rm -f "$d/watchdog.pid"
        if [ -n "$pid" ] && [ "$pid" != "$BASHPID" ] && ours "$pid" "$me"; then
            kill -TERM "$pid" 2> /dev/null
        fi
    fi
    return 0
}

# start_watchdog DIR PID: stop DIR's servers once PID is gone.
start_watchdog() {
    local d=$1 watched=$2
    (
        trap - EXIT INT TERM
        while alive "$watched"; do sleep 0.5; done
        [ -f "$d/watchdog.pid" ] && [ "$(cat "$d/watchdog.pid" 2> /dev/null)" = "$BASHPID" ] || exit 0
        stop_servers "$d"
    ) > /dev/null 2>&1 < /dev/null &
    echo $! > "$d/watchdog.pid"
    disown $! 2> /dev/null
}

cmd_start() { # DIR KIND
    local arg=$1 kind=$2 d count attempt n rc end connect
    case $kind in
        standalone) count=1 ;;
        ensemble) count=3 ;;
        *) die "kind must be standalone or ensemble: $kind" ;;
    esac
    check_tools
    if [ -e "$arg" ]; then
        [ -d "$arg" ] || die "$arg exists and is not a directory"
        [ -z "$(ls -A "$arg" 2> /dev/null)" ] || die "$arg exists and is not empty"
    else
        mkdir -p "$arg" || die "cannot create $arg"
    fi
    d=$(abs_dir "$arg") || die "cannot enter $arg"
    case $d in *[!A-Za-z0-9._/+@,-]*) die "$d: path has characters unsafe in zoo.cfg or a file: URL" ;; esac
    echo "$kind" > "$d/kind" || die "cannot write in $d"
    owned_dir=$d
    end=$(($(now_ms) + start_timeout * 1000))
    for attempt in 0 1 2; do
        if [ "$count" -eq 1 ]; then pick_ports 1 "$attempt"; else pick_ports 9 "$attempt"; fi
        for n in $(seq 1 "$count"); do write_config "$d" "$n" "$count"; done
        for n in $(seq 1 "$count"); do launch "$d" "$n"; done
        [ -n "${ZK_WATCH_PID:-}" ] && [ ! -f "$d/watchdog.pid" ] && start_watchdog "$d" "$ZK_WATCH_PID"
        wait_serving "$d" "$end" $(seq 1 "$count")
        rc=$?
        if [ $rc -eq 0 ]; then
            connect=""
            for n in $(seq 1 "$count"); do
                connect="$connect${connect:+,}127.0.0.1:$(cat "$d/server$n.port")"
            done
            echo "$connect" > "$d/connect"
            echo "$connect"
            return 0
        fi
        stop_servers "$d"
        if [ $rc -eq 2 ] && [ $attempt -lt 2 ] && [ "$(now_ms)" -lt "$end" ]; then
            warn "port conflict, retrying with other ports"
            for n in $(seq 1 "$count"); do
                rm -rf "${d:?}/server$n" "$d/server$n".{log,out,port}
            done
            continue
        fi
        [ $rc -eq 2 ] && for n in $(seq 1 "$count"); do log_tail "$d" "$n"; done
        die "start failed ($kind in $d)"
    done
}

cmd_stop() { # DIR
    local d
    [ -d "$1" ] || return 0
    d=$(abs_dir "$1") || die "cannot enter $1"
    stop_servers "$d"
}

cmd_kill() { # DIR N
    local d pid
    d=$(existing_dir "$1") || exit 1
    check_n "$d" "$2"
    pid=$(server_pid "$d" "$2") || { rm -f "$d/server$2.pid"; die "server $2 is not running"; }
    kill -KILL "$pid" 2> /dev/null
    wait_gone "$pid" 10000 || die "server $2 (pid $pid) survives SIGKILL"
    rm -f "$d/server$2.pid"
}

cmd_restart() { # DIR N
    local d n=$2 port p end
    d=$(existing_dir "$1") || exit 1
    check_n "$d" "$n"
    check_tools
    server_pid "$d" "$n" > /dev/null && die "server $n is already running"
    port=$(cat "$d/server$n.port")
    # Its own client, quorum and election ports must be free (TIME_WAIT leftovers are fine).
    for p in $port $(sed -n "s/^server\.$n=127\.0\.0\.1:\([0-9]*\):\([0-9]*\)$/\1 \2/p" "$d/server$n/zoo.cfg"); do
        port_in_use "$p" listen && die "port $p of server $n is in use"
    done
    launch "$d" "$n"
    end=$(($(now_ms) + start_timeout * 1000))
    if ! wait_serving "$d" "$end" "$n"; then
        bind_conflict "$d" "$n" && log_tail "$d" "$n"
        p=$(cat "$d/server$n.pid" 2> /dev/null)
        if [ -n "$p" ] && ours "$p" "$d/server$n/zoo.cfg"; then
            kill -KILL "$p" 2> /dev/null
            wait_gone "$p" 5000
        fi
        rm -f "$d/server$n.pid"
        die "restart of server $n failed"
    fi
}

cmd_leader() { # DIR
    local d count n end mode
    d=$(existing_dir "$1") || exit 1
    count=$(server_count "$d") || exit 1
    end=$(($(now_ms) + start_timeout * 1000))
    while :; do
        for n in $(seq 1 "$count"); do
            mode=$(server_mode "$(cat "$d/server$n.port")")
            case $mode in leader | standalone) echo "$n"; return 0 ;; esac
        done
        [ "$(now_ms)" -ge "$end" ] && die "no leader after ${start_timeout}s"
        sleep 0.05
    done
}

cmd_mode() { # DIR N
    local d mode
    d=$(existing_dir "$1") || exit 1
    check_n "$d" "$2"
    mode=$(server_mode "$(cat "$d/server$2.port")")
    [ -n "$mode" ] || die "server $2 does not serve"
    echo "$mode"
}

cmd_run() { # DIR KIND -- CMD...
    local arg=$1 kind=$2 d connect st
    shift 2
    [ "${1:-}" = "--" ] || usage
    shift
    [ $# -gt 0 ] || usage
    trap cleanup EXIT
    trap 'run_signal 130' INT
    trap 'run_signal 143' TERM
    # Started from this shell (not a command substitution) so the servers are its children.
    ZK_WATCH_PID=$$ cmd_start "$arg" "$kind" > /dev/null || exit 1
    d=$owned_dir
    connect=$(cat "$d/connect")
    export ZK_CONNECT=$connect ZK_DIR=$d
    # CMD runs in the background so that a signal to this script is handled at once; its
    # stdin is passed on explicitly (an asynchronous command would get /dev/null).
    exec 3<&0
    "$@" <&3 3<&- &
    run_child=$!
    exec 3<&-
    while :; do
        wait "$run_child"
        st=$?
        alive "$run_child" || break
    done
    run_child=""
    exit $st
}

owned_dir=""
run_child=""

# cleanup: stop the servers this invocation started (not those of a DIR it refused).
cleanup() {
    [ -n "$owned_dir" ] && stop_servers "$owned_dir"
}

run_signal() { # EXIT_CODE
    trap - INT TERM
    if [ -n "$run_child" ] && alive "$run_child"; then
        kill -TERM "$run_child" 2> /dev/null
        wait_gone "$run_child" 5000 || kill -KILL "$run_child" 2> /dev/null
    fi
    exit "$1"
}

[ $# -ge 2 ] || usage
cmd=$1
shift
case $cmd in
    start)
        [ $# -eq 2 ] || usage
        trap cleanup EXIT
        trap 'exit 130' INT
        trap 'exit 143' TERM
        cmd_start "$@"
        trap - EXIT
        ;;
    stop) [ $# -eq 1 ] || usage; cmd_stop "$@" ;;
    kill) [ $# -eq 2 ] || usage; cmd_kill "$@" ;;
    restart) [ $# -eq 2 ] || usage; cmd_restart "$@" ;;
    leader) [ $# -eq 1 ] || usage; cmd_leader "$@" ;;
    mode) [ $# -eq 2 ] || usage; cmd_mode "$@" ;;
    run) [ $# -ge 4 ] || usage; cmd_run "$@" ;;
    *) usage ;;
esac
