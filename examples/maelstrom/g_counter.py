#!/usr/bin/env python3
"""g_counter.py - Maelstrom's g-counter (and pn-counter) workload as a state-based CRDT.

Each node counts what was added through it, per node: {n1: 5, n2: 3, ...} (negative deltas,
for pn-counter, in a second map). Every 250 ms it gossips both maps to every other node, and a
node merges what it receives by taking the larger count per node: counts only grow, so the
merge is commutative, associative and idempotent, and every node converges to the same sum
once messages get through (after a partition heals). A read answers the sum.

  start maelstrom 3 bin=examples/maelstrom/g_counter.py workload=g-counter

--bug=overwrite: a node replaces its maps with the ones it receives instead of merging, so the
increments a peer has not seen yet are lost: the nodes still agree, on a total that is too
small, and `expect value = N` flags it.
"""
from node import Node, bug as bug_on

node = Node()
plus, minus = {}, {}
bug = bug_on("overwrite")


def total():
    return sum(plus.values()) - sum(minus.values())


def add(msg):
    delta = msg["body"].get("delta", 0)
    side = plus if delta >= 0 else minus
    side[node.node_id] = side.get(node.node_id, 0) + abs(delta)
    node.reply(msg, {"type": "add_ok"})


def read(msg):
    node.reply(msg, {"type": "read_ok", "value": total()})


def gossip():
    for peer in node.node_ids:
        if peer != node.node_id:
            node.send(peer, {"type": "gossip", "plus": plus, "minus": minus})


def merge(msg):
    global plus, minus
    body = msg["body"]
    if bug:
        plus, minus = dict(body["plus"]), dict(body["minus"])
        return
    for mine, theirs in ((plus, body["plus"]), (minus, body["minus"])):
        for k, v in theirs.items():
            mine[k] = max(mine.get(k, 0), v)


node.on("add", add)
node.on("read", read)
node.on("gossip", merge)
node.every(0.25, gossip)
node.run()
