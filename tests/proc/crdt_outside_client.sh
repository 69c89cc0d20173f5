#!/bin/sh
# An outside client on Maelstrom's wire (issue 16): a program of its own — Python's standard
# library speaking ZeroMQ's ZMTP 3.0 to each node's client socket, no pyzmq — adds integers (and
# any JSON, for the g-set) on different nodes during a partition with Maelstrom's g-counter,
# pn-counter and g-set bodies, heals, and reads the exact sum / the whole set on every node;
# then the same pn-counter bodies through the lab's Maelstrom host (examples/maelstrom/
# g_counter.py). See tests/proc/crdt_outside_client.py.
# timeout: 240
bin=${CONLAB_BIN:-bin}
command -v python3 >/dev/null 2>&1 || { echo "skipped: no python3"; exit 0; }
exec python3 "$(dirname "$0")/crdt_outside_client.py" "$bin"
