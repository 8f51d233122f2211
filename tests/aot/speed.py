#!/usr/bin/env python3
"""tests/aot/speed.py — kiln-aot's own quick speed check over examples/bench: native (clang-19 -O2)
against kiln-aot at the given levels, interleaved runs, best CPU time (user+sys, which a loaded
shared machine disturbs less than wall-clock time). Not a test (bench/compute is the reference
table); a developer's loop for before/after figures.

usage: tests/aot/speed.py [--runs N] [--only a,b] [--levels=-O2,-O3] [--w2c] [--aot PATH] [--args prog=ARGS]
"""
import argparse
import math
import os
import subprocess
import sys
import time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SRC = os.path.join(TOP, "examples", "bench")
W = os.path.join(TOP, "build", "tests", "aot", "speed")
W2C_DIR = "/usr/share/wabt/wasm2c"
PROGRAMS = ["binary-trees", "nbody", "fannkuch-redux", "spectral-norm", "mandelbrot", "hash", "sort", "matmul"]


def run(cmd):
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)


def cpu_time(cmd):
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE)
    out = p.stdout.read()
    _, status, ru = os.wait4(p.pid, 0)
    if status != 0:
        sys.exit("%s: exit status %d" % (" ".join(cmd), status))
    return ru.ru_utime + ru.ru_stime, time.perf_counter() - t0, out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--only", default="")
    ap.add_argument("--levels", default="-O2")
    ap.add_argument("--aot", default=os.path.join(TOP, "build", "kiln-aot"))
    ap.add_argument("--w2c", action="store_true", help="also wasm2c + clang -O2 (as bench/compute)")
    ap.add_argument("--args", action="append", default=[], help="prog=ARGS (default: the program's own)")
    a = ap.parse_args()
    progs = [p for p in a.only.split(",") if p] or PROGRAMS
    levels = [l for l in a.levels.split(",") if l]
    pargs = dict(x.split("=", 1) for x in a.args)
    os.makedirs(W, exist_ok=True)
    lib = os.path.join(TOP, "build", "host", "libkiln-host.a")
    ratios = {l: [] for l in levels}
    print("%-15s %9s" % ("program", "native s") + "".join(" %9s %6s %5s %6s" % (l + " s", "ratio", "cc s", "KiB")
                                                         for l in levels) + (" %9s %6s" % ("wasm2c s", "ratio") if a.w2c else ""))
    for prog in progs:
        src = os.path.join(SRC, prog + ".c")
        nat, wasm = os.path.join(W, prog), os.path.join(W, prog + ".wasm")
        run(["clang-19", "-O2", "-o", nat, src, "-lm"])
        run(["clang-19", "--target=wasm32-wasi", "-O2", "-o", wasm, src])
        exes, info = {}, {}
        w2c = None
        if a.w2c:  # as bench/compute builds it
            w2c = os.path.join(W, prog + ".w2c")
            run(["wasm2c", "-n", "prog", wasm, "-o", os.path.join(W, "prog.c")])
            run(["clang-19", "-O2", "-I" + W, "-I" + W2C_DIR, "-o", w2c, os.path.join(W, "prog.c"),
                 os.path.join(TOP, "bench", "wasi-shim.c"), os.path.join(W2C_DIR, "wasm-rt-impl.c"), "-lm"])
        for l in levels:
            obj, exe = os.path.join(W, prog + l + ".o"), os.path.join(W, prog + l + ".bin")
            t0 = time.perf_counter()
            run([a.aot, l, wasm, "-o", obj])
            info[l] = (time.perf_counter() - t0, os.path.getsize(obj) / 1024)
            run(["clang-19", obj, lib, "-lm", "-o", exe])
            exes[l] = exe
        args = pargs.get(prog, "").split()
        best = {"native": None, **{l: None for l in levels}}
        if w2c:
            best["w2c"] = None
        expect = None
        for _ in range(a.runs):
            for k in best:
                cmd = [nat] + args if k == "native" else [w2c] + args if k == "w2c" else [exes[k], "--"] + args
                t, _, out = cpu_time(cmd)
                if expect is None:
                    expect = out
                elif out != expect:
                    sys.exit("%s %s: output differs from native" % (prog, k))
                best[k] = t if best[k] is None else min(best[k], t)
        line = "%-15s %9.3f" % (prog, best["native"])
        for l in levels:
            r = best[l] / best["native"]
            ratios[l].append(r)
            line += " %9.3f %5.2fx %5.2f %6.0f" % (best[l], r, info[l][0], info[l][1])
        if w2c:
            ratios.setdefault("w2c", []).append(best["w2c"] / best["native"])
            line += " %9.3f %5.2fx" % (best["w2c"], best["w2c"] / best["native"])
        print(line, flush=True)
    print("%-15s %9s" % ("geomean", "") + "".join(
        " %9s %5.2fx %5s %6s" % ("", math.exp(sum(map(math.log, ratios[l])) / len(ratios[l])), "", "") for l in levels)
          + (" %9s %5.2fx" % ("", math.exp(sum(map(math.log, ratios["w2c"])) / len(ratios["w2c"]))) if a.w2c else ""))


if __name__ == "__main__":
    main()
