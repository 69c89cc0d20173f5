#!/bin/sh
# history export and trace export on a real run, read back by other readers:
#   - the EDN history by `conlab check` (conlab's EDN reader) and by tests/exports_check.py, a
#     second, independent reader of the Jepsen shape (one map per line: :process, :type, :f,
#     :value), which also checks it against the JSONL export operation by operation;
#   - the ShiViz log by the same script, with ShiViz's rules: the regex line, the delimiter
#     line, then event/clock line pairs whose own clock entry counts 1, 2, 3… per host, and
#     every recv that matches a send carrying the sender's clock;
#   - the Chrome trace as JSON with flow arrows paired.
bin=${CONLAB_BIN:-bin}
d=$(mktemp -d /tmp/conlab-exports-XXXXXX) || exit 1
trap 'rm -rf "$d"' EXIT
cat > "$d/run.lab" <<EOS
start raft 3
trace $d/run.trace
wait leader 30s
put x 1
put y 2
cas x 1 3
get x
isolate leader
put x 4
heal
wait leader 30s
get x
history export $d/h.edn
history export $d/h.jsonl
trace export $d/t.log --shiviz
trace export $d/t.json --chrome
EOS
out=$(timeout 120 "$bin/conlab" script "$d/run.lab" 2>&1) || { echo "the run failed:"; echo "$out"; exit 1; }
"$bin/conlab" check "$d/h.edn" >"$d/check.out" 2>&1
rc=$?
[ "$rc" = 0 ] || [ "$rc" = 1 ] || { echo "conlab check refused its own EDN (exit $rc):"; cat "$d/check.out"; exit 1; }
python3 tests/exports_check.py "$d/h.edn" "$d/h.jsonl" "$d/t.log" "$d/t.json" || exit 1
# the same exports from the saved trace, by `conlab trace export`
"$bin/conlab" trace export "$d/run.trace" "$d/t2.log" >/dev/null || { echo "conlab trace export --shiviz failed"; exit 1; }
"$bin/conlab" trace export "$d/run.trace" "$d/t2.json" >/dev/null || { echo "conlab trace export --chrome failed"; exit 1; }
python3 tests/exports_check.py "$d/h.edn" "$d/h.jsonl" "$d/t2.log" "$d/t2.json" || exit 1
echo "exports read back: $(wc -l < "$d/h.edn") EDN lines, $(grep -c '^n[0-9]' "$d/t.log") ShiViz events"
