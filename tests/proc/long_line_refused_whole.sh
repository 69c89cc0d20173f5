#!/bin/sh
# A REPL line over 64 KiB on a pipe is refused whole: its tail after a ';' never runs (issue
# 13: `crash n1 ; crash n2` at the end of a 70 kB line used to run). Both when the newline
# comes in the same read and when it comes reads later.
bin=${CONLAB_BIN:-bin}
long=$(head -c 70000 /dev/zero | tr '\0' 'x')
out=$( { printf 'start raft 3 sim=on\nwait leader\n'; printf 'put k %s ; crash n1 ; crash n2\n' "$long";
         printf 'put %s v ; crash n3\n' "$long"; printf 'status\n'; } | timeout 60 "$bin/conlab" --plain 2>&1)
rc=$?
[ "$rc" = 0 ] || { echo "exit $rc"; echo "$out" | cut -c1-200 | tail -20; exit 1; }
echo "$out" | grep -q 'refused whole' || { echo "no refusal:"; echo "$out" | cut -c1-200 | tail -20; exit 1; }
for n in n1 n2 n3; do
  line=$(echo "$out" | grep "^$n raft")
  case "$line" in
    *down*) echo "the tail of a refused line ran: $line"; exit 1 ;;
    "") echo "no status line for $n:"; echo "$out" | cut -c1-200 | tail -20; exit 1 ;;
  esac
done
exit 0
