#!/usr/bin/env python3
"""tests/fuzz/gen_valid.py — writes a random *valid* WebAssembly module for differential
testing: the same module compiled at -O0 and -O2 must print the same bytes.

usage: gen_valid.py SEED OUT.wasm [FUNCS]

The module imports fd_write, has one memory and FUNCS (default 12) functions (i32, i64) -> i64
whose bodies are random integer expression trees: every i32/i64 arithmetic, bit, comparison and
conversion operator, select, if/else, loads and stores at masked addresses, calls to earlier
functions and a bounded loop. Nothing traps (divisors are forced odd, addresses masked) and no
float is involved (NaN payloads may legally differ). `_start` calls each function on fixed
arguments, stores the results and writes them to stdout as raw bytes.
"""
import random
import sys

sys.path.insert(0, __file__.rsplit("/", 1)[0] + "/../aot")
from hostile import leb, sleb, section, vec, functype, name, body, I32, I64, HDR  # noqa: E402

I32_BIN = [0x6A, 0x6B, 0x6C, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78]  # add..rotr
I64_BIN = [0x7C, 0x7D, 0x7E, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8A]
I32_CMP = [0x46, 0x47, 0x48, 0x49, 0x4A, 0x4B, 0x4C, 0x4D, 0x4E, 0x4F]
I64_CMP = [0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5A]
I32_UN = [0x67, 0x68, 0x69, 0xC0, 0xC1]  # clz ctz popcnt extend8_s extend16_s
I64_UN = [0x79, 0x7A, 0x7B, 0xC2, 0xC3, 0xC4]


class Gen:
    def __init__(self, rnd, fidx, nlocals):
        self.r, self.fidx, self.nlocals = rnd, fidx, nlocals
        self.calls, self.in_loop = 0, 0  # one call per function, never in a loop: work stays linear

    def const(self, t):
        v = self.r.choice([0, 1, -1, 2, 7, 31, 32, 63, 64, 255, -2**31, 2**31 - 1, self.r.getrandbits(32) - 2**31])
        if t == I64:
            v = self.r.choice([v, -2**63, 2**63 - 1, self.r.getrandbits(64) - 2**63])
            return b"\x42" + sleb(v)
        return b"\x41" + sleb(v)

    def addr(self):
        return self.expr(I32, 2) + b"\x41" + sleb(0xFF8) + b"\x71"  # masked, 8-byte aligned, < 4 KiB

    def expr(self, t, d):
        r = self.r
        if d <= 0 or r.random() < 0.15:
            k = r.randrange(3)
            if k == 0: return self.const(t)
            if t == I32: return b"\x20\x00"  # param 0
            return b"\x20" + leb(r.choice([1] + list(range(2, 2 + self.nlocals))))
        k = r.randrange(12)
        if t == I32:
            if k < 4: return self.expr(I32, d - 1) + self.expr(I32, d - 1) + bytes([r.choice(I32_BIN)])
            if k == 4: return self.expr(I32, d - 1) + self.odd(I32, d - 1) + bytes([r.choice([0x6D, 0x6E, 0x6F, 0x70])])
            if k == 5: return self.expr(I32, d - 1) + self.expr(I32, d - 1) + bytes([r.choice(I32_CMP)])
            if k == 6: return self.expr(I64, d - 1) + self.expr(I64, d - 1) + bytes([r.choice(I64_CMP)])
            if k == 7: return self.expr(I32, d - 1) + bytes([r.choice(I32_UN)])
            if k == 8: return self.expr(I64, d - 1) + bytes([r.choice([0xA7, 0x50])])  # wrap, eqz
            if k == 9: return self.addr() + bytes([r.choice([0x28, 0x2C, 0x2D, 0x2E, 0x2F])]) + b"\x00" + leb(r.randrange(8))
        else:
            if k < 4: return self.expr(I64, d - 1) + self.expr(I64, d - 1) + bytes([r.choice(I64_BIN)])
            if k == 4: return self.expr(I64, d - 1) + self.odd(I64, d - 1) + bytes([r.choice([0x7F, 0x80, 0x81, 0x82])])
            if k == 5: return self.expr(I32, d - 1) + bytes([r.choice([0xAC, 0xAD])])  # extend_i32_s/u
            if k == 6: return self.expr(I64, d - 1) + bytes([r.choice(I64_UN)])
            if k == 7 and self.fidx > 1 and not self.calls and not self.in_loop:  # call an earlier function
                self.calls += 1
                return self.expr(I32, d - 1) + self.expr(I64, d - 1) + b"\x10" + leb(r.randrange(1, self.fidx))
            if k == 8: return self.addr() + bytes([r.choice([0x29, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35])]) + b"\x00" + leb(r.randrange(8))
            if k == 9:  # a store, then a value
                return (self.addr() + self.expr(I64, d - 1) + bytes([r.choice([0x37, 0x3C, 0x3D, 0x3E])]) + b"\x00" +
                        leb(r.randrange(8)) + self.expr(I64, d - 1))
        if k == 10: return self.expr(t, d - 1) + self.expr(t, d - 1) + self.expr(I32, d - 1) + b"\x1b"  # select
        # if/else with a result, or a loop running (param0 & 7) times updating a local, with one
        # counter local per nesting level (at most 3)
        if r.random() < 0.5 or self.in_loop >= 3:
            return self.expr(I32, d - 1) + b"\x04" + bytes([t]) + self.expr(t, d - 1) + b"\x05" + self.expr(t, d - 1) + b"\x0b"
        loc = 2 + r.randrange(self.nlocals)  # an i64 local; counter in the i32 local after them
        cnt = 2 + self.nlocals + self.in_loop
        self.in_loop += 1
        inner = self.expr(I64, d - 2)
        self.in_loop -= 1
        loop = (b"\x20\x00\x41\x07\x71\x21" + leb(cnt) +  # cnt = p0 & 7
                b"\x02\x40\x03\x40" + b"\x20" + leb(cnt) + b"\x45\x0d\x01" +  # block loop: br_if 1 (cnt == 0)
                b"\x20" + leb(loc) + inner + b"\x7c\x21" + leb(loc) +  # loc += e
                b"\x20" + leb(cnt) + b"\x41\x01\x6b\x21" + leb(cnt) + b"\x0c\x00\x0b\x0b")  # cnt -= 1; br 0
        return loop + self.expr(t, d - 1)

    def odd(self, t, d):
        # (x >>u 1) | 1: positive and odd, so neither division by zero nor INT_MIN / -1
        return self.expr(t, d) + ((b"\x41\x01\x76\x41\x01\x72") if t == I32 else (b"\x42\x01\x88\x42\x01\x84"))


