#!/usr/bin/env python3
"""An outside client on Maelstrom's wire: Maelstrom's g-counter, pn-counter and g-set client
bodies sent to conlab nodes from a program of its own, not the lab's REPL (issue 16, item 2).

It speaks ZeroMQ's wire protocol (ZMTP 3.0, NULL security: what a DEALER socket sends) with the
Python standard library alone, connected to each node's client socket (the endpoints `endpoints`
prints: "any program can connect a ZeroMQ DEALER"), and drives the lab through its plain REPL
on a pipe only for the faults (partition, heal). Each phase adds integers (and, for the g-set,
any JSON) on different nodes during a partition n1 | n2,n3, checks what each side reads then,
heals, and waits until every node reads exactly the sum / the whole set:

  1. crdt 3 maelstrom=pn-counter: add{delta} with positive and negative deltas
  2. crdt 3 maelstrom=g-counter:  add{delta}, and a read before any add answers 0
  3. crdt 3 maelstrom=g-set:      add{element} with integers, a string and an object; a read
                                  before any add answers []; read{} answers the JSON values
  4. maelstrom 3 bin=examples/maelstrom/g_counter.py workload=pn-counter: the same pn-counter
     bodies through the lab's Maelstrom host (a Maelstrom node program) instead of a conlab mode

Usage: crdt_outside_client.py CONLAB_BIN_DIR. Exit 0 when every check holds.
"""
import json
import os
import queue
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

TIMEOUT = 60.0  # seconds for anything to happen (the machine may be loaded)


def fail(msg):
    print("FAIL: " + msg, flush=True)
    sys.exit(1)


class Zmtp:
    """A ZeroMQ DEALER over one TCP connection: ZMTP 3.0, NULL mechanism."""

    def __init__(self, endpoint, ident):
        host, port = endpoint[len("tcp://"):].rsplit(":", 1)
        self.s = socket.create_connection((host, int(port)), timeout=TIMEOUT)
        greeting = b"\xff" + b"\x00" * 8 + b"\x7f" + b"\x03\x00" + b"NULL".ljust(20, b"\x00") + b"\x00" + b"\x00" * 31
        self.s.sendall(greeting)
        theirs = self._read(64)
        if theirs[0] != 0xFF or theirs[9] != 0x7F or theirs[10] < 3:
            fail("%s: not a ZMTP 3 peer: %r" % (endpoint, theirs[:12]))
        props = self._prop(b"Socket-Type", b"DEALER") + self._prop(b"Identity", ident.encode())
        self._frame(b"\x05READY" + props, command=True)
        name, _ = self._next(command_ok=True)
        if not name.startswith(b"\x05READY"):
            fail("%s: expected READY, got %r" % (endpoint, name[:20]))
        self.buf = []

    @staticmethod
    def _prop(name, value):
        return bytes([len(name)]) + name + struct.pack(">I", len(value)) + value

    def _read(self, n):
        out = b""
        while len(out) < n:
            chunk = self.s.recv(n - len(out))
            if not chunk:
                fail("the node closed the connection")
            out += chunk
        return out

    def _frame(self, body, command=False, more=False):
        flags = (0x04 if command else 0) | (0x01 if more else 0)
        if len(body) > 255:
            self.s.sendall(bytes([flags | 0x02]) + struct.pack(">Q", len(body)) + body)
        else:
            self.s.sendall(bytes([flags, len(body)]) + body)

    def _next(self, command_ok=False):
        """The next frame: (body, more); commands (PING...) are skipped unless asked for."""
        while True:
            flags = self._read(1)[0]
            size = struct.unpack(">Q", self._read(8))[0] if flags & 0x02 else self._read(1)[0]
            body = self._read(size)
            if flags & 0x04 and not command_ok:
                continue
            return body, bool(flags & 0x01)

    def send(self, obj):
        self._frame(json.dumps(obj).encode())

    def recv(self):
        body, more = self._next()
        while more:  # one message is one frame; anything more is not ours to read
            _, more = self._next()
        return json.loads(body)


