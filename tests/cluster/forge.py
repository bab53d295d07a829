#!/usr/bin/env python3
"""forge.py --config FILE [options]: send forged electrode-c datagrams.

Sends, over ordinary UDP from wherever it runs (the cluster tests run it in
the client namespace, so the source is the client's address), datagrams to
every replica address listed in the cluster configuration FILE, round
robin, and nowhere else:

  - well-formed headers (magic, version) of every message type 1..15 from
    every sender id 0..n-1 and from out-of-range ids (n, 9, 0x7f, 0xfe,
    0xff), with views at and near the target's current one and random huge
    ones, op numbers at and near its current op (PREPARE mostly for
    exactly its next op, from the view's leader) and random ones, and
    commit numbers; bodies are valid protobuf encodings of the type's body
    (hand-encoded: Request, Reply, LogChunk, GetState, Recovery,
    StartViewChange, DoViewChange), a COMMIT's 8-byte heartbeat, or, now
    and then, random bytes;
  - garbage (--garbage, default a fifth): random bytes, truncated
    headers, bad magic, bad version, unknown types, a body_len that lies.

The wire version and the message types (the numbers above are those of
version 3) are read from proto/ec_wire.h next to this script, so a
datagram is never garbage only because the protocol moved on.

--types limits the well-formed ones to some types (e.g. PREPARE).

A second socket bound to the replicas' UDP port (when that port is free
here) sends a share of them, so a check that looks at the port alone
would be fooled.

The target's current view, op and commit come from --view, --op and
--commit, or, with --ctl PATTERN, from its control socket's `status`
(PATTERN with {id}, e.g. /run/electrode-c/ec/r{id}.sock), polled every
0.2 s; the options are then only the fallback.

Bounded: stops after --count datagrams or --duration seconds, whichever
comes first (defaults 20000 and 10; at most 10000000 and 600), and sends at
most --rate datagrams per second (default 2000, at most 50000).

At the end it prints "key value" lines: sent.total, sent.kind.KIND per
kind of datagram built, sent.send_errors, and per target replica I:
  target.I.sent          datagrams sent to it
  target.I.ec_frames     with a full header, right magic and version and a
                         type 2..15 (what an XDP program parses as a
                         replica message: REQUESTs, which clients may send
                         from anywhere, are not counted)
  target.I.header_ok     with a right header of any type 1..15, also a
                         body_len that matches and a valid sender for the
                         type (what ec_msg_parse accepts: REQUEST from
                         0xff, others from 0..n-1)
  target.I.replica_types of those, a type other than REQUEST from a sender
                         other than I: a replica message from a replica
                         address it did not come from
and the same three summed as total.ec_frames, total.header_ok and
total.replica_types.  Exit 0 when it sent anything, 1 on error, 2 on
usage.  Python 3 standard library only.
"""
import argparse
import os
import random
import re
import socket
import struct
import sys
import time

WIRE_H = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "proto", "ec_wire.h")


def read_wire(path):
    """(magic, version, {type number: NAME}) from proto/ec_wire.h."""
    with open(path) as f:
        text = f.read()
    magic = re.search(r"#define EC_MAGIC (0x[0-9a-fA-F]+)u?", text)
    version = re.search(r"#define EC_VERSION (\d+)", text)
    types = {int(num): name for name, num in
             re.findall(r"^\s*EC_MSG_([A-Z_]+)\s*=\s*(\d+),", text, re.M)
             if name != "TYPE_MAX"}
    if not magic or not version or not types:
        raise SystemExit("forge: %s: no EC_MAGIC, EC_VERSION or EC_MSG_ types" % path)
    return int(magic.group(1), 16), int(version.group(1)), types


MAGIC, VERSION, TYPES = read_wire(WIRE_H)
HDR = struct.Struct("!IBBBBIIQQ")  # proto/ec_wire.h struct ec_hdr, 32 bytes
assert HDR.size == 32
SENDER_CLIENT = 0xFF
MAX_REPLICAS = 9
MAX_TYPE = max(TYPES)
_NUM = {name: num for num, name in TYPES.items()}
REQUEST, REPLY, PREPARE, PREPARE_OK, COMMIT = (
    _NUM[k] for k in ("REQUEST", "REPLY", "PREPARE", "PREPARE_OK", "COMMIT"))
START_VIEW_CHANGE, DO_VIEW_CHANGE, START_VIEW = (
    _NUM[k] for k in ("START_VIEW_CHANGE", "DO_VIEW_CHANGE", "START_VIEW"))
