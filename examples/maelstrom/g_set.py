#!/usr/bin/env python3
"""g_set.py - Maelstrom's g-set workload as a state-based CRDT (a grow-only set).

add{element} puts the element (any JSON: Maelstrom sends integers) into this node's set;
read{} answers every element it holds. Every 250 ms each node gossips its whole set to every
other node, which merges it by union: union is commutative, associative and idempotent, so the
nodes converge on every element added anywhere once messages get through (after a heal).

  start maelstrom 3 bin=examples/maelstrom/g_set.py workload=g-set
"""
import json

from node import Node

node = Node()
elements = {}  # canonical JSON text -> the element (so 1 and "1" stay two elements)


def key(e):
    return json.dumps(e, sort_keys=True, separators=(",", ":"))


def add(msg):
    e = msg["body"]["element"]
    elements[key(e)] = e
    node.reply(msg, {"type": "add_ok"})


def read(msg):
    node.reply(msg, {"type": "read_ok", "value": [elements[k] for k in sorted(elements)]})


def gossip():
    for peer in node.node_ids:
        if peer != node.node_id:
            node.send(peer, {"type": "gossip", "elements": list(elements.values())})


def merge(msg):
    for e in msg["body"]["elements"]:
        elements[key(e)] = e


node.on("add", add)
node.on("read", read)
node.on("gossip", merge)
node.every(0.25, gossip)
node.run()
