#!/usr/bin/env python3
"""counter_kv.py - Maelstrom's g-counter workload on the seq-kv service (Gossip Glomers 4).

The nodes keep no state of their own: an `add` does a compare-and-set loop on one key of the
seq-kv service ("counter"), a `read` reads it. Runs unchanged under Maelstrom
(maelstrom test -w g-counter --bin counter_kv.py) and in conlab, where the lab provides the
service: start maelstrom 3 bin=examples/maelstrom/counter_kv.py workload=g-counter.

Service calls are synchronous: the node writes the request and reads stdin until the reply,
keeping what else arrives for later. Standard library only.

seq-kv is only sequentially consistent: a node may read a past state of the store (in the lab:
the state as it last saw it, when another node has written since). So a `read` first writes a
key of its own ("sync-n2"): a write takes effect at the newest state, and the node's reads can
never go back before its own write, so the read that follows sees every add acknowledged before
it began. --bug=stale-read (args=--bug,stale-read) skips that write: a read may miss another
node's add. --service=lin-kv keeps the counter in lin-kv instead, where a read is never stale.
"""
import collections
import json
import sys

node_id = None
next_id = 0
later = collections.deque()
ARGS = sys.argv[1:]
SERVICE = next((a.split("=", 1)[1] for a in ARGS if a.startswith("--service=")), "seq-kv")
STALE_READ = "--bug=stale-read" in ARGS or any(a == "--bug" and b == "stale-read" for a, b in zip(ARGS, ARGS[1:]))
KEY = "counter"


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


def read_msg():
    while True:
        line = sys.stdin.readline()
        if not line:
            sys.exit(0)
        try:
            msg = json.loads(line)
            msg["body"]["type"]
            return msg
        except (ValueError, KeyError, TypeError) as e:
            print("counter_kv.py: skipping a bad line: %s" % e, file=sys.stderr)


def call(body):
    """A request to the service; its reply body (other messages wait in `later`)."""
    mid = send(SERVICE, body)
    while True:
        msg = read_msg()
        if msg["src"] == SERVICE and msg["body"].get("in_reply_to") == mid:
            return msg["body"]
        later.append(msg)


def current():
    r = call({"type": "read", "key": KEY})
    if r["type"] == "read_ok":
        return r["value"]
    if r.get("code") == 20:
        return 0
    raise RuntimeError("read: %s" % r)


def handle(msg):
    global node_id
    body = msg["body"]
    kind = body["type"]
    if kind == "init":
        node_id = body["node_id"]
        reply(msg, {"type": "init_ok"})
    elif kind == "add":
        delta = body.get("delta")
        if not isinstance(delta, int) or delta < 0:
            reply(msg, {"type": "error", "code": 12, "text": "add needs a whole delta >= 0"})
            return
        while True:
            cur = current()
            r = call({"type": "cas", "key": KEY, "from": cur, "to": cur + delta, "create_if_not_exists": True})
            if r["type"] == "cas_ok":
                reply(msg, {"type": "add_ok"})
                return
            if r.get("code") not in (20, 22):
                reply(msg, {"type": "error", "code": 11, "text": "%s: %s" % (SERVICE, r.get("text"))})
                return
    elif kind == "read":
        try:
            if not STALE_READ:
                r = call({"type": "write", "key": "sync-" + node_id, "value": next_id})
                if r["type"] != "write_ok":
                    raise RuntimeError("sync write: %s" % r)
            reply(msg, {"type": "read_ok", "value": current()})
        except RuntimeError as e:
            reply(msg, {"type": "error", "code": 11, "text": str(e)})
    elif "msg_id" in body and "in_reply_to" not in body:
        reply(msg, {"type": "error", "code": 10, "text": "counter_kv.py does not know %s" % kind})


while True:
    handle(later.popleft() if later else read_msg())
