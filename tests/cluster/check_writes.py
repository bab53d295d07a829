#!/usr/bin/env python3
"""check_writes.py VERIFY_LOG DUMP: check ec-bench's writes against a store.

VERIFY_LOG is ec-bench's --verify-log output, one "KEY ACKED_SEQ SENT_SEQ"
line per key it wrote: the seq of the last write acknowledged to it (0 if
none) and of the last write it sent.  DUMP is a replica's `ec-ctl SOCK dump`
output, one "KEY VALUE" line per key, bytes outside 0x21-0x7e and backslash
written as \\xHH.  ec-bench writes values "SEQ" or "SEQ:padding".

Every key must hold a value whose SEQ lies in [ACKED_SEQ, SENT_SEQ]: an
acknowledged write is never lost or overwritten by an older one, and
nothing is invented.  A key with ACKED_SEQ > 0 must exist, and so must at
least one such key (a run with no write acknowledged shows nothing).  Exit
0 when all hold, 1 otherwise (listing the first violations), 2 on bad
input.
"""
import re
import sys

ESCAPE = re.compile(rb"\\x([0-9a-fA-F]{2})")


def unescape(field):
    """Bytes of a dump field with its \\xHH escapes decoded."""
    return ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), field)


def load_dump(path):
    """The store as a dict of key bytes to value bytes."""
    store = {}
    with open(path, "rb") as f:
        for lineno, line in enumerate(f, 1):
            line = line.rstrip(b"\n")
            if not line:
                continue
            key, _, value = line.partition(b" ")
            key = unescape(key)
            if key in store:
                raise ValueError("%s:%d: key %r listed twice" % (path, lineno, key))
            store[key] = unescape(value)
    return store


def load_log(path):
    """The verify log as a list of (lineno, key bytes, acked, sent)."""
    entries = []
    with open(path, "rb") as f:
        for lineno, line in enumerate(f, 1):
            fields = line.split()
            if not fields:
                continue
            if len(fields) != 3 or not fields[1].isdigit() or not fields[2].isdigit():
                raise ValueError("%s:%d: expected 'KEY ACKED_SEQ SENT_SEQ'" % (path, lineno))
            acked, sent = int(fields[1]), int(fields[2])
            if acked > sent:
                raise ValueError("%s:%d: acked seq %d > sent seq %d" % (path, lineno, acked, sent))
            entries.append((lineno, fields[0], acked, sent))
    return entries


def check(entries, store):
    """A list of violation messages (empty when every key is right)."""
    bad = []
    for lineno, key, acked, sent in entries:
        name = key.decode("ascii", "backslashreplace")
        if key not in store:
            if acked > 0:
                bad.append("line %d: %s: acknowledged seq %d, but the key is missing"
                           % (lineno, name, acked))
            continue
        value = store[key]
        head = value.split(b":", 1)[0]
        if not head.isdigit():
            bad.append("line %d: %s: value %r is not 'SEQ[:...]'" % (lineno, name, value[:40]))
            continue
        seq = int(head)
        if not acked <= seq <= sent:
            bad.append("line %d: %s: stored seq %d outside [acked %d, sent %d]"
                       % (lineno, name, seq, acked, sent))
    return bad


def main():
    if len(sys.argv) != 3 or sys.argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if len(sys.argv) == 2 else 2
    try:
        entries = load_log(sys.argv[1])
        store = load_dump(sys.argv[2])
    except (OSError, ValueError) as e:
        print("check_writes: %s" % e, file=sys.stderr)
        return 2
    if not entries:
        print("check_writes: %s lists no writes" % sys.argv[1], file=sys.stderr)
        return 2
    bad = check(entries, store)
    acked = sum(1 for e in entries if e[2] > 0)
    for msg in bad[:20]:
        print("check_writes: " + msg, file=sys.stderr)
    if bad:
        print("check_writes: %d of %d keys wrong" % (len(bad), len(entries)), file=sys.stderr)
        return 1
    if acked == 0:
        print("check_writes: none of the %d keys has an acknowledged write: "
              "nothing to check" % len(entries), file=sys.stderr)
        return 1
    print("check_writes: %d keys (%d with acknowledged writes) all hold a seq in "
          "[acked, sent]" % (len(entries), acked))
    return 0


if __name__ == "__main__":
    sys.exit(main())
