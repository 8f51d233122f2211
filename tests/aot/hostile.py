#!/usr/bin/env python3
"""tests/aot/hostile.py — writes valid but hostile WebAssembly modules, as .wasm bytes.

usage: hostile.py KIND N OUT.wasm

Each KIND scales with N; the ones marked (limit) are meant to be called at an implementation
limit of kiln-aot (aot/limits.h) and one past it:
  params N    a type with N i32 params, a function of it and a caller passing N constants (limit)
  results N   a function returning N i32 results (limit)
  locals N    a function with N-1 i64 locals besides one param, all summed (limit)
  body N      a function whose body is about N bytes of nops (limit: 7654321)
  types N     N distinct function types (limit)
  funcs N     N functions, each calling the next (limit)
  globals N   N immutable i32 globals (limit)
  imports N   N imported functions (limit)
  exports N   N exports of one function, distinct names (limit)
  data N      N one-byte data segments (limit)
  table N     a table of N initial entries (limit)
  ifs N       a chain of N `if`s updating a local
  loads N     N i64 loads, all live, then summed
  memops N    N load/store pairs
  nest N      N nested blocks, each with an i32 result and a br_if out of all of them
  brtable N   a br_table with N targets over N nested blocks
  deep N      `_start` recursing through a function with N i64 blocks and min(N, 49999) i64
              locals (a frame of about 16N bytes at -O0: stack exhaustion)
  deepleaf N  `_start` recursing, calling at each level a leaf with N i64 locals
"""
import sys