def gen(seed, nfuncs):
    r = random.Random(seed)
    types = [functype([I32] * 4, [I32]), functype([I32, I64], [I64]), functype([], [])]
    imports = [name("wasi_snapshot_preview1") + name("fd_write") + b"\x00\x00"]
    codes = []
    for i in range(1, nfuncs + 1):
        nl = r.randrange(1, 4)
        g = Gen(r, i, nl)
        init = b"".join(b"\x20\x01" + g.expr(I64, 2) + b"\x7c\x21" + leb(2 + k) for k in range(nl))
        codes.append(body([(nl, I64), (3, I32)], init + g.expr(I64, r.randrange(3, 7))))
    # _start: results of every function on a few arguments at 4096.., then fd_write them
    args = [(0, 0), (1, -1), (-7, 2**40 + 3), (2**31 - 1, -2**63), (12345, 987654321)]
    code, off = b"", 4096
    for f in range(1, nfuncs + 1):
        for a, b in args:
            code += b"\x41" + sleb(off) + b"\x41" + sleb(a) + b"\x42" + sleb(b) + b"\x10" + leb(f) + b"\x37\x03\x00"
            off += 8
    code += b"\x41\x00\x41" + sleb(4096) + b"\x36\x02\x00"  # iovec at 0: base 4096, len
    code += b"\x41\x04\x41" + sleb(off - 4096) + b"\x36\x02\x00"
    code += b"\x41\x01\x41\x00\x41\x01\x41\x08\x10\x00\x1a"  # fd_write(1, iov 0, 1, nwritten at 8); drop
    codes.append(body([], code))
    out = HDR + section(1, vec(types)) + section(2, vec(imports))
    out += section(3, vec([leb(1)] * nfuncs + [leb(2)]))
    out += section(5, vec([b"\x00\x01"]))
    out += section(7, vec([name("_start") + b"\x00" + leb(nfuncs + 1), name("memory") + b"\x02\x00"]))
    out += section(10, vec(codes))
    return out


if __name__ == "__main__":
    if len(sys.argv) not in (3, 4):
        raise SystemExit(__doc__)
    with open(sys.argv[2], "wb") as f:
        f.write(gen(int(sys.argv[1]), int(sys.argv[3]) if len(sys.argv) == 4 else 12))
