#!/usr/bin/env python3
"""history_check.py HISTORY: check the shape of an ec-bench --history file.

Not a linearizability check (that is ec-lincheck's job): only that the file
is what a checker may assume.  Every line is one JSON object with process,
type, f, key, value and time; time never decreases; each process alternates
invoke and one completion (ok, fail or info) of the same f and key; a
process ends at its first info and never invokes again; puts and cases
carry the value they invoked with, get invokes carry null, fail only
follows a cas; every value written is unique; and every invoke has its
completion by the end of the file.  Exit 0 when all hold, 1 otherwise
(listing the first problems), 2 on unreadable input.
"""
import json
import sys

TYPES = {"invoke", "ok", "fail", "info"}
FS = {"get", "put", "delete", "cas"}


def value_ok(ev):
    """Whether ev's value has the shape its f and type call for."""
    f, v = ev["f"], ev["value"]
    if f == "get":
        return v is None or (ev["type"] == "ok" and isinstance(v, str))
    if f == "put":
        return isinstance(v, str)
    if f == "delete":
        return v is None
    return (isinstance(v, list) and len(v) == 2 and
            (v[0] is None or isinstance(v[0], str)) and isinstance(v[1], str))


def check(lines):
    """(problems, counts): messages, and events counted by (f, type)."""
    bad, counts, open_ops, ended, written = [], {}, {}, set(), set()
    last_time = -1
    for n, line in enumerate(lines, 1):
        try:
            ev = json.loads(line)
            p, t, f, key, time = (ev["process"], ev["type"], ev["f"],
                                  ev["key"], ev["time"])
        except (ValueError, KeyError, TypeError) as e:
            bad.append("line %d: not an event: %s" % (n, e))
            continue
        if (set(ev) != {"process", "type", "f", "key", "value", "time"} or
                type(p) is not int or t not in TYPES or f not in FS or
                not isinstance(key, str) or type(time) is not int):
            bad.append("line %d: bad fields: %s" % (n, line.strip()))
            continue
        if not value_ok(ev):
            bad.append("line %d: bad value for %s %s: %r" % (n, f, t, ev["value"]))
        if time < last_time:
            bad.append("line %d: time %d before %d" % (n, time, last_time))
        last_time = max(last_time, time)
        counts[(f, t)] = counts.get((f, t), 0) + 1
        if p in ended:
            bad.append("line %d: process %d continues after info" % (n, p))
        if t == "invoke":
            if p in open_ops:
                bad.append("line %d: process %d invokes with line %d open"
                           % (n, p, open_ops[p][0]))
            open_ops[p] = (n, ev)
            if f in ("put", "cas"):
                new = ev["value"] if f == "put" else ev["value"][1]
                if new in written:
                    bad.append("line %d: value %r written twice" % (n, new))
                written.add(new)
            continue
        if p not in open_ops:
            bad.append("line %d: process %d completes nothing" % (n, p))
            continue
        start, inv = open_ops.pop(p)
        if (f, key) != (inv["f"], inv["key"]):
            bad.append("line %d: %s %s completes line %d's %s %s"
                       % (n, f, key, start, inv["f"], inv["key"]))
        if f != "get" and ev["value"] != inv["value"]:
            bad.append("line %d: value %r, invoked with %r" % (n, ev["value"], inv["value"]))
        if t == "fail" and f != "cas":
            bad.append("line %d: %s fails (ec-bench sends only well-formed ops: only a cas can fail)" % (n, f))
        if t == "info":
            ended.add(p)
    for p, (start, _) in sorted(open_ops.items()):
        bad.append("line %d: process %d's invoke never completes" % (start, p))
    return bad, counts


def main():
    if len(sys.argv) != 2 or sys.argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if len(sys.argv) == 2 else 2
    try:
        with open(sys.argv[1]) as f:
            lines = f.readlines()
    except (OSError, UnicodeDecodeError) as e:
        print("history_check: %s" % e, file=sys.stderr)
        return 2
    bad, counts = check(lines)
    for msg in bad[:20]:
        print("history_check: " + msg, file=sys.stderr)
    if bad:
        print("history_check: %d problems in %d lines" % (len(bad), len(lines)),
              file=sys.stderr)
        return 1
    if not lines:
        print("history_check: %s is empty" % sys.argv[1], file=sys.stderr)
        return 1
    summary = ", ".join("%s %s %d" % (f, t, counts[(f, t)]) for f, t in sorted(counts))
    print("history_check: %d events well formed: %s" % (len(lines), summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