GET_STATE, NEW_STATE, RECOVERY, RECOVERY_RESPONSE = (
    _NUM[k] for k in ("GET_STATE", "NEW_STATE", "RECOVERY", "RECOVERY_RESPONSE"))
GET_SNAPSHOT, SNAPSHOT, HEARTBEAT_OK = (
    _NUM[k] for k in ("GET_SNAPSHOT", "SNAPSHOT", "HEARTBEAT_OK"))

MAX_COUNT = 10_000_000
MAX_DURATION = 600.0
MAX_RATE = 50_000
CTL_PERIOD = 0.2
CTL_TIMEOUT = 0.2


# --- protobuf, by hand -------------------------------------------------

def varint(n):
    """Base-128 varint of the unsigned integer n (< 2**64)."""
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def f_varint(num, value):
    """Field num, wire type 0."""
    return varint(num << 3) + varint(value)


def f_bytes(num, data):
    """Field num, wire type 2 (bytes, string or embedded message)."""
    return varint((num << 3) | 2) + varint(len(data)) + data


def kv_op(kind, key, value):
    """KvOp{kind=1, key=2, value=3}."""
    return f_varint(1, kind) + f_bytes(2, key) + f_bytes(3, value)


def request(client_id, request_id, op):
    """Request{client_id=1, request_id=2, op=3}."""
    return f_varint(1, client_id) + f_varint(2, request_id) + f_bytes(3, op)


def reply(client_id, request_id, status, value):
    """Reply{client_id=1, request_id=2, status=3, value=4}."""
    return (f_varint(1, client_id) + f_varint(2, request_id) +
            f_varint(3, status) + f_bytes(4, value))


def batch(reqs):
    """Batch{requests=1}: a PREPARE body, each element an encoded Request."""
    return b"".join(f_bytes(1, r) for r in reqs)


def log_entry(op, view, req):
    """LogEntry{op=1, view=2, batch=4}, a batch of the one request req."""
    return f_varint(1, op) + f_varint(2, view & 0xFFFFFFFF) + f_bytes(4, batch([req]))


def log_chunk(entries, committed_only):
    """LogChunk{entries=1, committed_only=2}."""
    return b"".join(f_bytes(1, e) for e in entries) + f_varint(2, int(committed_only))


def get_state(from_op, committed_only):
    """GetState{from_op=1, committed_only=2}."""
    return f_varint(1, from_op) + f_varint(2, int(committed_only))


def recovery(nonce):
    """Recovery{nonce=1}."""
    return f_varint(1, nonce)


def start_view_change(commit):
    """StartViewChange{commit=1}."""
    return f_varint(1, commit)


def do_view_change(last_normal_view, entries):
    """DoViewChange{last_normal_view=1, entries=2}."""
    return f_varint(1, last_normal_view & 0xFFFFFFFF) + b"".join(f_bytes(2, e) for e in entries)


def header(mtype, sender, view, body_len, op, commit, flags=0,
           magic=MAGIC, version=VERSION):
    return HDR.pack(magic, version, mtype & 0xFF, flags & 0xFF, sender & 0xFF,
                    view & 0xFFFFFFFF, body_len & 0xFFFFFFFF,
                    op & ((1 << 64) - 1), commit & ((1 << 64) - 1))


# --- configuration and live state -----------------------------------------

def load_config(path):
    """[(id, ip, port)] from a cluster.conf, in id order."""
    peers = {}
    with open(path) as f:
        for lineno, line in enumerate(f, 1):
            words = line.split()
            if not words or words[0].startswith("#"):
                continue
            if words[0] != "replica" or len(words) != 6:
                raise ValueError("%s:%d: expected 'replica ID IP PORT MAC IF'" % (path, lineno))
            rid, ip, port = int(words[1]), words[2], int(words[3])
            socket.inet_aton(ip)
            if not 0 <= rid < MAX_REPLICAS or rid in peers or not 0 < port < 65536:
                raise ValueError("%s:%d: bad id or port" % (path, lineno))
            peers[rid] = (rid, ip, port)
    if not peers or sorted(peers) != list(range(len(peers))):
        raise ValueError("%s: replica ids must be 0..n-1" % path)
    return [peers[i] for i in range(len(peers))]


