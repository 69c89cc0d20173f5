#!/bin/sh
# Real-process tests: every tests/scenarios/*.lab through `conlab script` (a first-line
# comment "# expect-exit: N" says which exit status is right; default 0), every tests/proc/*.sh,
# and every shipped lesson's solution (as tests/lessons/run_solutions.sh runs them). Each is
# bounded by a timeout: 180 s, or what a "# timeout: SECONDS" comment in the file's first lines
# says; a lesson has 240 s.
#
# They run CONLAB_JOBS at a time (default 3): a real-process test spends most of its time
# waiting on timers and the network, not on a CPU, and each lab has its own run directory, so
# labs side by side do not meet (DESIGN: many labs on one machine). A file whose first lines
# hold "# serial" runs alone, after the others (it counts processes or namespaces machine-wide).
# Results print in a fixed order. Prints "N passed, M failed"; a failed lesson also ends in a
# line "FAILED LESSONS: ids".
#   CONLAB_BIN     directory holding conlab (default: bin)
#   CONLAB_JOBS    tests at a time (default 3; 1 runs them one after another)
#   SCENARIOS_ONLY run only tests whose path or lesson id contains this
bin=${CONLAB_BIN:-bin}
case $bin in /*) ;; *) bin=$(pwd)/$bin ;; esac
export CONLAB_BIN="$bin"
CONLAB_LESSONS=${CONLAB_LESSONS:-lessons}
export CONLAB_LESSONS
jobs=${CONLAB_JOBS:-3}

# one item: "lab FILE", "sh FILE" or "lesson ID"; writes $work/N.rc and $work/N.out
if [ "${1:-}" = --one ]; then
  work=$2 n=$3 kind=$4 what=$5
  limit() { t=$(head -n 8 "$1" | sed -n 's/^# timeout: *\([0-9][0-9]*\).*/\1/p' | head -n 1); echo "${t:-180}"; }
  start=$(date +%s)
  case $kind in
  lab)
    want=$(sed -n 's/^# expect-exit: *\([0-9]\).*/\1/p' "$what" | head -n 1)
    timeout "$(limit "$what")" "$bin/conlab" script "$what" > "$work/$n.out" 2>&1
    rc=$?
    [ "$rc" = "${want:-0}" ] && rc=0 || echo "exit $rc, wanted ${want:-0}" >> "$work/$n.out" ;;
  sh)
    timeout "$(limit "$what")" sh "$what" > "$work/$n.out" 2>&1
    rc=$? ;;
  lesson)
    # each lesson its own data home: progress files never meet
    XDG_DATA_HOME=$work/home.$n
    export XDG_DATA_HOME
    mkdir -p "$XDG_DATA_HOME"
    if "$bin/conlab" lesson script "$what" > "$work/$n.lab" 2> "$work/$n.out"; then
      timeout 240 "$bin/conlab" script "$work/$n.lab" > "$work/$n.out" 2>&1
      rc=$?
    else
      echo "no solution script" >> "$work/$n.out"
      rc=1
    fi ;;
  esac
  echo "$rc $(( $(date +%s) - start ))" > "$work/$n.rc"
  exit 0
fi

work=$(mktemp -d) || exit 2
trap 'rm -rf "$work"' EXIT INT TERM
only=${SCENARIOS_ONLY:-}
want_item() { [ -z "$only" ] || case $1 in *"$only"*) return 0 ;; *) return 1 ;; esac; }
serial() { head -n 8 "$1" | grep -q '^# serial'; }

# the list: parallel items first, then serial ones (one line each: N KIND WHAT)
n=0
: > "$work/par"
: > "$work/ser"
add() { n=$((n + 1)); echo "$n $1 $2" >> "$work/$3"; }
for f in tests/scenarios/*.lab; do
  [ -e "$f" ] && want_item "$f" || continue
  if serial "$f"; then add lab "$f" ser; else add lab "$f" par; fi
done
for f in tests/proc/*.sh; do
  [ -e "$f" ] && want_item "$f" || continue
  case $f in tests/proc/lessons.sh) continue ;; esac   # its lessons are items of their own below
  if serial "$f"; then add sh "$f" ser; else add sh "$f" par; fi
done
lessons_ok=1
if [ -z "$only" ] || [ -n "$("$bin/conlab" lesson list --ids | tr ' ' '\n' | grep -F -- "$only")" ]; then
  if ! "$bin/conlab" lesson validate lessons/*.yaml lessons/quiz/*.yaml > "$work/validate" 2>&1; then
    lessons_ok=0
  fi
  for id in $("$bin/conlab" lesson list --ids); do
    want_item "$id" && add lesson "$id" par
  done
fi

self=$0
case $self in /*) ;; *) self=$(pwd)/$self ;; esac
run_pool() {  # FILE JOBS
  [ -s "$1" ] || return 0
  while read -r i kind what; do printf '%s\n%s\n%s\n' "$i" "$kind" "$what"; done < "$1" |
    xargs -n 3 -P "$2" sh "$self" --one "$work"
}
run_pool "$work/par" "$jobs"
run_pool "$work/ser" 1

pass=0
fail=0
failed_lessons=""
if [ "$lessons_ok" = 0 ]; then
  fail=$((fail + 1))
  echo "FAIL tests/proc/lessons.sh: lesson validate failed:"
  grep -v ': ok (' "$work/validate" | sed 's/^/    /'
fi
cat "$work/par" "$work/ser" | sort -n | while read -r i kind what; do
  rc=1 secs=?
  [ -f "$work/$i.rc" ] && read -r rc secs < "$work/$i.rc"
  case $kind in lesson) name="lesson $what" ;; *) name=$what ;; esac
  if [ "$rc" = 0 ]; then
    echo "ok   $name (${secs}s)"
  else
    case $kind in
    lesson) echo "FAIL $name (exit $rc, ${secs}s): see below" ;;
    *) echo "FAIL $what (exit $rc, ${secs}s):" ;;
    esac
    tail -n 25 "$work/$i.out" 2>/dev/null | sed 's/^/    /'
  fi
done
for rcf in "$work"/*.rc; do
  [ -e "$rcf" ] || continue
  read -r rc secs < "$rcf"
  if [ "$rc" = 0 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
done
total=$(cat "$work/par" "$work/ser" | wc -l)
ran=$(ls "$work" | grep -c '\.rc$')
fail=$((fail + total - ran))
failed_lessons=$(cat "$work/par" | while read -r i kind what; do
  [ "$kind" = lesson ] || continue
  rc=1; [ -f "$work/$i.rc" ] && read -r rc secs < "$work/$i.rc"
  [ "$rc" = 0 ] || printf ' %s' "$what"
done)
if [ -n "$failed_lessons" ]; then
  echo "FAILED LESSONS:$failed_lessons"
  echo "FAIL tests/proc/lessons.sh (lessons:$failed_lessons)"
fi
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
