#!/usr/bin/env python3
"""check_layers.py [ROOT]: the include rule of electrode-c, checked.

The layers, lowest first; a file may include its own layer and those its
layer lists, nothing else:

  proto    proto/*.h                  (the wire header, offload layout)
  common   replica/common             proto: shared with client/ and cluster/
  app      replica/app                proto common: the state machine,
                                      which knows no protocol
  core     replica/core               proto common app: the pure protocol
  offload  replica/offload            proto common app core, BPF skeletons
  io       replica/io                 proto common app core offload
  control  replica/control            proto common app core offload io
  main     replica/main.c, options.c  every layer
  client   client/                    proto common (and client/ itself)
  cluster  cluster/*.c                proto common (and cluster/ itself)
  ctl      replica/control/ctl.c      proto common (a client program)

Tests drive the core through its interface: no file under tests/ but
tests/unit/sim.c (the test-side view of a core) includes core/internal.h.

Also: common, app and core include no libevent (<event2/...>), no libbpf
(<bpf/...>) and no diagnostics (common/diag.h), and print nothing
(no printf/fprintf/puts/perror on a stream); and no two modules (a .c and
its .h are one module; a private *internal*.h belongs to whoever includes
it) include each other, directly or through others.

Prints each violation as FILE:LINE: what, and exits 1 if there is any.
"""
import os
import re
import sys

ROOT = sys.argv[1] if len(sys.argv) > 1 else "."
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^">]+)[">]', re.M)
PRINT = re.compile(r'\b(f?printf|puts|perror|fputs|fputc|vfprintf)\s*\(')

ALLOWED = {
    "common": {"proto"},
    "app": {"proto", "common"},
    "core": {"proto", "common", "app"},
    "offload": {"proto", "common", "app", "core", "skel"},
    "io": {"proto", "common", "app", "core", "offload"},
    "control": {"proto", "common", "app", "core", "offload", "io"},
    "main": {"proto", "common", "app", "core", "offload", "io", "control"},
    "client": {"proto", "common", "client"},
    "cluster": {"proto", "common", "cluster", "skel"},
    "ctl": {"proto", "common"},
}
PURE = {"common", "app", "core"}


def layer_of(path):
    """The layer of a source file (path relative to ROOT), or None."""
    parts = path.split("/")
    if parts[0] == "proto":
        return "proto"
    if parts[0] == "client":
        return "client"
    if parts[0] == "cluster":
        return "cluster"
    if parts[0] != "replica":
        return None
    if len(parts) == 2:
        return "main"  # main.c and its command line (options.c)
    if path == "replica/control/ctl.c":
        return "ctl"
    return parts[1] if len(parts) > 2 else None


def resolve(src, name):
    """The file a quoted include of name in src means, relative to ROOT
    (the including file's folder first, then the -I folders), or a tag:
    'skel' for generated skeletons, 'pb' for protobuf-c's header."""
    if name.endswith(".skel.h"):
        return "skel"
    if name == "ec.pb-c.h":
        return "proto/ec.proto"
    for base in (os.path.dirname(src), "replica", "proto", "client"):
        cand = os.path.normpath(os.path.join(base, name))
        if os.path.isfile(os.path.join(ROOT, cand)):
            return cand
    return None


def sources():
    for top in ("replica", "client", "cluster", "proto"):
        for d, _, files in os.walk(os.path.join(ROOT, top)):
            for f in sorted(files):
                if f.endswith((".c", ".h")):
                    yield os.path.relpath(os.path.join(d, f), ROOT)


def module(path):
    return path[:-2] if path.endswith((".c", ".h")) else path


def main():
    bad = []
    edges = {}
    for src in sources():
        me = layer_of(src)
        text = open(os.path.join(ROOT, src)).read()
        for m in INCLUDE.finditer(text):
            line = text.count("\n", 0, m.start()) + 1
            kind, name = m.group(1), m.group(2)
            where = "%s:%d" % (src, line)
            if kind == "<":
                if me in PURE and name.split("/")[0] in ("event2", "bpf"):
                    bad.append("%s: %s layer includes <%s>" % (where, me, name))
                continue
            target = resolve(src, name)
            if target is None:
                bad.append('%s: cannot resolve "%s"' % (where, name))
                continue
            if target == "skel":
                theirs = "skel"
            else:
                theirs = layer_of(target)
                # a private *internal*.h belongs to whoever includes it
                if (module(target) != module(src) and
                        "internal" not in os.path.basename(target)):
                    edges.setdefault(module(src), set()).add(module(target))
            if me is None or theirs is None or me == "proto":
                continue
            if target == "replica/common/diag.h" and me in PURE:
                bad.append("%s: %s layer includes diagnostics (common/diag.h)" % (where, me))
            if theirs != me and theirs not in ALLOWED[me]:
                bad.append('%s: %s layer includes %s (layer %s)' % (where, me, target, theirs))
        if me in PURE and src.endswith(".c"):
            for m in PRINT.finditer(text):
                line = text.count("\n", 0, m.start()) + 1
                bad.append("%s:%d: %s layer prints (%s)" % (src, line, me, m.group(1)))
    for d, _, files in os.walk(os.path.join(ROOT, "tests")):
        for f in sorted(files):
            src = os.path.relpath(os.path.join(d, f), ROOT)
            if not f.endswith((".c", ".h")) or src == "tests/unit/sim.c":
                continue
            text = open(os.path.join(ROOT, src)).read()
            for m in INCLUDE.finditer(text):
                if m.group(2).endswith("core/internal.h"):
                    line = text.count("\n", 0, m.start()) + 1
                    bad.append("%s:%d: a test includes the core's internals "
                               "(use tests/unit/sim.h)" % (src, line))
    # circles between modules: depth-first search for a back edge
    state, stack = {}, []

    def visit(m):
        state[m] = 1
        stack.append(m)
        for t in sorted(edges.get(m, ())):
            if state.get(t) == 1:
                cyc = stack[stack.index(t):] + [t]
                bad.append("circle: " + " -> ".join(cyc))
            elif t not in state:
                visit(t)
        stack.pop()
        state[m] = 2

    for m in sorted(edges):
        if m not in state:
            visit(m)
    for b in bad:
        print(b)
    print("check-layers: %d violation%s" % (len(bad), "" if len(bad) == 1 else "s"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
