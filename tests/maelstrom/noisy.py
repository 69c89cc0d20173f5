#!/usr/bin/env python3
"""noisy.py - a Maelstrom echo node that also writes garbage on stdout (a test fixture):
lines that are not JSON, JSON that is not a message, a message with a bad dest. The node
that hosts it must refuse each with an error event and go on."""
import json
import sys

node_id = None
for line in sys.stdin:
    msg = json.loads(line)
    body = msg["body"]
    for junk in ("not json at all", "[1,2,3]", '{"dest":"c1"}', '{"dest":"bad id!","body":{"type":"x"}}',
                 '{"dest":"c1","body":{"type":7}}', ""):
        sys.stdout.write(junk + "\n")
    if body["type"] == "init":
        node_id = body["node_id"]
        out = {"type": "init_ok"}
    else:
        out = {"type": "echo_ok", "echo": body.get("echo")}
    out["in_reply_to"] = body.get("msg_id")
    sys.stdout.write(json.dumps({"src": node_id, "dest": msg["src"], "body": out}) + "\n")
    sys.stdout.flush()
