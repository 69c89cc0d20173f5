#!/usr/bin/env bash
# etcd_vs_conlab.sh — measure etcd 3.4 and conlab side by side on this machine, in one run.
#
#   lab/bench/etcd_vs_conlab.sh [--mode M] [--seconds S] [--clients C] [--keys K] [--elections T]
#                           [--fsync on|off] [--spread] [--skip-etcd] [--skip-conlab]
#
# 1. Installs Debian's etcd-server and etcd-client with apt-get when etcd or etcdctl is absent
#    (as root; otherwise prints the apt-get line and exits 2).
# 2. Starts a 3-member etcd cluster on 127.0.0.1 (distinct client and peer ports, data dirs in
#    a mktemp directory on the same disk as conlab's), waits until every member is healthy.
# 3. Drives it with lab/bench/etcdload (built here with cc): C closed-loop clients (default 16) for
#    S seconds, then one client, each put a `POST /v3/kv/put` to the leader's gRPC gateway.
# 4. Times T elections (default 20): finds the leader with `etcdctl endpoint status -w json`,
#    SIGKILLs it and polls the survivors until one reports a leader in a higher term; restarts
#    the killed member and waits for health before the next trial.
# 5. Stops etcd, then runs `bin/conlab bench --mode M` (default raft) with the same clients,
#    seconds and keys, then with one client, then `--elections T`.
# 6. Prints a side-by-side table with conlab/etcd ratios and the targets of the benchmark.
#
# Timing parity with conlab's Raft (heartbeat 50 ms, election timeout random in 150-300 ms):
# etcd draws its election timeout at random in [E, 2E) heartbeat ticks and refuses an election
# timeout below 5 heartbeats, so heartbeat 50 / election 150 is not allowed. We keep the
# election timeout exactly 150 ms (randomised 150-300 ms, as conlab's) and take the largest
# heartbeat allowed, 30 ms. Override with ETCD_HEARTBEAT_MS / ETCD_ELECTION_MS.
# fsync: both sides fsync their log before acknowledging (etcd's default, conlab's fsync=on).
# --fsync off passes --unsafe-no-fsync to etcd (etcd >= 3.5 only; 3.4 has no such flag) and
# fsync=off to conlab.
#
# Every process this script starts is killed on exit (trap), every wait is bounded.
set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
MODE=raft SECONDS_RUN=5 CLIENTS=16 KEYS=100 ELECTIONS=20 FSYNC=on SPREAD='' SKIP_ETCD=0 SKIP_CONLAB=0
HB=${ETCD_HEARTBEAT_MS:-30}
ET=${ETCD_ELECTION_MS:-150}
CONLAB=${CONLAB_BIN:-$ROOT/bin}/conlab
ETCDLOAD=${CONLAB_BIN:-$ROOT/bin}/etcdload

usage() { sed -n '4,5p' "$0" | sed 's/^# \{0,1\}//'; }
die() { echo "etcd_vs_conlab: $*" >&2; exit 2; }

while [ $# -gt 0 ]; do
    case $1 in
    --mode) MODE=${2:?--mode needs a value}; shift ;;
    --seconds) SECONDS_RUN=${2:?--seconds needs a value}; shift ;;
    --clients) CLIENTS=${2:?--clients needs a value}; shift ;;
    --keys) KEYS=${2:?--keys needs a value}; shift ;;
    --elections) ELECTIONS=${2:?--elections needs a value}; shift ;;
    --fsync) FSYNC=${2:?--fsync needs on or off}; shift ;;
    --spread) SPREAD=--spread ;;
    --skip-etcd) SKIP_ETCD=1 ;;
    --skip-conlab) SKIP_CONLAB=1 ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown option $1" ;;
    esac
    shift
done
case $SECONDS_RUN in ''|*[!0-9]*) die "--seconds $SECONDS_RUN: expected whole seconds" ;; esac
case $CLIENTS in ''|*[!0-9]*|0) die "--clients $CLIENTS: expected a positive integer" ;; esac
case $KEYS in ''|*[!0-9]*|0) die "--keys $KEYS: expected a positive integer" ;; esac
case $ELECTIONS in ''|*[!0-9]*) die "--elections $ELECTIONS: expected a whole number" ;; esac
case $FSYNC in on|off) ;; *) die "--fsync $FSYNC: expected on or off" ;; esac
case $HB$ET in *[!0-9]*) die "ETCD_HEARTBEAT_MS and ETCD_ELECTION_MS must be whole milliseconds" ;; esac

