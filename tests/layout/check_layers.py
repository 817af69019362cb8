#!/usr/bin/env python3
"""Checks the layering of the source tree (README.md, "Layout"), and fails on any breach.

1. Headers: a file includes headers of its own folder, or the one public header (face) of a folder
   below it. Never a private header of another folder, never a face of a folder above it.
2. Calls: from the object files of a build (nm), which file calls which. No circle of files may
   call each other, and a call between folders goes down, never up.

Usage: check_layers.py SOURCE_ROOT BUILD_ROOT
"""
import collections
import os
import re
import subprocess
import sys

# Folders bottom to top, with the face other folders may include. Same rank: may not call
# each other.
LAYERS = [
    ("gost", 0, "gost.h"),
    ("udev", 1, "tokendb.h"),
    ("pkcs11", 2, "pkcs11_client.h"),
    ("pkcs11/softtoken", 2, None),
    ("agent", 3, "agent.h"),
    ("native-messaging", 4, "native_messaging.h"),
    ("cli/doctor", 5, "doctor.h"),
    ("cli", 6, "cli.h"),
]
GENERATED = {"gostsign_version.h"}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def folder_of(rel):
    """The layer folder a source path belongs to (the longest matching prefix), or None."""
    best = None
    for name, _, _ in LAYERS:
        if rel == name or rel.startswith(name + "/"):
            if os.path.dirname(rel) == name and (best is None or len(name) > len(best)):
                best = name
    return best


def layer(name):
    return next(l for l in LAYERS if l[0] == name)


def check_includes(src):
    """Rule 1 over every .c and .h file of the layer folders."""
    errors = []
    for name, rank, _ in LAYERS:
        d = os.path.join(src, name)
        own = set(os.listdir(d))
        for f in sorted(os.listdir(d)):
            if not f.endswith((".c", ".h")):
                continue
            text = open(os.path.join(d, f), encoding="utf-8").read()
            for inc in INCLUDE.findall(text):
                if inc in own or inc in GENERATED:
                    continue
                owner = [l for l in LAYERS if l[2] == inc]
                if not owner:
                    errors.append(f"{name}/{f}: includes {inc}, a private header of another folder")
                elif owner[0][1] >= rank:
                    errors.append(f"{name}/{f}: includes {inc}, the face of {owner[0][0]}/, "
                                  "which is not below it")
    return errors


def objects(build):
    """Object files of the layer folders' targets: {source path: object path}."""
    out = {}
    for name, _, _ in LAYERS:
        d = os.path.join(build, name)
        if not os.path.isdir(d):
            continue
        for sub in os.listdir(d):
            if not sub.endswith(".p"):
                continue
            for o in os.listdir(os.path.join(d, sub)):
                if o.endswith(".c.o"):
                    rel = f"{name}/{o[:-2]}"
                    if folder_of(rel) == name:
                        out[rel] = os.path.join(d, sub, o)
    return out


def symbols(obj):
    """(defined, undefined) global symbol sets of one object file."""
    text = subprocess.run(["nm", "-P", obj], capture_output=True, text=True, check=True).stdout
    defined, undefined = set(), set()
    for line in text.splitlines():
        parts = line.split()
        if len(parts) < 2:
            continue
        sym, kind = parts[0], parts[1]
        if kind == "U":
            undefined.add(sym)
        elif kind in "TDBRVW" and kind.isupper():
            defined.add(sym)
    return defined, undefined


def strongly_connected(graph):
    """Tarjan's algorithm: the components of more than one file."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def check_calls(build):
    """Rule 2 over the build's object files."""
    objs = objects(build)
    if len(objs) < 20:
        return [f"only {len(objs)} object files under {build}: is it built?"]
    table = {src: symbols(o) for src, o in objs.items()}
    definer = collections.defaultdict(set)
    for src, (defined, _) in table.items():
        for sym in defined:
            definer[sym].add(src)
    graph = {src: set() for src in table}
    for src, (_, undefined) in table.items():
        for sym in undefined:
            for callee in definer.get(sym, ()):
                if callee != src:
                    graph[src].add(callee)
    errors = []
    for comp in strongly_connected(graph):
        errors.append("files that call each other in a circle: " + " <-> ".join(comp))
    for src, callees in sorted(graph.items()):
        a = layer(folder_of(src))
        for callee in sorted(callees):
            b = layer(folder_of(callee))
            if b[0] != a[0] and b[1] >= a[1]:
                errors.append(f"{src} calls {callee}: {b[0]}/ is not below {a[0]}/")
    return errors, len(table), sum(len(v) for v in graph.values())


def main():
    src, build = sys.argv[1], sys.argv[2]
    errors = check_includes(src)
    result = check_calls(build)
    if isinstance(result, list):
        errors += result
    else:
        call_errors, nfiles, nedges = result
        errors += call_errors
        print(f"layers: {nfiles} object files, {nedges} calls between files")
    for e in errors:
        print("FAIL:", e)
    print("ok: headers and calls follow the layers" if not errors else f"{len(errors)} breaches")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
