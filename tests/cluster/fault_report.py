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
  open              of those, faults never stopped (they last to the end)
  unavail_ms.KIND   the longest time without any completion (ok or fail,
                    any client), counted from when a fault of that kind
                    was active, in ms

A stop line ends the earliest open fault of its kind and target.  The
target is what the stop line names; the start line names more, which
is not part of it: its duration and what follows ("for 300ms", "for
300ms (lease 180ms, view timeout 200ms)"), a link fault's settings
("loss c -> 0 loss 100" stops as "loss c -> 0") and a flip's direction
("flip 1 fastack.prepare on->off" stops as "flip 1 fastack.prepare
off->on").  A heal line ("nemesis heal ...": whatever the nemesis broke
is healed) ends every open fault.  A stop that ends no open fault is bad
input.

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


# Words of a fault's description (after the kind) that name its target,
# for the kinds whose start line says more than the target; every other
# kind's target is the whole description (up to " for ").
TARGET_WORDS = {
    "loss": 3,    # A -> B, then the settings: loss PERMILLE
    "dup": 3,     # A -> B, then dup PERMILLE
    "delay": 3,   # A -> B, then delay US jitter US
    "flip": 2,    # I SWITCH, then FROM->TO (reversed in the stop line)
}


def target(kind, words):
    """What identifies a fault of kind between its start and stop lines,
    from the words after the kind."""
    what = " ".join(words).split(" for ")[0].split()
    return " ".join(what[:TARGET_WORDS.get(kind, len(what))])


def read_faults(path, offset_ns):
    """([(kind, start_ns, stop_ns)] on the monotonic clock, faults open
    at the end of the log); an open fault lasts to +infinity."""
    open_at, faults = {}, []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            w = line.split()
            if len(w) < 3 or w[1] != "nemesis" or w[2] not in ("start", "stop", "heal"):
                continue
            if w[2] != "heal" and (len(w) < 4 or w[3] == "random"):
                continue
            try:
                wall = datetime.datetime.fromisoformat(w[0]).timestamp()
            except ValueError as e:
                die("%s:%d: %s" % (path, n, e))
            t = int(wall * 1e9) - offset_ns
            if w[2] == "heal":
                for (kind, _), starts in open_at.items():
                    faults += [(kind, s, t) for s in starts]
                open_at = {}
                continue
            key = (w[3], target(w[3], w[4:]))
            if w[2] == "start":
                open_at.setdefault(key, []).append(t)
            elif open_at.get(key):
                faults.append((key[0], open_at[key].pop(0), t))
            else:
                die("%s:%d: a stop of no open fault (%s %s)" % (path, n, key[0], key[1]))
    still = [(k, s, float("inf")) for (k, _), starts in open_at.items() for s in starts]
    return faults + still, len(still)


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
    try:
        invoked, done = read_history(sys.argv[1])
        faults, still_open = read_faults(sys.argv[2], offset)
    except OSError as e:
        die(str(e))
    count, gap = {}, {}
    for kind, start, stop in faults:
        count[kind] = count.get(kind, 0) + 1
        gap[kind] = max(gap.get(kind, 0), longest_gap(done, start, stop))
    print("ops %d" % invoked)
    print("completed %d" % len(done))
    print("faults %d" % len(faults))
    for kind in sorted(count):
        print("faults.%s %d" % (kind, count[kind]))
    print("open %d" % still_open)
    for kind in sorted(gap):
        print("unavail_ms.%s %.1f" % (kind, gap[kind] / 1e6))
    return 0


if __name__ == "__main__":
    sys.exit(main())
