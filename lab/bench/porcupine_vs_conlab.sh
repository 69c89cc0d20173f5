#!/bin/sh
# Porcupine and conlab side by side, in one run, on the same histories: every file of
# Porcupine's test_data (tests/data/porcupine: kv histories of 1, 10 and 50 clients, 102 Jepsen
# etcd logs). Porcupine runs as itself: its source tree (a checkout, or a bare git directory)
# is copied to a temporary directory with lab/bench/porcupine/conlab_bench_test.go, which
# times Porcupine's CheckEvents with Porcupine's own parsers and models (go test, no network:
# Porcupine has no dependencies). conlab runs `conlab check --verdict-only` (the verdict alone,
# as Porcupine gives) and, for the record, the full report (counterexample minimised and
# explained). Each figure is the best of RUNS runs of the check alone (loading excluded).
#
# With KNOSSOS_SRC (Knossos's source tree or a git directory of it: github.com/jepsen-io/knossos),
# every history of Knossos's data/cas-register (120 files, taken from it at bench time: 2.4 MB,
# not kept in this repository) joins the run: Porcupine reads them through our own EDN reader
# and a cas-register model with Knossos's semantics (lab/bench/porcupine/knossos_edn_test.go),
# and both verdicts are also compared with Knossos's own (the good/ and bad/ directories, as
# Knossos's core_test.clj expects them).
#
#   sh lab/bench/porcupine_vs_conlab.sh PORCUPINE_SRC [RUNS]      (or PORCUPINE_DIR=…)
#   KNOSSOS_SRC=/path/to/knossos sh lab/bench/porcupine_vs_conlab.sh PORCUPINE_SRC [RUNS]
#   needs: go (Debian: golang-go), bin/conlab built; prints a table and the totals.
set -u
BIN=${CONLAB_BIN:-bin}
SRC=${1:-${PORCUPINE_DIR:-}}
RUNS=${2:-${BENCH_RUNS:-3}}
KSRC=${KNOSSOS_SRC:-}
if [ -z "$SRC" ] || [ ! -e "$SRC" ]; then
  echo "usage: $0 PORCUPINE_SRC [RUNS]   (git clone https://github.com/anishathalye/porcupine)" >&2
  exit 2
fi
command -v go >/dev/null 2>&1 || { echo "$0: needs go (apt-get install golang-go)" >&2; exit 2; }
here=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d /tmp/conlab-porcupine-XXXXXX) || exit 2
trap 'rm -rf "$tmp"' EXIT
if [ -f "$SRC/checker.go" ]; then
  cp -r "$SRC"/. "$tmp/src"
elif git --git-dir="$SRC" rev-parse HEAD >/dev/null 2>&1; then
  mkdir -p "$tmp/src" && git --git-dir="$SRC" archive HEAD | tar -x -C "$tmp/src"
elif git -C "$SRC" rev-parse HEAD >/dev/null 2>&1; then
  mkdir -p "$tmp/src" && git -C "$SRC" archive HEAD | tar -x -C "$tmp/src"
else
  echo "$0: $SRC is neither Porcupine's source tree nor a git repository of it" >&2
  exit 2