# ---- packages and binaries ------------------------------------------------------------------
if [ $SKIP_ETCD = 0 ] && ! { command -v etcd && command -v etcdctl; } >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then
        echo "installing etcd-server etcd-client"
        DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq --no-install-recommends \
            etcd-server etcd-client >/dev/null || die "apt-get install etcd-server etcd-client failed"
        # the package enables a system service; make sure no stray etcd holds port 2379
        command -v systemctl >/dev/null 2>&1 && systemctl stop etcd >/dev/null 2>&1
    else
        echo "this benchmark needs etcd; run as root:"
        echo "  apt-get install -y etcd-server etcd-client"
        exit 2
    fi
fi
UNSAFE=''
if [ "$FSYNC" = off ] && [ $SKIP_ETCD = 0 ]; then
    etcd --help 2>&1 | grep -q -- --unsafe-no-fsync ||
        die "--fsync off: this etcd ($(etcd --version | head -1)) has no --unsafe-no-fsync (etcd >= 3.5)"
    UNSAFE=--unsafe-no-fsync
fi
if [ $SKIP_CONLAB = 0 ] && [ ! -x "$CONLAB" ]; then
    timeout 600 make -C "$ROOT" -s all >/dev/null || die "cannot build $CONLAB"
fi
if [ $SKIP_ETCD = 0 ] && { [ ! -x "$ETCDLOAD" ] || [ "$ROOT/lab/bench/etcdload.c" -nt "$ETCDLOAD" ]; }; then
    mkdir -p "$(dirname "$ETCDLOAD")"
    ${CC:-cc} -std=c11 -O2 -Wall -Wextra -o "$ETCDLOAD" "$ROOT/lab/bench/etcdload.c" -lm ||
        die "cannot build $ETCDLOAD"
fi