class Client:
    """Maelstrom's client: one id, a msg_id per request, a reply matched by in_reply_to."""

    def __init__(self, endpoints, ident):
        self.id = ident
        self.msg_id = 0
        self.socks = {n: Zmtp(ep, ident) for n, ep in endpoints.items()}

    def call(self, node, body):
        self.msg_id += 1
        body = dict(body, msg_id=self.msg_id)
        z = self.socks[node]
        z.send({"src": self.id, "dest": node, "body": body})
        deadline = time.time() + TIMEOUT
        while time.time() < deadline:
            m = z.recv()
            b = m.get("body", {})
            if b.get("in_reply_to") == self.msg_id:
                if b.get("type") == "error":
                    fail("%s answered %s to %s" % (node, json.dumps(b), json.dumps(body)))
                return b
        fail("no reply from %s to %s" % (node, json.dumps(body)))

    def add(self, node, **kw):
        r = self.call(node, dict({"type": "add"}, **kw))
        if r.get("type") != "add_ok":
            fail("add on %s: %s" % (node, json.dumps(r)))

    def read(self, node):
        r = self.call(node, {"type": "read"})
        if r.get("type") != "read_ok" or "value" not in r:
            fail("read on %s: %s" % (node, json.dumps(r)))
        return r["value"]

    def await_value(self, node, want, same):
        """Reads node until same(value, want), or fails after TIMEOUT."""
        deadline = time.time() + TIMEOUT
        v = None
        while time.time() < deadline:
            v = self.read(node)
            if same(v, want):
                return v
            time.sleep(0.05)
        fail("%s reads %s, not %s, %d s after heal" % (node, json.dumps(v), json.dumps(want), TIMEOUT))

    def close(self):
        for z in self.socks.values():
            z.s.close()


class Lab:
    """conlab's plain REPL on a pipe; every line it prints is kept and waited on."""

    def __init__(self, bindir, rundir):
        env = dict(os.environ, XDG_RUNTIME_DIR=rundir, XDG_STATE_HOME=rundir)
        self.p = subprocess.Popen([os.path.join(bindir, "conlab"), "--plain"], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True, bufsize=1)
        self.lines = queue.Queue()
        self.seen = []
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self):
        for line in self.p.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def cmd(self, text, expect, timeout=TIMEOUT):
        """Sends a command; returns the lines up to and including the first holding expect."""
        self.p.stdin.write(text + "\n")
        self.p.stdin.flush()
        got = []
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                line = self.lines.get(timeout=max(0.01, deadline - time.time()))
            except queue.Empty:
                break
            if line is None:
                break
            got.append(line)
            self.seen.append(line)
            if expect in line:
                return got
        fail("`%s`: no line with '%s'; the lab said:\n  %s" % (text, expect, "\n  ".join(self.seen[-20:])))

    def endpoints(self, n):
        self.p.stdin.write("endpoints\n")
        self.p.stdin.flush()
        eps = {}
        deadline = time.time() + TIMEOUT
        while len(eps) < n and time.time() < deadline:
            line = self.lines.get(timeout=TIMEOUT)
            if line is None:
                break
            self.seen.append(line)
            w = line.split()
            if len(w) >= 2 and w[0].startswith("n") and w[1].startswith("tcp://"):
                eps[w[0]] = w[1]
        if len(eps) < n:
            fail("endpoints: %s" % eps)
        return eps

    def quit(self):
        try:
            self.p.stdin.write("quit\n")
            self.p.stdin.flush()
            self.p.wait(timeout=TIMEOUT)
        except Exception:
            self.p.kill()
            self.p.wait()


def same_number(v, want):
    return isinstance(v, int) and not isinstance(v, bool) and v == want


def canon(v):
    return json.dumps(v, sort_keys=True)


def same_set(v, want):
    return isinstance(v, list) and sorted(map(canon, v)) == sorted(map(canon, want)) and len(v) == len(want)


