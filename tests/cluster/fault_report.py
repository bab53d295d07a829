#!/usr/bin/env python3
"""fault_report.py HISTORY NEMESIS_LOG OFFSET_NS: what a fault run did.

Reads a client history (ec-bench --history: JSON lines, times in
CLOCK_MONOTONIC nanoseconds) and the nemesis log of the same run
(cluster/nemesis.sh: "<ISO wall-clock time> nemesis start|stop KIND ...")
and prints "key value" lines:

  ops               operations invoked
  completed         of those, completed ok or fail (info: given up)
  faults            faults started
  faults.KIND       faults of each kind
  unavail_ms.KIND   the longest time without any completion (ok or fail,
                    any client), counted from when a fault of that kind
                    was active, in ms

OFFSET_NS is the wall clock minus the monotonic clock, taken once when the
run started (python3 -c 'import time; print(time.time_ns() -
time.monotonic_ns())'), to put both files on one clock.  Exit 0, or 2 on
bad input (with the file and line).
"""
import datetime
import json
import sys


def die(msg):
    print("fault_report: " + msg, file=sys.stderr)
    sys.exit(2)


def read_history(path):
    """(invoked, sorted completion times) of the history at path."""
    invoked, done = 0, []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            try:
                ev = json.loads(line)
                kind, t = ev["type"], int(ev["time"])
            except (ValueError, KeyError, TypeError) as e:
                die("%s:%d: %s" % (path, n, e))
            if kind == "invoke":
                invoked += 1
            elif kind in ("ok", "fail"):
                done.append(t)
    done.sort()
    return invoked, done


def read_faults(path, offset_ns):
    """[(kind, start_ns, stop_ns)] on the monotonic clock; a fault still
    open at the end of the log lasts to +infinity."""
    open_at, faults = {}, []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            w = line.split()
            if len(w) < 4 or w[1] != "nemesis" or w[2] not in ("start", "stop"):
                continue
            kind, what = w[3], " ".join(w[4:]).split(" for ")[0]
            if kind == "random":
                continue
            try:
                wall = datetime.datetime.fromisoformat(w[0]).timestamp()
            except ValueError as e:
                die("%s:%d: %s" % (path, n, e))
            t = int(wall * 1e9) - offset_ns
            if w[2] == "start":
                open_at[(kind, what)] = t
            elif (kind, what) in open_at:
                faults.append((kind, open_at.pop((kind, what)), t))
    faults += [(k, t, float("inf")) for (k, _), t in open_at.items()]
    return faults


def longest_gap(done, start, stop):
    """Longest time from a moment in [start, stop] to the next
    completion, in ns (binary search to the window's first)."""
    lo, hi = 0, len(done)
    while lo < hi:
        mid = (lo + hi) // 2
        if done[mid] < start:
            lo = mid + 1
        else:
            hi = mid
    best = 0
    for i in range(max(lo - 1, 0), len(done) - 1):
        if done[i] > stop:
            break
        if done[i] >= start or done[i + 1] > start:
            best = max(best, done[i + 1] - max(done[i], start))
    return best


def main():
    if len(sys.argv) != 4:
        die("usage: fault_report.py HISTORY NEMESIS_LOG OFFSET_NS")
    try:
        offset = int(sys.argv[3])
    except ValueError:
        die("OFFSET_NS '%s' is not a number" % sys.argv[3])
    invoked, done = read_history(sys.argv[1])
    faults = read_faults(sys.argv[2], offset)
    count, gap = {}, {}
    for kind, start, stop in faults:
        count[kind] = count.get(kind, 0) + 1
        gap[kind] = max(gap.get(kind, 0), longest_gap(done, start, stop))
    print("ops %d" % invoked)
    print("completed %d" % len(done))
    print("faults %d" % len(faults))
    for kind in sorted(count):
        print("faults.%s %d" % (kind, count[kind]))
    for kind in sorted(gap):
        print("unavail_ms.%s %.1f" % (kind, gap[kind] / 1e6))
    return 0


if __name__ == "__main__":
    sys.exit(main())