def ctl_status(path):
    """The `status` answer of the control socket at path as a dict, or None."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(CTL_TIMEOUT)
    try:
        s.connect(path)
        s.sendall(b"status\n")
        data = b""
        while len(data) < 4096:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    except OSError:
        return None
    finally:
        s.close()
    st = {}
    for line in data.decode("ascii", "replace").splitlines():
        k, _, v = line.partition(" ")
        st[k] = v
    try:
        return {"view": int(st["view"]), "op": int(st["op"]), "commit": int(st["commit"])}
    except (KeyError, ValueError):
        return None


# --- what to send -------------------------------------------------------

class Forger:
    """Builds datagrams for target replicas; counts what it built."""

    def __init__(self, rng, n, types=None, garbage=0.2):
        self.rng = rng
        self.n = n
        self.types = types or list(range(1, MAX_TYPE + 1))
        self.garbage_share = garbage
        self.senders = list(range(n)) + sorted({n, MAX_REPLICAS, 0x7F, 0xFE, SENDER_CLIENT})
        self.seq = {}  # per target: position in the type x sender cycle
        self.next_key = 0

    def rand_bytes(self, lo, hi):
        return bytes(self.rng.getrandbits(8) for _ in range(self.rng.randint(lo, hi)))

    def put_request(self):
        """An encoded Request that PUTs a forge-only key."""
        r = self.rng
        self.next_key += 1
        op = kv_op(1, b"forge-%d" % (self.next_key % 64), b"forged-%d" % r.getrandbits(32))
        # client ids far from ec-bench's random ones by chance only; a
        # forged REQUEST is a legitimate client request anyway
        return request(r.getrandbits(64) | (1 << 63), r.randint(1, 1 << 40), op)

    def pick_view(self, st):
        r = self.rng.random()
        v = st["view"]
        if r < 0.6:
            return v
        if r < 0.75:
            return v + 1
        if r < 0.82:
            return v + 2
        if r < 0.9:
            return max(v - 1, 0)
        return self.rng.randint(1 << 31, (1 << 32) - 1)

    def pick_op(self, st):
        r = self.rng.random()
        o = st["op"]
        if r < 0.5:
            return o + 1
        if r < 0.65:
            return o
        if r < 0.75:
            return o + self.rng.randint(2, 40)
        if r < 0.85:
            return max(st["commit"], 0)
        return self.rng.getrandbits(64)

    def pick_commit(self, st, op):
        r = self.rng.random()
        if r < 0.5:
            return st["commit"]
        if r < 0.7:
            return op
        if r < 0.85:
            return st["op"] + 1
        return self.rng.getrandbits(64)

    def entries(self, first_op, view, count):
        return [log_entry(first_op + i, view, self.put_request()) for i in range(count)]

    def body(self, mtype, view, op, commit, st):
        """A body for mtype: a valid encoding mostly, random bytes at times."""
        r = self.rng
        if r.random() < 0.1:
            return self.rand_bytes(0, 120), "random_body"
        if mtype == REQUEST:
            return self.put_request(), "pb"
        if mtype == PREPARE:
            return batch([self.put_request()]), "pb"
        if mtype == REPLY:
            return reply(r.getrandbits(64), r.randint(1, 1000), r.randint(0, 4),
                         b"forged"), "pb"
        if mtype in (PREPARE_OK, HEARTBEAT_OK):
            return b"", "empty"
        if mtype == COMMIT:
            return struct.pack("!Q", r.getrandbits(64)), "heartbeat"
        if mtype == START_VIEW_CHANGE:
            return start_view_change(commit), "pb"
        if mtype == DO_VIEW_CHANGE:
            k = r.randint(1, 3)
            return do_view_change(view, self.entries(max(op - k + 1, 1), view, k)), "pb"
        if mtype in (START_VIEW, NEW_STATE):
            k = r.randint(1, 3)
            first = st["commit"] + 1 if r.random() < 0.5 else max(op - k + 1, 1)
            return log_chunk(self.entries(first, view, k), r.random() < 0.5), "pb"
        if mtype == GET_STATE:
            return get_state(r.choice([1, st["commit"] + 1, op]), r.random() < 0.5), "pb"
        if mtype == GET_SNAPSHOT:
            return f_varint(1, r.choice([0, st["commit"]])) + f_varint(2, 0), "pb"
        if mtype == SNAPSHOT:
            data = self.rand_bytes(1, 200)
            return (f_varint(1, st["commit"]) + f_varint(2, view & 0xFFFFFFFF) +
                    f_varint(3, len(data)) + f_varint(4, r.getrandbits(64)) +
                    f_varint(5, 0) + f_bytes(6, data)), "pb"
        return recovery(r.getrandbits(64)), "pb"  # RECOVERY, RECOVERY_RESPONSE

    def well_formed(self, target, st):
        """A datagram with a valid header; cycles through type x sender."""
        r = self.rng
        i = self.seq.get(target, 0)
        self.seq[target] = i + 1
        k = len(self.types)
        mtype = self.types[i % k]
        sender = self.senders[(i // k) % len(self.senders)]
        if mtype == REQUEST and r.random() < 0.5:
            sender = SENDER_CLIENT
        view = self.pick_view(st)
        op = self.pick_op(st)
        if mtype == PREPARE and r.random() < 0.5:
            # the attack of the bug report: the view's leader, exactly
            # the target's next op
            view, op = st["view"], st["op"] + 1
            sender = view % self.n
        commit = self.pick_commit(st, op)
        body, how = self.body(mtype, view, op, commit, st)
        flags = r.choice([0, 0, 0, 1, 2, 4, 7])
        return header(mtype, sender, view, len(body), op, commit, flags) + body, \
            "%s.%s" % (TYPES[mtype], how)

    def garbage(self, st):
        """Something an honest parser must reject."""
        r = self.rng
        kind = r.choice(["random", "truncated", "bad_magic", "bad_version",
                         "bad_type", "body_len_long", "body_len_short"])
        mtype = r.randint(1, MAX_TYPE)
        sender = r.choice(self.senders)
        body = self.put_request()
        if kind == "random":
            return self.rand_bytes(1, 200), "garbage." + kind
        if kind == "truncated":
            h = header(mtype, sender, st["view"], 0, st["op"] + 1, st["commit"])
            return h[:r.randint(1, 31)], "garbage." + kind
        if kind == "bad_magic":
            return header(mtype, sender, st["view"], len(body), st["op"] + 1, st["commit"],
                          magic=r.choice([0, 0x58504345, r.getrandbits(32)])) + body, \
                "garbage." + kind
        if kind == "bad_version":
            return header(mtype, sender, st["view"], len(body), st["op"] + 1, st["commit"],
                          version=r.choice([v for v in (0, VERSION - 1, VERSION + 1, 255) if v != VERSION])) + body, \
                "garbage." + kind
        if kind == "bad_type":
            return header(r.choice([0, MAX_TYPE + 1, 255]), sender, st["view"], len(body), st["op"] + 1,
                          st["commit"]) + body, "garbage." + kind
        if kind == "body_len_long":
            lie = len(body) + r.choice([1, 100, 1 << 20, (1 << 32) - 1])
            return header(mtype, sender, st["view"], lie, st["op"] + 1, st["commit"]) + body, \
                "garbage." + kind
        lie = r.randint(0, max(len(body) - 1, 0))
        return header(mtype, sender, st["view"], lie, st["op"] + 1, st["commit"]) + body, \
            "garbage." + kind

    def build(self, target, st):
        if self.rng.random() >= self.garbage_share:
            return self.well_formed(target, st)
        return self.garbage(st)


def classify(dgram, n, target):
    """(ec_frame, header_ok, replica_type) of a datagram sent to target."""
    if len(dgram) < HDR.size:
        return False, False, False
    magic, version, mtype, _, sender, _, body_len, _, _ = HDR.unpack_from(dgram)
    if magic != MAGIC or version != VERSION or not 1 <= mtype <= MAX_TYPE:
        return False, False, False
    ok = body_len == len(dgram) - HDR.size and (
        sender == SENDER_CLIENT if mtype == REQUEST else sender < n)
    return mtype != REQUEST, ok, ok and mtype != REQUEST and sender != target


# --- main ---------------------------------------------------------------

def main():
    p = argparse.ArgumentParser(
        description=__doc__.split("\n")[0],
        epilog="See the module docstring (head of this file) for what is sent and printed.")
    p.add_argument("--config", required=True, help="cluster configuration file")
    p.add_argument("--count", type=int, default=20000, help="datagrams to send at most")
    p.add_argument("--duration", type=float, default=10.0, help="seconds to send at most")
    p.add_argument("--rate", type=int, default=2000, help="datagrams per second at most")
    p.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    p.add_argument("--view", type=int, default=0, help="targets' current view (fallback)")
    p.add_argument("--op", type=int, default=0, help="targets' current op (fallback)")
    p.add_argument("--commit", type=int, default=None, help="targets' commit (default --op)")
    p.add_argument("--ctl", metavar="PATTERN",
                   help="control socket path with {id}: poll each target's status")
    p.add_argument("--types", metavar="LIST",
                   help="well-formed datagrams only of these types, comma-separated "
                   "numbers or names (default all %d)" % len(TYPES))
    p.add_argument("--garbage", type=float, default=0.2,
                   help="share of garbage datagrams, 0..1 (default 0.2)")
    p.add_argument("--only", type=int, action="append", metavar="ID",
                   help="send only to replica ID (repeatable; default all)")
    a = p.parse_args()
    if not 0 < a.count <= MAX_COUNT or not 0 < a.duration <= MAX_DURATION or \
            not 0 < a.rate <= MAX_RATE:
        p.error("need 0 < count <= %d, 0 < duration <= %g, 0 < rate <= %d"
                % (MAX_COUNT, MAX_DURATION, MAX_RATE))
    if not 0 <= a.garbage <= 1:
        p.error("--garbage must be in 0..1")
    types = None
    if a.types:
        names = {v: k for k, v in TYPES.items()}
        try:
            types = [int(w) if w.isdigit() else names[w.upper()] for w in a.types.split(",")]
        except KeyError as e:
            p.error("unknown type %s" % e)
        if any(t not in TYPES for t in types):
            p.error("types are 1..%d" % MAX_TYPE)
    if a.ctl is not None and "{id}" not in a.ctl:
        p.error("--ctl PATTERN must contain {id}")
    try:
        peers = load_config(a.config)
    except (OSError, ValueError) as e:
        print("forge: %s" % e, file=sys.stderr)
        return 1
    n = len(peers)
    targets = [pr for pr in peers if a.only is None or pr[0] in a.only]
    if not targets:
        p.error("--only names no replica of the configuration")

    rng = random.Random(a.seed)
    forger = Forger(rng, n, types, a.garbage)
    base = {"view": a.view, "op": a.op, "commit": a.op if a.commit is None else a.commit}
    state = {t[0]: dict(base) for t in targets}

    socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM)]
    # also from the replicas' own port, if it is free where we run
    try:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("0.0.0.0", peers[0][2]))
        socks.append(s)
    except OSError:
        s.close()
    for s in socks:
        s.setblocking(False)

    kinds = {}
    per = {t[0]: [0, 0, 0, 0] for t in targets}  # sent, ec, header_ok, replica_types
    errors = 0
    sent = 0
    start = time.monotonic()
    deadline = start + a.duration
    pace_base, pace_sent = start, 0
    next_poll = start
    i = 0
    # bounded: each pass builds one datagram; count and time cap it
    for i in range(a.count * 2):
        now = time.monotonic()
        if sent >= a.count or now >= deadline:
            break
        if a.ctl is not None and now >= next_poll:
            for t in targets:
                st = ctl_status(a.ctl.replace("{id}", str(t[0])))
                if st is not None:
                    state[t[0]] = st
            next_poll = time.monotonic() + CTL_PERIOD
        # pacing: at most rate/s; never burst to catch up more than 0.1 s
        ahead = pace_sent / a.rate - (time.monotonic() - pace_base)
        if ahead > 0.002:
            time.sleep(min(ahead, 0.05))
        elif ahead < -0.1:
            pace_base, pace_sent = time.monotonic(), 0
        tid, ip, port = targets[i % len(targets)]
        dgram, kind = forger.build(tid, state[tid])
        s = socks[0] if len(socks) == 1 or rng.random() < 0.75 else socks[1]
        try:
            s.sendto(dgram, (ip, port))
        except (BlockingIOError, OSError):
            errors += 1
            pace_sent += 1
            continue
        sent += 1
        pace_sent += 1
        kinds[kind] = kinds.get(kind, 0) + 1
        c = per[tid]
        c[0] += 1
        for j, v in enumerate(classify(dgram, n, tid)):
            c[j + 1] += int(v)
    for s in socks:
        s.close()

    elapsed = time.monotonic() - start
    print("forge.seconds %.2f" % elapsed)
    print("forge.sockets %d" % len(socks))
    print("sent.total %d" % sent)
    print("sent.send_errors %d" % errors)
    for k in sorted(kinds):
        print("sent.kind.%s %d" % (k, kinds[k]))
    tot = [0, 0, 0]
    for tid in sorted(per):
        c = per[tid]
        print("target.%d.sent %d" % (tid, c[0]))
        print("target.%d.ec_frames %d" % (tid, c[1]))
        print("target.%d.header_ok %d" % (tid, c[2]))
        print("target.%d.replica_types %d" % (tid, c[3]))
        for j in range(3):
            tot[j] += c[j + 1]
    print("total.ec_frames %d" % tot[0])
    print("total.header_ok %d" % tot[1])
    print("total.replica_types %d" % tot[2])
    return 0 if sent else 1


if __name__ == "__main__":
    sys.exit(main())