fi
rev=$( (git --git-dir="$SRC" rev-parse --short HEAD || git -C "$SRC" rev-parse --short HEAD) 2>/dev/null | head -n 1)
cp "$here/lab/bench/porcupine/conlab_bench_test.go" "$here/lab/bench/porcupine/knossos_edn_test.go" "$tmp/src/"
files=$(ls "$here"/tests/data/porcupine/kv/*.txt "$here"/tests/data/porcupine/jepsen/*/*.log)
krev=""
if [ -n "$KSRC" ]; then
  mkdir -p "$tmp/knossos"
  if [ -d "$KSRC/data/cas-register" ]; then
    cp -r "$KSRC/data" "$tmp/knossos/"
  elif git --git-dir="$KSRC" rev-parse HEAD >/dev/null 2>&1; then
    git --git-dir="$KSRC" archive HEAD data/cas-register | tar -x -C "$tmp/knossos"
  elif git -C "$KSRC" rev-parse HEAD >/dev/null 2>&1; then
    git -C "$KSRC" archive HEAD data/cas-register | tar -x -C "$tmp/knossos"
  fi
  [ -d "$tmp/knossos/data/cas-register" ] || { echo "$0: KNOSSOS_SRC=$KSRC holds no data/cas-register" >&2; exit 2; }
  krev=$( (git --git-dir="$KSRC" rev-parse --short HEAD || git -C "$KSRC" rev-parse --short HEAD) 2>/dev/null | head -n 1)
  kfiles=$(ls "$tmp"/knossos/data/cas-register/*/*.edn)
  echo "Knossos: $(echo "$kfiles" | wc -l) files of data/cas-register" >&2
  files="$files $kfiles"
fi
echo "Porcupine ${rev:-(source)} ($(go version | awk '{print $3}')) and conlab $("$BIN/conlab" --version | awk '{print $2}'), best of $RUNS, $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg)${KSRC:+; Knossos ${krev:-(source)} data/cas-register}"
(cd "$tmp/src" && CONLAB_BENCH_FILES="$files" CONLAB_BENCH_RUNS="$RUNS" GOFLAGS=-mod=mod GOPROXY=off \
   GOCACHE="$tmp/gocache" GOPATH="$tmp/gopath" go test -run TestConlabBench -count=1 -v . 2>&1) |
  grep '^porcupine ' > "$tmp/porc.txt"
[ -s "$tmp/porc.txt" ] || { echo "$0: Porcupine's run printed nothing" >&2; exit 1; }

ms_of() { sed -n 's/.*"elapsed_ms":\([0-9.e+-]*\).*/\1/p'; }
best() { # best elapsed_ms of RUNS runs of conlab check ARGS
  b=""
  i=0
  while [ "$i" -lt "$RUNS" ]; do
    t=$("$BIN/conlab" check --quiet --json "$@" 2>/dev/null | ms_of)
    b=$(awk -v a="${b:-1e18}" -v t="${t:-1e18}" 'BEGIN { print (t < a ? t : a) }')
    i=$((i + 1))
  done
  echo "$b"
}
printf '%-22s %-17s %-17s %12s %12s %14s\n' history porcupine conlab "porcupine ms" "conlab ms" "conlab+why ms"
agree=0; differ=0; kagree=0; kdiffer=0
for f in $files; do
  pv=$(awk -v f="$f" '$2 == f { print $3 }' "$tmp/porc.txt")
  ps=$(awk -v f="$f" '$2 == f { printf "%.3f", $4 * 1000 }' "$tmp/porc.txt")
  "$BIN/conlab" check --quiet --verdict-only "$f" >/dev/null 2>&1
  rc=$?
  cv=$([ "$rc" = 0 ] && echo linearizable || { [ "$rc" = 1 ] && echo not-linearizable || echo "unknown($rc)"; })
  cs=$(best --verdict-only "$f")
  cw=$(best "$f")
  if [ "$pv" = "$cv" ]; then agree=$((agree + 1)); else differ=$((differ + 1)); fi
  case $f in
    */knossos/data/cas-register/good/*) kv=linearizable ;;
    */knossos/data/cas-register/bad/*) kv=not-linearizable ;;
    *) kv="" ;;
  esac
  if [ -n "$kv" ]; then
    if [ "$kv" = "$pv" ] && [ "$kv" = "$cv" ]; then kagree=$((kagree + 1)); else kdiffer=$((kdiffer + 1)); echo "Knossos says $kv: $f" >&2; fi
  fi
  name=$(echo "$f" | sed -e 's|.*/porcupine/||' -e 's|.*/knossos/data/|knossos/|')
  printf '%-22s %-17s %-17s %12s %12.3f %14.3f\n' "$name" "$pv" "$cv" "$ps" "$cs" "$cw"
done > "$tmp/table.txt"
cat "$tmp/table.txt"
awk -v agree="$agree" -v differ="$differ" -v kagree="$kagree" -v kdiffer="$kdiffer" '
  { n++; p += $4; c += $5; w += $6
    if ($1 ~ /^kv/) { kn++; kp += $4; kc += $5; kw += $6 }
    else if ($1 ~ /^knossos/) { qn++; qp += $4; qc += $5; qw += $6 }
    else { jn++; jp += $4; jc += $5; jw += $6 } }
  END {
    printf "verdicts: %d agree, %d differ (of %d files)\n", agree, differ, n
    if (qn) printf "Knossos verdicts (good/ and bad/): both agree on %d, %d differ (of %d files)\n", kagree, kdiffer, qn
    printf "total kv (%d files):        porcupine %9.1f ms  conlab %9.1f ms  (x%.2f)  with explanations %9.1f ms\n", kn, kp, kc, kp / (kc > 0 ? kc : 1e-9), kw
    printf "total jepsen (%d files):  porcupine %9.1f ms  conlab %9.1f ms  (x%.2f)  with explanations %9.1f ms\n", jn, jp, jc, jp / (jc > 0 ? jc : 1e-9), jw
    if (qn) printf "total knossos (%d files): porcupine %9.1f ms  conlab %9.1f ms  (x%.2f)  with explanations %9.1f ms\n", qn, qp, qc, qp / (qc > 0 ? qc : 1e-9), qw
    printf "total:                     porcupine %9.1f ms  conlab %9.1f ms  (porcupine/conlab = %.2f)\n", p, c, p / (c > 0 ? c : 1e-9)
  }' "$tmp/table.txt"
[ "$differ" = 0 ] && [ "$kdiffer" = 0 ]
