#!/usr/bin/env python3
"""broadcast.py - Maelstrom's broadcast workload (Gossip Glomers' challenge 3): every message
broadcast through any node must reach every node, partitions or not.

A node keeps the set of messages it has seen. On `broadcast` it adds the message, answers
broadcast_ok and tells its neighbours at once; every 300 ms it also sends each neighbour the
messages that neighbour has not confirmed yet, so a message lost to a partition is sent again
after the heal. A neighbour confirms with gossip_ok. `topology` sets the neighbours (default:
every other node).

  start maelstrom 3 bin=examples/maelstrom/broadcast.py workload=broadcast

--bug=no-retry: a message is passed on once, when it arrives, and never again: whatever a
partition drops is lost for ever, and the nodes never converge.
"""
from node import Node, bug as bug_on

node = Node()
seen = set()
neighbours = []
unconfirmed = {}          # neighbour -> set of messages it has not confirmed
bug = bug_on("no-retry")


def init(msg):
    global neighbours
    neighbours = [n for n in msg["body"]["node_ids"] if n != msg["body"]["node_id"]]
    for n in neighbours:
        unconfirmed[n] = set()


def learn(values, source=None):
    new = [v for v in values if v not in seen]
    seen.update(new)
    if new:
        for n in neighbours:
            if n != source:
                if not bug:
                    unconfirmed[n].update(new)
                node.send(n, {"type": "gossip", "messages": new})


def broadcast(msg):
    learn([msg["body"]["message"]])
    node.reply(msg, {"type": "broadcast_ok"})


def read(msg):
    node.reply(msg, {"type": "read_ok", "messages": sorted(seen, key=str)})


def topology(msg):
    global neighbours
    topo = msg["body"].get("topology", {})
    if node.node_id in topo:
        neighbours = list(topo[node.node_id])
        for n in neighbours:
            unconfirmed.setdefault(n, set())
    node.reply(msg, {"type": "topology_ok"})


def gossip(msg):
    values = msg["body"]["messages"]
    learn(values, source=msg["src"])
    node.reply(msg, {"type": "gossip_ok", "messages": values})


def gossip_ok(msg):
    unconfirmed.setdefault(msg["src"], set()).difference_update(msg["body"].get("messages", []))


def resend():
    for n, pending in unconfirmed.items():
        if pending:
            node.send(n, {"type": "gossip", "messages": sorted(pending, key=str)})


node.on("init", init)
node.on("broadcast", broadcast)
node.on("read", read)
node.on("topology", topology)
node.on("gossip", gossip)
node.on("gossip_ok", gossip_ok)
node.every(0.3, resend)
node.run()
