#!/usr/bin/env python3
"""exports_check.py EDN JSONL SHIVIZ CHROME - a second reader for conlab's exports (used by
tests/proc/exports.sh): a small EDN reader of its own for Jepsen histories, ShiViz's log rules,
and the Chrome trace event format. Exits 1 naming the first thing wrong."""
import json
import re
import sys


def fail(msg):
    print("exports_check: " + msg)
    sys.exit(1)


# ---- a tiny EDN reader: maps, vectors, keywords, strings, integers, nil, true/false ----------
TOKEN = re.compile(r'\s*(?:,\s*)*(\{|\}|\[|\]|"(?:[^"\\]|\\.)*"|:[^\s,\[\]{}]+|-?\d+|nil|true|false)')


def parse_edn(text, pos=0):
    m = TOKEN.match(text, pos)
    if not m:
        raise ValueError("bad EDN at %d: %r" % (pos, text[pos:pos + 20]))
    tok, pos = m.group(1), m.end()
    if tok == "{":
        out = {}
        while True:
            m2 = re.compile(r'\s*(?:,\s*)*\}').match(text, pos)
            if m2:
                return out, m2.end()
            k, pos = parse_edn(text, pos)
            v, pos = parse_edn(text, pos)
            out[k] = v
    if tok == "[":
        out = []
        while True:
            m2 = re.compile(r'\s*(?:,\s*)*\]').match(text, pos)
            if m2:
                return out, m2.end()
            v, pos = parse_edn(text, pos)
            out.append(v)
    if tok.startswith('"'):
        return json.loads(tok), pos
    if tok.startswith(":"):
        return ("kw", tok[1:]), pos
    if tok == "nil":
        return None, pos
    if tok in ("true", "false"):
        return tok == "true", pos
    return int(tok), pos


def check_edn(edn_path, jsonl_path):
    edn = []
    for n, line in enumerate(open(edn_path), 1):
        if not line.strip():
            continue
        try:
            v, end = parse_edn(line)
        except ValueError as e:
            fail("%s:%d: %s" % (edn_path, n, e))
        if line[end:].strip():
            fail("%s:%d: more than one form" % (edn_path, n))
        for k in ("process", "type", "f", "value"):
            if ("kw", k) not in v:
                fail("%s:%d: no :%s" % (edn_path, n, k))
        edn.append(v)
    js = [json.loads(l) for l in open(jsonl_path) if l.strip()]
    if len(js) != len(edn):
        fail("%d EDN events, %d JSONL events" % (len(edn), len(js)))
    if not edn:
        fail("an empty history")
    for i, (e, j) in enumerate(zip(edn, js)):
        if e[("kw", "type")] != ("kw", j["type"]) or e[("kw", "process")] != j["process"]:
            fail("event %d: EDN %s, JSONL %s" % (i, e, j))
        if e[("kw", "f")] != ("kw", j["f"]):
            fail("event %d: f differs: %s / %s" % (i, e, j))


def check_shiviz(path):
    lines = open(path).read().split("\n")
    if lines[0] != r"(?<event>.*)\n(?<host>\S*) (?<clock>{.*})":
        fail("ShiViz: the first line is not the regex: %r" % lines[0])
    if lines[1] != "":
        fail("ShiViz: the second line (delimiter) is not empty")
    body = [l for l in lines[2:]]
    if body and body[-1] == "":
        body.pop()
    if len(body) % 2 or not body:
        fail("ShiViz: %d lines after the header, not event/clock pairs" % len(body))
    last = {}
    clocks = []
    for i in range(0, len(body), 2):
        ev, cl = body[i], body[i + 1]
        m = re.match(r"(\S*) (\{.*\})$", cl)
        if not m:
            fail("ShiViz line %d: not 'host {clock}': %r" % (i + 4, cl))
        host, vc = m.group(1), json.loads(m.group(2))
        if vc.get(host) != last.get(host, 0) + 1:
            fail("ShiViz line %d: %s's own clock is %s after %s" % (i + 4, host, vc.get(host), last.get(host, 0)))
        last[host] = vc[host]
        clocks.append((host, ev, vc))
    # every entry for another host is a clock that host really reached
    merged = 0
    for host, ev, vc in clocks:
        for other, c in vc.items():
            if other != host:
                if c > last.get(other, 0):
                    fail("ShiViz: %s knows %s=%d, beyond %s's last event" % (host, other, c, other))
                merged += 1
    if merged == 0:
        fail("ShiViz: no clock ever merged another node's: no message was matched")


def check_chrome(path):
    d = json.load(open(path))
    ev = d.get("traceEvents")
    if not isinstance(ev, list) or not ev:
        fail("Chrome: no traceEvents")
    starts = {e["id"] for e in ev if e["ph"] == "s"}
    ends = {e["id"] for e in ev if e["ph"] == "f"}
    if not ends or not ends <= starts:
        fail("Chrome: %d flow ends, %d without a start" % (len(ends), len(ends - starts)))
    for e in ev:
        for k in ("name", "ph", "pid", "tid", "ts"):
            if k not in e:
                fail("Chrome: an event without %s: %s" % (k, e))
    names = [e["args"]["name"] for e in ev if e["ph"] == "M" and e["name"] == "process_name"]
    if sorted(names) != ["n1", "n2", "n3"]:
        fail("Chrome: processes %s" % names)


check_edn(sys.argv[1], sys.argv[2])
check_shiviz(sys.argv[3])
check_chrome(sys.argv[4])
