#!/usr/bin/env python3
"""gen_history.py - write a linearizable client history for ec-lincheck.

Simulates PROCS closed-loop clients against one register per key.  Each
op is invoked, takes effect at a random point (its linearization point),
and completes later, so ops of different processes overlap the way they
do against a real cluster.  Results are computed in linearization-point
order, so the history is linearizable by construction -- unless --bug
asks for one stale read, which ec-lincheck must then report: a get,
invoked after the write W of a key's current value returned, that reads
the value W replaced, itself written by an op that returned before W was
invoked.  Both writes completed ok, and values are never written twice,
so no order of the ops explains the read.  It is injected at the first
such get after half of the ops (on stderr: the key and time).

Some ops end in info (the client timed out): half of those took effect,
half never did, and the process is replaced by a fresh one, as Jepsen
does.  A cas expects the value its process last saw, so some fail.
"""
import argparse
import heapq
import json
import random
import sys

# One value in this many carries characters that need JSON escapes.
ESCAPED_EVERY = 997


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--ops", type=int, default=1000000)
    p.add_argument("--procs", type=int, default=16)
    p.add_argument("--keys", type=int, default=32)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--info-rate", type=float, default=0.0005,
                   help="fraction of ops whose outcome is unknown")
    p.add_argument("--bug", choices=["none", "stale-read"], default="none",
                   help="inject one stale read after half of the ops")
    return p.parse_args()


def main():
    a = parse_args()
    rnd = random.Random(a.seed)
    keys = ["k%d" % i for i in range(a.keys)]
    reg = {}            # key -> value, absent when missing
    prev = {}           # key -> the value before the current one
    writer = {}         # key -> the op that wrote the current value
    prev_writer = {}    # key -> the op that wrote prev[key]
    seen = {}           # (process, key) -> last value the process saw
    out = sys.stdout
    events = []         # heap of (time, seq, kind, process, op)
    seq = 0
    started = planned = done = 0
    bug_at = a.ops // 2 if a.bug == "stale-read" else None
    next_proc = a.procs

    def emit(proc, typ, op, value, time):
        out.write(json.dumps({"process": proc, "type": typ, "f": op["f"],
                              "key": op["key"], "value": value,
                              "time": time}) + "\n")

    def schedule(time, kind, proc, op):
        nonlocal seq, planned
        heapq.heappush(events, (time, seq, kind, proc, op))
        seq += 1
        planned += kind == "invoke"

    def new_op(proc):
        nonlocal started
        started += 1
        key = rnd.choice(keys)
        r = rnd.random()
        if r < 0.40:
            return {"f": "get", "key": key, "arg": None}
        if r < 0.75:
            v = "p%d-%d" % (proc, started)
            if started % ESCAPED_EVERY == 0:
                v += ' "quoted" \\ \x01 \u00e9'
            return {"f": "put", "key": key, "arg": v}
        if r < 0.80:
            return {"f": "delete", "key": key, "arg": None}
        return {"f": "cas", "key": key,
                "arg": [seen.get((proc, key)), "c%d-%d" % (proc, started)]}

    def invoke(proc, time):
        op = new_op(proc)
        op["invoked"] = time
        emit(proc, "invoke", op, op["arg"], time)
        schedule(time + rnd.randint(50, 5000), "lin", proc, op)

    def surely_stale(get):
        """Whether reading prev[key] would be a violation (see above)."""
        key = get["key"]
        w, pw = writer.get(key), prev_writer.get(key)
        return (prev.get(key) is not None and w is not None and
                pw is not None and not w["info"] and not pw["info"] and
                "returned" in w and w["returned"] < get["invoked"] and
                "returned" in pw and pw["returned"] < w["invoked"])

    for p in range(a.procs):
        schedule(rnd.randint(0, 1000), "invoke", p, None)
    while events:
        time, _, kind, proc, op = heapq.heappop(events)
        if kind == "invoke":
            invoke(proc, time)
            continue
        if kind == "lin":
            info = rnd.random() < a.info_rate
            op["info"] = info
            stale = (not info and op["f"] == "get" and bug_at is not None
                     and done >= bug_at and surely_stale(op))
            if stale:
                bug_at = None
                print("gen_history: stale read of %s at time %d" %
                      (op["key"], time), file=sys.stderr)
            if not info or rnd.random() < 0.5:
                apply(op, reg, prev, stale, writer, prev_writer)
            if op["f"] == "get" or op["f"] == "cas":
                seen[(proc, op["key"])] = op.get("read")
            schedule(time + rnd.randint(50, 5000), "ret", proc, op)
            continue
        done += 1
        op["returned"] = time
        if op["info"]:
            emit(proc, "info", op, None if op["f"] == "get" else op["arg"],
                 time)
            proc = next_proc
            next_proc += 1
        else:
            emit(proc, op["status"], op, op["result"], time)
        if planned < a.ops:
            schedule(time + rnd.randint(0, 2000), "invoke", proc, None)


def apply(op, reg, prev, stale, writer, prev_writer):
    """Apply op to the registers; set its status, result and what it read;
    a write becomes its key's writer."""
    key, f = op["key"], op["f"]
    cur = reg.get(key)
    op["status"], op["result"], op["read"] = "ok", op["arg"], cur
    if f == "get":
        op["result"] = prev.get(key) if stale else cur
        op["read"] = op["result"]
        return
    if f == "cas" and cur != op["arg"][0]:
        op["status"] = "fail"
        return
    new = op["arg"][1] if f == "cas" else op["arg"]
    prev[key] = cur
    prev_writer[key] = writer.get(key)
    writer[key] = op
    if new is None:
        reg.pop(key, None)
    else:
        reg[key] = new


if __name__ == "__main__":
    main()