# ---- the etcd cluster -----------------------------------------------------------------------
TMP=$(mktemp -d "${TMPDIR:-/tmp}/etcdbench.XXXXXX") || die "mktemp failed"
declare -a PID=(0 0 0 0) CPORT PPORT
cleanup() {
    for i in 1 2 3; do
        if [ "${PID[$i]}" != 0 ]; then
            kill -9 "${PID[$i]}" 2>/dev/null
            wait "${PID[$i]}" 2>/dev/null
        fi
    done
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port_busy() { ss -Htln "sport = :$1" 2>/dev/null | grep -q .; }
pick_ports() {
    local base k i ok
    for k in 0 1 2 3 4 5 6 7; do
        base=$((21000 + ($$ * 7 + k * 613) % 20000))
        ok=1
        for i in 0 1 2 3 4 5; do port_busy $((base + i)) && ok=0; done
        if [ $ok = 1 ]; then
            for i in 1 2 3; do CPORT[i]=$((base + i - 1)); PPORT[i]=$((base + i + 2)); done
            return 0
        fi
    done
    die "no free ports for etcd"
}

CLUSTER='' ALL=''
start_member() { # start_member I — (re)starts member I in the background
    local i=$1
    etcd --name "m$i" --data-dir "$TMP/m$i" \
        --listen-client-urls "http://127.0.0.1:${CPORT[$i]}" \
        --advertise-client-urls "http://127.0.0.1:${CPORT[$i]}" \
        --listen-peer-urls "http://127.0.0.1:${PPORT[$i]}" \
        --initial-advertise-peer-urls "http://127.0.0.1:${PPORT[$i]}" \
        --initial-cluster "$CLUSTER" --initial-cluster-state new \
        --initial-cluster-token "etcdbench-$$" \
        --heartbeat-interval "$HB" --election-timeout "$ET" \
        --logger zap --log-outputs stderr ${UNSAFE:+"$UNSAFE"} >>"$TMP/m$i.log" 2>&1 &
    PID[i]=$!
}

ctl() { ETCDCTL_API=3 timeout 10 etcdctl --dial-timeout=1s --command-timeout=2s "$@"; }

wait_healthy() { # every member answers a quorum read, within 30 s
    for _ in $(seq 300); do
        ctl --endpoints="$ALL" endpoint health >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "etcd_vs_conlab: etcd not healthy after 30 s; logs:" >&2
    tail -n 5 "$TMP"/m*.log >&2
    return 1
}

# Prints "INDEX TERM" of the member that is leader, as seen by every member.
find_leader() {
    local out lines leader term i
    out=$(ctl --endpoints="$ALL" endpoint status -w json 2>/dev/null) || return 1
    lines=$(printf '%s' "$out" | sed 's/{"Endpoint"/\n&/g' |
        sed -n 's/.*"Endpoint":"\([^"]*\)".*"member_id":\([0-9]*\).*"leader":\([0-9]*\).*"raftTerm":\([0-9]*\).*/\1 \2 \3 \4/p')
    [ "$(printf '%s\n' "$lines" | awk '{print $3}' | sort -u | wc -l)" = 1 ] || return 1
    leader=$(printf '%s\n' "$lines" | awk '$2 == $3 {print $1, $4}')
    [ -n "$leader" ] || return 1
    for i in 1 2 3; do
        if [ "${leader%% *}" = "http://127.0.0.1:${CPORT[$i]}" ]; then
            term=${leader#* }
            echo "$i $term"
            return 0
        fi
    done
    return 1
}

# nearest-rank median, min, max of numbers on stdin: "MEDIAN MIN MAX N"
summary() {
    sort -g | awk '{v[NR] = $1} END {
        if (!NR) { print "0 0 0 0"; exit }
        m = int(NR * 0.5); if (m < NR * 0.5) m++; if (m < 1) m = 1
        print v[m], v[1], v[NR], NR }'
}

jget() { printf '%s' "$2" | sed -n "s/.*\"$1\":\\([^,}]*\\).*/\\1/p"; }
jlist() { printf '%s' "$2" | sed -n "s/.*\"$1\":\\[\\([^]]*\\)\\].*/\\1/p" | tr ',' '\n' | sed '/^$/d'; }

E16='' E1='' EEL=''
if [ $SKIP_ETCD = 0 ]; then
    pick_ports
    for i in 1 2 3; do
        CLUSTER="${CLUSTER:+$CLUSTER,}m$i=http://127.0.0.1:${PPORT[$i]}"
        ALL="${ALL:+$ALL,}http://127.0.0.1:${CPORT[$i]}"
    done
    echo "etcd: $(etcd --version | head -1 | sed 's/etcd Version: //'), 3 members on 127.0.0.1:${CPORT[1]}-${CPORT[3]}," \
        "heartbeat $HB ms, election timeout $ET ms, fsync $FSYNC, data in $TMP"
    for i in 1 2 3; do start_member "$i"; done
    wait_healthy || exit 1
    lt=
    for _ in $(seq 50); do lt=$(find_leader) && break; sleep 0.1; done
    [ -n "$lt" ] || die "etcd elected no leader"
    L=${lt%% *}
    TARGET="http://127.0.0.1:${CPORT[$L]}"
    for i in 1 2 3; do [ "$i" != "$L" ] && TARGET="$TARGET,http://127.0.0.1:${CPORT[$i]}"; done
    LOADT=$((SECONDS_RUN + 30))
    echo "etcd: $CLIENTS clients, $SECONDS_RUN s ..."
    E16=$(timeout $LOADT "$ETCDLOAD" put --endpoints "$TARGET" --clients "$CLIENTS" --seconds "$SECONDS_RUN" \
        --keys "$KEYS" --nodes 3 ${SPREAD:+"$SPREAD"} --json) || die "etcdload failed ($CLIENTS clients)"
    echo "  $E16"
    echo "etcd: 1 client, $SECONDS_RUN s ..."
    E1=$(timeout $LOADT "$ETCDLOAD" put --endpoints "$TARGET" --clients 1 --seconds "$SECONDS_RUN" \
        --keys "$KEYS" --nodes 3 --json) || die "etcdload failed (1 client)"
    echo "  $E1"
    if [ "$ELECTIONS" -gt 0 ]; then
        echo "etcd: $ELECTIONS elections after SIGKILL of the leader ..."
        for k in $(seq "$ELECTIONS"); do
            lt=
            for _ in $(seq 50); do lt=$(find_leader) && break; sleep 0.1; done
            [ -n "$lt" ] || { echo "  trial $k: no agreed leader, stopping" >&2; break; }
            L=${lt%% *}
            TERM_OLD=${lt#* }
            SURV=
            for i in 1 2 3; do [ "$i" != "$L" ] && SURV="${SURV:+$SURV,}http://127.0.0.1:${CPORT[$i]}"; done
            ms=$(timeout 20 "$ETCDLOAD" elect --endpoints "$SURV" --kill "${PID[$L]}" --term "$TERM_OLD" \
                --timeout-ms 10000) && EEL="$EEL $ms"
            wait "${PID[$L]}" 2>/dev/null
            printf '  trial %d: killed m%d (term %s): %s ms\n' "$k" "$L" "$TERM_OLD" "${ms:-none}"
            start_member "$L"
            wait_healthy || exit 1
            sleep 0.3
        done
    fi
    for i in 1 2 3; do
        kill -9 "${PID[$i]}" 2>/dev/null
        wait "${PID[$i]}" 2>/dev/null
        PID[i]=0
    done
fi

# ---- conlab ---------------------------------------------------------------------------------
C16='' C1='' CEL=''
if [ $SKIP_CONLAB = 0 ]; then
    CT=$((SECONDS_RUN * 4 + 120))
    OPTS=()
    [ "$FSYNC" = off ] && OPTS=(--opt fsync=off)
    echo "conlab $MODE: $CLIENTS clients, $SECONDS_RUN s ..."
    if C16=$(timeout $CT "$CONLAB" bench --mode "$MODE" --nodes 3 --clients "$CLIENTS" --seconds "$SECONDS_RUN" \
        --keys "$KEYS" "${OPTS[@]}" --json); then
        echo "  $C16"
        echo "conlab $MODE: 1 client, $SECONDS_RUN s ..."
        C1=$(timeout $CT "$CONLAB" bench --mode "$MODE" --nodes 3 --clients 1 --seconds "$SECONDS_RUN" \
            --keys "$KEYS" "${OPTS[@]}" --json) && echo "  $C1"
        if [ "$ELECTIONS" -gt 0 ]; then
            echo "conlab $MODE: $ELECTIONS elections after SIGKILL of the leader ..."
            CEL=$(timeout $((CT + ELECTIONS * 15)) "$CONLAB" bench --mode "$MODE" --nodes 3 --clients 1 --seconds 1 \
                --keys "$KEYS" --elections "$ELECTIONS" "${OPTS[@]}" --json) && echo "  $CEL"
        fi
    else
        echo "  conlab bench --mode $MODE failed (is the mode built in?)" >&2
        C16=
    fi
fi

# ---- the table ------------------------------------------------------------------------------
read -r EMED EMIN EMAX EN < <(printf '%s' "$EEL" | tr ' ' '\n' | sed '/^$/d' | summary)
read -r CMED CMIN CMAX CN < <(jlist election_ms "$CEL" | summary)
[ -n "$EEL" ] || EMED=
[ -n "$(jlist election_ms "$CEL")" ] || CMED=
echo
echo "3 nodes, fsync $FSYNC, $SECONDS_RUN s per run, puts over $KEYS keys; etcd heartbeat $HB ms / election $ET ms"
# row NAME ETCD CONLAB BETTER(higher|lower|-) TARGET(yes|-)
row() {
    awk -v name="$1" -v e="$2" -v c="$3" -v better="$4" -v target="$5" 'BEGIN {
        es = e == "" ? "n/a" : e; cs = c == "" ? "n/a" : c
        ratio = (e == "" || c == "" || e + 0 == 0) ? "" : sprintf("%.2f", c / e)
        verdict = ""
        if (target == "yes" && ratio != "")
            verdict = (better == "higher" ? c + 0 >= e + 0 : c + 0 <= e + 0) ? "met" : "NOT met"
        printf "%-28s %12s %12s %8s  %s\n", name, es, cs, ratio, verdict }'
}
printf '%-28s %12s %12s %8s  %s\n' "" etcd "conlab $MODE" ratio "target"
row "puts/s, $CLIENTS clients" "$(jget throughput "$E16")" "$(jget throughput "$C16")" higher yes
row "p50 ms, $CLIENTS clients" "$(jget p50_ms "$E16")" "$(jget p50_ms "$C16")" lower -
row "p99 ms, $CLIENTS clients" "$(jget p99_ms "$E16")" "$(jget p99_ms "$C16")" lower yes
row "puts/s, 1 client" "$(jget throughput "$E1")" "$(jget throughput "$C1")" higher -
row "p50 ms, 1 client" "$(jget p50_ms "$E1")" "$(jget p50_ms "$C1")" lower yes
row "p99 ms, 1 client" "$(jget p99_ms "$E1")" "$(jget p99_ms "$C1")" lower -
row "election median ms" "$EMED" "$CMED" lower yes
row "election min ms" "${EMED:+$EMIN}" "${CMED:+$CMIN}" lower -
row "election max ms" "${EMED:+$EMAX}" "${CMED:+$CMAX}" lower -
[ -n "$EMED" ] || EN=0
[ -n "$CMED" ] || CN=0
echo "elections timed: etcd $EN, conlab $CN; ratio is conlab/etcd"
