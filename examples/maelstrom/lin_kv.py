#!/usr/bin/env python3
"""lin_kv.py - Maelstrom's lin-kv workload with one primary: linearizable, not available.

The first node of node_ids holds the data and answers read, write and cas itself; every
other node forwards a client's request to it and passes the answer back. Keys and values
are any JSON. While a node cannot reach the primary (a partition, a crash) its clients get
no answer: their operations time out (indeterminate), which keeps the history linearizable.

  python3 lin_kv.py                     # Maelstrom: maelstrom test -w lin-kv --bin lin_kv.py
  start maelstrom 3 bin=examples/maelstrom/lin_kv.py    # conlab

Option --bug=stale-read (start maelstrom 3 bin=... args=--bug=stale-read): a non-primary node
keeps a copy of the writes it forwards and answers reads from that copy when it has the key,
so a read after someone else's write can return the old value: the checker catches it.
"""
import json
import sys

node_id = None
primary = None
next_id = 0
data = {}          # primary: json-encoded key -> value
forwarded = {}     # our msg_id -> (client, client's msg_id)
bug = "--bug=stale-read" in sys.argv[1:] or "stale-read" in sys.argv[1:] and "--bug" in sys.argv[1:]


def send(dest, body):
    global next_id
    next_id += 1
    body["msg_id"] = next_id
    sys.stdout.write(json.dumps({"src": node_id, "dest": dest, "body": body}) + "\n")
    sys.stdout.flush()
    return next_id


def reply(msg, body):
    body["in_reply_to"] = msg["body"].get("msg_id")
    send(msg["src"], body)


def error(code, text):
    return {"type": "error", "code": code, "text": text}


def apply(body):
    """The primary's state machine: the reply body for one request."""
    kind = body["type"]
    key = json.dumps(body.get("key"), sort_keys=True)
    if kind == "read":
        if key not in data:
            return error(20, "key does not exist")
        return {"type": "read_ok", "value": data[key]}
    if kind == "write":
        data[key] = body.get("value")
        return {"type": "write_ok"}
    if kind == "cas":
        if key not in data:
            return error(20, "key does not exist")
        if data[key] != body.get("from"):
            return error(22, "expected %s, found %s" % (json.dumps(body.get("from")), json.dumps(data[key])))
        data[key] = body.get("to")
        return {"type": "cas_ok"}
    return error(10, "lin_kv.py does not know %s" % kind)


def handle(msg):
    global node_id, primary
    body = msg["body"]
    kind = body["type"]
    if kind == "init":
        node_id = body["node_id"]
        primary = body["node_ids"][0]
        reply(msg, {"type": "init_ok"})
    elif kind in ("read", "write", "cas"):
        if node_id == primary:
            reply(msg, apply(body))
        elif bug and kind == "read" and json.dumps(body.get("key"), sort_keys=True) in data:
            reply(msg, apply(body))       # the bug: a stale local copy
        else:
            if bug and kind == "write":
                apply(body)
            fwd = dict(body)
            fwd.pop("msg_id", None)
            mid = send(primary, fwd)
            forwarded[mid] = (msg["src"], body.get("msg_id"))
    elif "in_reply_to" in body and body["in_reply_to"] in forwarded:
        client, client_mid = forwarded.pop(body["in_reply_to"])
        back = dict(body)
        back.pop("msg_id", None)
        back["in_reply_to"] = client_mid
        send(client, back)
    elif "msg_id" in body and "in_reply_to" not in body:
        reply(msg, error(10, "lin_kv.py does not know %s" % kind))


for line in sys.stdin:
    try:
        msg = json.loads(line)
        msg["body"]["type"]
    except (ValueError, KeyError, TypeError) as e:
        print("lin_kv.py: skipping a bad line: %s" % e, file=sys.stderr)
        continue
    handle(msg)