def counter_phase(lab, start, name, deltas, bound_check=True):
    """deltas: [(node, delta)], added during the partition n1 | n2,n3; then the exact sum."""
    lab.cmd(start, "started 3")
    eps = lab.endpoints(3)
    c = Client(eps, "ext%d" % os.getpid())
    if "g-counter" in start:
        v = c.read("n2")
        if v != 0:
            fail("%s: a read before any add answers %s, not 0" % (name, json.dumps(v)))
    lab.cmd("partition n1 | n2,n3", "partitioned")
    own = {"n1": 0, "n2": 0, "n3": 0}
    for node, d in deltas:
        c.add(node, delta=d)
        own[node] += d
    total = sum(d for _, d in deltas)
    # during the partition n1 sees only its own adds (nothing crosses); n2 and n3 their own and
    # any of each other's (Maelstrom's bound: at least their own plus every decrement on the
    # other side, at most their own plus every increment there)
    if bound_check:
        v = c.read("n1")
        if v != own["n1"]:
            fail("%s: n1 reads %s during the partition, not its own %d" % (name, json.dumps(v), own["n1"]))
        for node in ("n2", "n3"):
            v = c.read(node)
            other = [d for n, d in deltas if n in ("n2", "n3") and n != node]
            lo = own[node] + sum(d for d in other if d < 0)
            hi = own[node] + sum(d for d in other if d > 0)
            if not isinstance(v, int) or not lo <= v <= hi:
                fail("%s: %s reads %s during the partition, outside [%d, %d]" % (name, node, json.dumps(v), lo, hi))
    lab.cmd("heal", "healed")
    for node in ("n1", "n2", "n3"):
        c.await_value(node, total, same_number)
    c.close()
    lab.cmd("stop", "stopped")
    print("ok   %s: %d adds on 3 nodes across a partition, every node reads %d after heal" % (name, len(deltas), total),
          flush=True)


def gset_phase(lab):
    lab.cmd("start crdt 3 maelstrom=g-set", "started 3")
    eps = lab.endpoints(3)
    c = Client(eps, "ext%d" % os.getpid())
    v = c.read("n3")
    if v != []:
        fail("g-set: a read before any add answers %s, not []" % json.dumps(v))
    lab.cmd("partition n1 | n2,n3", "partitioned")
    adds = [("n1", 1), ("n1", 2), ("n2", 2), ("n2", 30), ("n3", -4), ("n3", "x"), ("n1", {"k": [1, 2]}), ("n3", "7")]
    for node, e in adds:
        c.add(node, element=e)
    v = c.read("n1")
    mine = [e for n, e in adds if n == "n1"]
    if not same_set(v, mine):
        fail("g-set: n1 reads %s during the partition, not its own %s" % (json.dumps(v), json.dumps(mine)))
    lab.cmd("heal", "healed")
    want = []
    for _, e in adds:
        if canon(e) not in map(canon, want):
            want.append(e)
    for node in ("n1", "n2", "n3"):
        got = c.await_value(node, want, same_set)
    # the JSON types survive: 7 the string is not 7 the number, 1 is a number
    if "7" not in got or 1 not in got or {"k": [1, 2]} not in got:
        fail("g-set: the values lost their JSON types: %s" % json.dumps(got))
    c.close()
    lab.cmd("stop", "stopped")
    print("ok   g-set: %d adds (integers, a string, an object) across a partition, every node reads all %d"
          % (len(adds), len(want)), flush=True)


def main():
    bindir = sys.argv[1] if len(sys.argv) > 1 else "bin"
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    with tempfile.TemporaryDirectory() as rundir:
        lab = Lab(bindir, rundir)
        try:
            counter_phase(lab, "start crdt 3 maelstrom=pn-counter", "crdt pn-counter",
                          [("n1", 5), ("n2", -3), ("n1", 7), ("n3", 11), ("n2", 2), ("n3", -1)])
            counter_phase(lab, "start crdt 3 maelstrom=g-counter", "crdt g-counter",
                          [("n1", 5), ("n2", 3), ("n3", 4), ("n1", 1)])
            gset_phase(lab)
            prog = os.path.join(root, "examples", "maelstrom", "g_counter.py")
            counter_phase(lab, "start maelstrom 3 bin=%s workload=pn-counter" % prog, "maelstrom host pn-counter",
                          [("n1", 5), ("n2", -3), ("n3", 11)], bound_check=False)
        finally:
            lab.quit()


if __name__ == "__main__":
    main()