def leb(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def sleb(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if (n == 0 and not b & 0x40) or (n == -1 and b & 0x40):
            out.append(b)
            return bytes(out)
        out.append(b | 0x80)


def vec(items):
    return leb(len(items)) + b"".join(items)


def section(sid, body):
    return bytes([sid]) + leb(len(body)) + body


def functype(params, results):
    return b"\x60" + leb(len(params)) + bytes(params) + leb(len(results)) + bytes(results)


def name(s):
    b = s.encode()
    return leb(len(b)) + b


def body(locals_, code):
    """locals_: list of (count, type); code: bytes without the final end."""
    b = leb(len(locals_)) + b"".join(leb(n) + bytes([t]) for n, t in locals_) + code + b"\x0b"
    return leb(len(b)) + b


I32, I64 = 0x7F, 0x7E
HDR = b"\0asm\x01\0\0\0"


def module(types=(), imports=(), funcs=(), tables=(), mems=(), globals_=(), exports=(), codes=(), datas=(),
           start=None):
    out = HDR
    if types: out += section(1, vec(list(types)))
    if imports: out += section(2, vec(list(imports)))
    if funcs: out += section(3, vec([leb(t) for t in funcs]))
    if tables: out += section(4, vec(list(tables)))
    if mems: out += section(5, vec(list(mems)))
    if globals_: out += section(6, vec(list(globals_)))
    if exports: out += section(7, vec(list(exports)))
    if start is not None: out += section(8, leb(start))
    if codes: out += section(10, vec(list(codes)))
    if datas: out += section(11, vec(list(datas)))
    return out


def export_func(nm, idx):
    return name(nm) + b"\x00" + leb(idx)


def gen(kind, n):
    if kind == "params":
        call = b"".join(b"\x41\x00" for _ in range(n)) + b"\x10\x00"
        return module(types=[functype([I32] * n, []), functype([], [])], funcs=[0, 1],
                      exports=[export_func("f", 1)], codes=[body([], b""), body([], call)])
    if kind == "results":
        return module(types=[functype([], [I32] * n)], funcs=[0], exports=[export_func("f", 0)],
                      codes=[body([], b"\x41\x01" * n)])
    if kind == "locals":
        code = b"\x20\x00\xad"  # i64.extend_i32_u of the param
        for i in range(1, n):
            code += b"\x20" + leb(i) + b"\x7c"  # local.get i; i64.add
        return module(types=[functype([I32], [I64])], funcs=[0], exports=[export_func("f", 0)],
                      codes=[body([(n - 1, I64)], code)])
    if kind == "body":
        # body size = locals vector (1) + nops + end (1)
        return module(types=[functype([], [])], funcs=[0], codes=[body([], b"\x01" * (n - 2))])
    if kind == "types":
        ts, vals = [], [I32, I64, 0x7D, 0x7C]
        for i in range(n):
            ps, k = [], i
            while True:
                ps.append(vals[k & 3])
                k >>= 2
                if not k: break
            ts.append(functype(ps, []))
        return module(types=ts)
    if kind == "funcs":
        codes = [body([], b"\x10" + leb(i + 1)) for i in range(n - 1)] + [body([], b"")]
        return module(types=[functype([], [])], funcs=[0] * n, exports=[export_func("f", 0)], codes=codes)
    if kind == "globals":
        return module(globals_=[b"\x7f\x00\x41" + sleb(i & 0x3F) + b"\x0b" for i in range(n)])
    if kind == "imports":
        return module(types=[functype([], [])], imports=[name("m") + name("f%d" % i) + b"\x00\x00" for i in range(n)])
    if kind == "exports":
        return module(types=[functype([], [])], funcs=[0], exports=[export_func("e%d" % i, 0) for i in range(n)],
                      codes=[body([], b"")])
    if kind == "data":
        return module(mems=[b"\x00\x01"], datas=[b"\x00\x41" + sleb(i & 0xFFF) + b"\x0b\x01\x2a" for i in range(n)])
    if kind == "table":
        return module(tables=[b"\x70\x00" + leb(n)])
    if kind == "ifs":
        step = b"\x20\x00\x04\x40\x20\x00\x41\x01\x6b\x21\x00\x0b"  # if (x) x = x - 1
        return module(types=[functype([I32], [I32])], funcs=[0], exports=[export_func("f", 0)],
                      codes=[body([], step * n + b"\x20\x00")])
    if kind == "loads":
        code = b"".join(b"\x41\x00\x29\x03" + leb(8 * i) for i in range(n)) + b"\x7c" * (n - 1)
        return module(types=[functype([], [I64])], funcs=[0], mems=[b"\x00\x01"], exports=[export_func("f", 0)],
                      codes=[body([], code)])
    if kind == "memops":
        code = b"".join(b"\x41" + sleb(i & 0xFFF) + b"\x41" + sleb(4 * (i & 0x3FF)) + b"\x28\x02\x00\x36\x02\x00"
                        for i in range(n))
        return module(types=[functype([], [])], funcs=[0], mems=[b"\x00\x01"], exports=[export_func("f", 0)],
                      codes=[body([], code)])
    if kind == "nest":
        code = b"\x02\x7f" * n + b"\x41\x01\x20\x00\x0d" + leb(n - 1) + b"\x0b" * n
        return module(types=[functype([I32], [I32])], funcs=[0], exports=[export_func("f", 0)], codes=[body([], code)])
    if kind == "brtable":
        code = b"\x02\x40" * n + b"\x20\x00\x0e" + leb(n - 1) + b"".join(leb(i) for i in range(n)) + b"\x0b"
        code += b"\x20\x00\x41\x01\x6a\x21\x00\x0b" * (n - 1) + b"\x20\x00"
        return module(types=[functype([I32], [I32])], funcs=[0], exports=[export_func("f", 0)], codes=[body([], code)])
    if kind in ("deep", "deepleaf"):
        # func 0: (param i32) recursing while the param is non-zero; func 1: _start; func 2: leaf
        if kind == "deep":
            # n blocks with an i64 result: each gets a slot in the frame, as each local does
            nl = min(n, 49999)
            use = (b"\x02\x7e\x20" + leb(nl) + b"\x0b\x1a") * n
            rec = body([(nl, I64)], b"\x20\x00\x04\x40\x20\x00\x41\x01\x6b\x10\x00\x0b" + use)
        else:
            rec = body([], b"\x10\x02\x20\x00\x04\x40\x20\x00\x41\x01\x6b\x10\x00\x0b")
        leaf = body([(min(n, 49999), I64)], b"\x20\x00\x42\x01\x7c\x21" + leb(min(n, 49999) - 1))  # locals live in memory at -O0
        return module(types=[functype([I32], []), functype([], [])], funcs=[0, 1, 1],
                      exports=[export_func("_start", 1)],
                      codes=[rec, body([], b"\x41" + sleb(10000000) + b"\x10\x00"), leaf])
    raise SystemExit("hostile.py: unknown kind %s" % kind)


if __name__ == "__main__":
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    with open(sys.argv[3], "wb") as f:
        f.write(gen(sys.argv[1], int(sys.argv[2])))
