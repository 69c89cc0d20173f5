#!/bin/sh
# H3: however the lab ends (SIGKILL, SIGTERM, SIGHUP, SIGINT) no conlab-node outlives it, and
# a lab that ends cleanly removes its run directory (ipc sockets included).
set -u
bin=${CONLAB_BIN:-bin}
rt=$(mktemp -d)
export XDG_RUNTIME_DIR="$rt"
status=0
for sig in KILL TERM HUP INT; do
  ( echo "start leader 3"; sleep 60 ) | "$bin/conlab" --plain > "$rt/out.$sig" 2>&1 &
  lab=$!
  i=0
  while [ "$(pgrep -P "$lab" -x conlab-node | wc -l)" -lt 3 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
  nodes=$(pgrep -P "$lab" -x conlab-node | tr '\n' ' ')
  if [ "$(echo $nodes | wc -w)" -ne 3 ]; then
    echo "SIG$sig: the lab did not start 3 nodes"; cat "$rt/out.$sig"; status=1; continue
  fi
  kill -s "$sig" "$lab"
  i=0
  alive=$nodes
  while [ -n "$alive" ] && [ $i -lt 50 ]; do
    sleep 0.1; i=$((i + 1)); alive=""
    for p in $nodes; do kill -0 "$p" 2>/dev/null && alive="$alive $p"; done
  done
  if [ -n "$alive" ]; then
    echo "SIG$sig: conlab-node survived the lab:$alive"; status=1
    kill -9 $alive 2>/dev/null
  else
    echo "SIG$sig: all 3 nodes exited with the lab"
  fi
  if [ "$sig" != KILL ] && [ -d "$rt/conlab/$lab" ]; then
    sleep 0.5
    if [ -d "$rt/conlab/$lab" ]; then echo "SIG$sig: run directory left behind"; status=1; fi
  fi
  pkill -P $$ sleep 2>/dev/null
  wait 2>/dev/null
done
# a later lab sweeps the directory a killed lab left
echo "quit" | "$bin/conlab" --plain >/dev/null 2>&1
left=$(ls "$rt/conlab" 2>/dev/null | wc -l)
if [ "$left" -ne 0 ]; then echo "stale run directories were not swept: $(ls "$rt/conlab")"; status=1; fi
rm -rf "$rt"
exit $status
