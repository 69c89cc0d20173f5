#!/usr/bin/env python3
"""echo.py - Maelstrom's echo workload: the smallest node.

Reads one JSON message per line on stdin and writes its replies, one per line, on stdout.
Runs unchanged under Maelstrom (maelstrom test -w echo --bin echo.py) and in conlab
(start maelstrom 3 bin=examples/maelstrom/echo.py workload=echo).
"""
import json
import sys

node_id = None
next_id = 0


def reply(msg, body):
    global next_id
    next_id += 1
    body["msg_id"] = next_id
    body["in_reply_to"] = msg["body"].get("msg_id")
    out = {"src": node_id, "dest": msg["src"], "body": body}
    sys.stdout.write(json.dumps(out) + "\n")
    sys.stdout.flush()


for line in sys.stdin:
    try:
        msg = json.loads(line)
        body = msg["body"]
        kind = body["type"]
    except (ValueError, KeyError, TypeError) as e:
        print("echo.py: skipping a bad line: %s" % e, file=sys.stderr)
        continue
    if kind == "init":
        node_id = body["node_id"]
        print("echo.py: I am %s of %s" % (node_id, body["node_ids"]), file=sys.stderr)
        reply(msg, {"type": "init_ok"})
    elif kind == "echo":
        reply(msg, {"type": "echo_ok", "echo": body.get("echo")})
    elif "msg_id" in body:
        reply(msg, {"type": "error", "code": 10, "text": "echo.py does not know %s" % kind})
