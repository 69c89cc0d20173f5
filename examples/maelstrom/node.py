"""node.py - a small Maelstrom node loop on the standard library alone, shared by the example
nodes here (g_counter.py, broadcast.py). Messages come one JSON object per line on stdin,
replies go one per line on stdout, logs on stderr. `every` runs a function periodically (for
gossip) between messages, without threads."""
import json
import os
import select
import sys
import time


def bug(name):
    """Is the bug NAME switched on: --bug=NAME, or --bug NAME (args=--bug,NAME in the lab, whose
    lesson options cannot hold '=')?"""
    args = sys.argv[1:]
    return "--bug=" + name in args or any(a == "--bug" and b == name for a, b in zip(args, args[1:]))


class Node:
    def __init__(self):
        self.node_id = None
        self.node_ids = []
        self.next_id = 0
        self.handlers = {}
        self.periodic = []      # [interval, next_due, fn]

    def on(self, kind, fn):
        self.handlers[kind] = fn

    def every(self, seconds, fn):
        self.periodic.append([seconds, time.monotonic() + seconds, fn])

    def log(self, text):
        print("%s: %s" % (self.node_id, text), file=sys.stderr, flush=True)

    def send(self, dest, body):
        self.next_id += 1
        body = dict(body, msg_id=self.next_id)
        sys.stdout.write(json.dumps({"src": self.node_id, "dest": dest, "body": body}) + "\n")
        sys.stdout.flush()

    def reply(self, msg, body):
        self.send(msg["src"], dict(body, in_reply_to=msg["body"].get("msg_id")))

    def handle(self, msg):
        body = msg["body"]
        kind = body["type"]
        if kind == "init":
            self.node_id = body["node_id"]
            self.node_ids = body["node_ids"]
            if "init" in self.handlers:
                self.handlers["init"](msg)
            self.reply(msg, {"type": "init_ok"})
        elif kind in self.handlers:
            self.handlers[kind](msg)
        elif "msg_id" in body and "in_reply_to" not in body:
            self.reply(msg, {"type": "error", "code": 10, "text": "no handler for %s" % kind})

    def run(self):
        buf = b""
        while True:
            now = time.monotonic()
            due = min([p[1] for p in self.periodic] or [now + 3600])
            ready, _, _ = select.select([0], [], [], max(0.0, due - now))
            if ready:
                chunk = os.read(0, 65536)
                if not chunk:
                    return
                buf += chunk
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    try:
                        msg = json.loads(line)
                        msg["body"]["type"]
                    except (ValueError, KeyError, TypeError) as e:
                        self.log("skipping a bad line: %s" % e)
                        continue
                    self.handle(msg)
            now = time.monotonic()
            for p in self.periodic:
                if now >= p[1] and self.node_id is not None:
                    p[1] = now + p[0]
                    p[2]()
