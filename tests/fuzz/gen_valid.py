#!/usr/bin/env python3
"""tests/fuzz/gen_valid.py — writes a random *valid* WebAssembly module for differential
testing: the same module compiled at -O0 and -O2, and translated by wasm2c, must print the same
bytes, exit alike and trap alike (tests/fuzz/run.sh).

usage: gen_valid.py SEED OUT.wasm [FUNCS]

The module imports fd_write, has one memory (1 page, at most 8), four mutable globals (i32, i64,
f32, f64), a table of 32 slots and FUNCS (default 12) functions (i32, i64) -> i64 whose bodies
are random expression trees: every i32/i64 arithmetic, bit, comparison and conversion operator,
f32/f64 arithmetic, rounding, comparison and conversion (truncations saturating or not),
reinterpretations, select, if/else, loads and stores of every width at masked addresses,
globals, memory.size/grow, direct and indirect calls to earlier functions and bounded loops.
`_start` calls each function on fixed arguments and writes its five results to stdout (raw
little-endian i64) at once, so what ran before a trap is compared too; at the end it writes the
globals and the first 4 KiB + 16 bytes of memory.

Half of the seeds may trap (seed-chosen), in their second half of functions: divisions by any value, truncations of any
float, loads at unmasked addresses, `unreachable` under a condition, call_indirect through any
of the 32 slots (null slots, a slot of another type, an index past the table, later functions,
so recursion until the stack is exhausted). The other seeds never trap: divisors are forced odd,
addresses masked, truncations saturating, indirect calls reach earlier functions only.

Floats cannot make results differ legally: a NaN's payload is nondeterministic in Wasm, so every
float that becomes bits (reinterpret, store, the globals written at exit) is canonicalized first
(`x == x ? x : canonical NaN`); comparisons and truncations do not depend on the payload.
"""
import random
import struct
import sys

sys.path.insert(0, __file__.rsplit("/", 1)[0] + "/../aot")
from hostile import leb, sleb, section, vec, functype, name, body, I32, I64, HDR  # noqa: E402

F32, F64 = 0x7D, 0x7C
I32_BIN = [0x6A, 0x6B, 0x6C, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78]  # add..rotr
I64_BIN = [0x7C, 0x7D, 0x7E, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8A]
I32_CMP = [0x46, 0x47, 0x48, 0x49, 0x4A, 0x4B, 0x4C, 0x4D, 0x4E, 0x4F]
I64_CMP = [0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5A]
I32_UN = [0x67, 0x68, 0x69, 0xC0, 0xC1]  # clz ctz popcnt extend8_s extend16_s
I64_UN = [0x79, 0x7A, 0x7B, 0xC2, 0xC3, 0xC4]
# per float type: unary (abs..sqrt), binary (add..copysign), comparisons, convert from i32/i64
# (s, u), the other float type's conversion, load, store
FLOAT = {
    F32: dict(un=range(0x8B, 0x92), bin=range(0x92, 0x99), cmp=range(0x5B, 0x61), cvt32=[0xB2, 0xB3],
              cvt64=[0xB4, 0xB5], other=0xB6, load=0x2A, store=0x38, const=b"\x43", pack="<f",
              nan=b"\x43\x00\x00\xc0\x7f", eqop=0x5B, reinterp=0xBC),
    F64: dict(un=range(0x99, 0xA0), bin=range(0xA0, 0xA7), cmp=range(0x61, 0x67), cvt32=[0xB7, 0xB8],
              cvt64=[0xB9, 0xBA], other=0xBB, load=0x2B, store=0x39, const=b"\x44", pack="<d",
              nan=b"\x44" + struct.pack("<Q", 0x7FF8000000000000), eqop=0x61, reinterp=0xBD),
}
TRUNC = {I32: {F32: (0xA8, 0xA9), F64: (0xAA, 0xAB)}, I64: {F32: (0xAE, 0xAF), F64: (0xB0, 0xB1)}}
TRUNC_SAT = {I32: {F32: (0, 1), F64: (2, 3)}, I64: {F32: (4, 5), F64: (6, 7)}}
FCONSTS = [0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 3.0, 1e10, -1e10, 2.0**31, -2.0**31, 2.0**32, 2.0**63, -2.0**63,
           2.0**64, 4294967295.5, float("inf"), float("-inf"), float("nan"), 1e-40, 3.4e38, 1.7e308, 1e-310]
GLOBALS = [I32, I64, F32, F64]  # global i is of type GLOBALS[i]
TABLE = 32
RES, IOV = 8192, 8176  # the results of one function, and the iovec/nwritten for fd_write


def canon(t, code, tmp):
    """code (a float of type t) with a NaN replaced by the canonical NaN; tmp: a local of type t."""
    tmp = leb(tmp)
    return code + b"\x22" + tmp + FLOAT[t]["nan"] + b"\x20" + tmp + b"\x20" + tmp + bytes([FLOAT[t]["eqop"], 0x1B])


class Gen:
    def __init__(self, rnd, fidx, nlocals, nfuncs, traps):
        self.r, self.fidx, self.nlocals, self.nfuncs, self.traps = rnd, fidx, nlocals, nfuncs, traps
        self.calls, self.in_loop = 0, 0  # one call per function, never in a loop: work stays linear
        self.tmp = {F32: 2 + nlocals + 3, F64: 2 + nlocals + 4}  # scratch locals for canonicalization

    def trap(self):
        """Whether to emit an operation that may trap here (trap seeds only, rarely)."""
        return self.traps and self.r.random() < 0.1

    def const(self, t):
        r = self.r
        if t in (F32, F64):
            bits = r.random() < 0.15
            if bits:  # any bit pattern, NaNs with payloads included
                return FLOAT[t]["const"] + (struct.pack("<I", r.getrandbits(32)) if t == F32
                                            else struct.pack("<Q", r.getrandbits(64)))
            v = r.choice(FCONSTS + [r.uniform(-1e6, 1e6)])
            if t == F32 and abs(v) > 3.4e38 and v == v and abs(v) != float("inf"):
                v = float("inf") if v > 0 else float("-inf")
            return FLOAT[t]["const"] + struct.pack(FLOAT[t]["pack"], v)
        v = r.choice([0, 1, -1, 2, 7, 31, 32, 63, 64, 255, -2**31, 2**31 - 1, r.getrandbits(32) - 2**31])
        if t == I64:
            v = r.choice([v, -2**63, 2**63 - 1, r.getrandbits(64) - 2**63])
            return b"\x42" + sleb(v)
        return b"\x41" + sleb(v)

    def canon(self, t, code):
        return canon(t, code, self.tmp[t])

    def addr(self):
        if self.trap():  # anywhere: usually past the end of memory
            return self.expr(I32, 2)
        return self.expr(I32, 2) + b"\x41" + sleb(0xFF8) + b"\x71"  # masked, 8-byte aligned, < 4 KiB

    def leaf(self, t):
        r = self.r
        k = r.randrange(4)
        if k == 0: return self.const(t)
        if k == 1: return b"\x23" + leb(GLOBALS.index(t))
        if t == I32: return b"\x20\x00"  # param 0
        if t == I64: return b"\x20" + leb(r.choice([1] + list(range(2, 2 + self.nlocals))))
        return self.const(t)

    def expr(self, t, d):
        r = self.r
        if d <= 0 or r.random() < 0.15:
            return self.leaf(t)
        if t in (F32, F64):
            return self.fexpr(t, d)
        k = r.randrange(15)
        if k == 11: return self.from_float(t, d)
        if k == 12 and t == I32:
            return b"\x3f\x00" if r.random() < 0.5 else self.expr(I32, d - 1) + b"\x41\x01\x71\x40\x00"  # size, grow 0/1
        if k == 13: return self.call_indirect(t, d)
        if k == 14 and self.trap():
            return self.expr(I32, d - 1) + b"\x04" + bytes([t]) + b"\x00\x05" + self.expr(t, d - 1) + b"\x0b"  # unreachable
        if t == I32:
            if k < 4: return self.expr(I32, d - 1) + self.expr(I32, d - 1) + bytes([r.choice(I32_BIN)])
            if k == 4: return self.expr(I32, d - 1) + self.divisor(I32, d - 1) + bytes([r.choice([0x6D, 0x6E, 0x6F, 0x70])])
            if k == 5: return self.expr(I32, d - 1) + self.expr(I32, d - 1) + bytes([r.choice(I32_CMP)])
            if k == 6: return self.expr(I64, d - 1) + self.expr(I64, d - 1) + bytes([r.choice(I64_CMP)])
            if k == 7: return self.expr(I32, d - 1) + bytes([r.choice(I32_UN)])
            if k == 8: return self.expr(I64, d - 1) + bytes([r.choice([0xA7, 0x50])])  # wrap, eqz
            if k == 9: return self.addr() + bytes([r.choice([0x28, 0x2C, 0x2D, 0x2E, 0x2F])]) + b"\x00" + leb(r.randrange(8))
        else:
            if k < 4: return self.expr(I64, d - 1) + self.expr(I64, d - 1) + bytes([r.choice(I64_BIN)])
            if k == 4: return self.expr(I64, d - 1) + self.divisor(I64, d - 1) + bytes([r.choice([0x7F, 0x80, 0x81, 0x82])])
            if k == 5: return self.expr(I32, d - 1) + bytes([r.choice([0xAC, 0xAD])])  # extend_i32_s/u
            if k == 6: return self.expr(I64, d - 1) + bytes([r.choice(I64_UN)])
            if k == 7 and self.fidx > 1 and not self.calls and not self.in_loop:  # call an earlier function
                self.calls += 1
                return self.expr(I32, d - 1) + self.expr(I64, d - 1) + b"\x10" + leb(r.randrange(1, self.fidx))
            if k == 8: return self.addr() + bytes([r.choice([0x29, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35])]) + b"\x00" + leb(r.randrange(8))
            if k == 9: return self.store() + self.expr(I64, d - 1)  # a side effect, then a value
        if k == 10: return self.expr(t, d - 1) + self.expr(t, d - 1) + self.expr(I32, d - 1) + b"\x1b"  # select
        return self.control(t, d)

    def control(self, t, d):
        # if/else with a result, or a loop running (param0 & 7) times updating a local, with one
        # counter local per nesting level (at most 3)
        r = self.r
        if r.random() < 0.5 or self.in_loop >= 3:
            return self.expr(I32, d - 1) + b"\x04" + bytes([t]) + self.expr(t, d - 1) + b"\x05" + self.expr(t, d - 1) + b"\x0b"
        loc = 2 + r.randrange(self.nlocals)  # an i64 local; counter in the i32 local after them
        cnt = 2 + self.nlocals + self.in_loop
        self.in_loop += 1
        inner = self.expr(I64, d - 2)
        side = self.store() if r.random() < 0.3 else b""
        self.in_loop -= 1
        loop = (b"\x20\x00\x41\x07\x71\x21" + leb(cnt) +  # cnt = p0 & 7
                b"\x02\x40\x03\x40" + b"\x20" + leb(cnt) + b"\x45\x0d\x01" +  # block loop: br_if 1 (cnt == 0)
                b"\x20" + leb(loc) + inner + b"\x7c\x21" + leb(loc) + side +  # loc += e
                b"\x20" + leb(cnt) + b"\x41\x01\x6b\x21" + leb(cnt) + b"\x0c\x00\x0b\x0b")  # cnt -= 1; br 0
        return loop + self.expr(t, d - 1)

    def divisor(self, t, d):
        if self.trap():  # any value: zero, or -1 under INT_MIN
            return self.expr(t, d)
        # (x >>u 1) | 1: positive and odd, so neither division by zero nor INT_MIN / -1
        return self.expr(t, d) + ((b"\x41\x01\x76\x41\x01\x72") if t == I32 else (b"\x42\x01\x88\x42\x01\x84"))

    def store(self):
        """A statement: a store of any width and type, or a global.set."""
        r = self.r
        k = r.randrange(4)
        if k == 0:
            g = r.randrange(len(GLOBALS))
            v = self.expr(GLOBALS[g], 2)
            return v + b"\x24" + leb(g)
        if k == 1:
            t = r.choice([F32, F64])
            return self.addr() + self.canon(t, self.expr(t, 2)) + bytes([FLOAT[t]["store"]]) + b"\x00" + leb(r.randrange(8))
        if k == 2:
            return self.addr() + self.expr(I32, 2) + bytes([r.choice([0x36, 0x3A, 0x3B])]) + b"\x00" + leb(r.randrange(8))
        return self.addr() + self.expr(I64, 2) + bytes([r.choice([0x37, 0x3C, 0x3D, 0x3E])]) + b"\x00" + leb(r.randrange(8))

    def fexpr(self, t, d):
        r, F = self.r, FLOAT[t]
        k = r.randrange(9)
        if k < 3: return self.expr(t, d - 1) + self.expr(t, d - 1) + bytes([r.choice(F["bin"])])
        if k == 3: return self.expr(t, d - 1) + bytes([r.choice(F["un"])])
        if k == 4: return self.expr(I32, d - 1) + bytes([r.choice(F["cvt32"])])
        if k == 5: return self.expr(I64, d - 1) + bytes([r.choice(F["cvt64"])])
        if k == 6: return self.expr(F64 if t == F32 else F32, d - 1) + bytes([F["other"]])  # demote/promote
        if k == 7:  # reinterpret from bits, or a load
            if r.random() < 0.5:
                return self.expr(I32 if t == F32 else I64, d - 1) + bytes([0xBE if t == F32 else 0xBF])
            return self.addr() + bytes([F["load"]]) + b"\x00" + leb(r.randrange(8))
        return self.expr(t, d - 1) + self.expr(t, d - 1) + self.expr(I32, d - 1) + b"\x1b"  # select

    def from_float(self, t, d):
        """An integer from a float: comparison, truncation or the (canonicalized) bits."""
        r = self.r
        f = r.choice([F32, F64])
        k = r.randrange(3)
        if k == 0 and t == I32:
            return self.expr(f, d - 1) + self.expr(f, d - 1) + bytes([r.choice(FLOAT[f]["cmp"])])
        if k == 1:
            s = r.randrange(2)
            if self.trap():
                return self.expr(f, d - 1) + bytes([TRUNC[t][f][s]])
            return self.expr(f, d - 1) + b"\xfc" + leb(TRUNC_SAT[t][f][s])
        f = F32 if t == I32 else F64
        return self.canon(f, self.expr(f, d - 1)) + bytes([FLOAT[f]["reinterp"]])

    def call_indirect(self, t, d):
        """Through the table: slot i holds function i (1..FUNCS), slot FUNCS+1 `_start` (another
        type), the rest are null. Safe seeds reach earlier functions only."""
        if self.calls or self.in_loop or (self.fidx <= 1 and not self.traps):
            return self.expr(t, d - 1)
        self.calls += 1
        args = self.expr(I32, d - 1) + self.expr(I64, d - 1)
        idx = self.expr(I32, d - 1)
        if self.trap():
            idx += b"\x41" + sleb(2 * TABLE - 1) + b"\x71"  # any slot, or past the table
        else:
            idx += b"\x41" + sleb(self.fidx - 1) + b"\x70\x41\x01\x6a"  # 1 + idx %u (fidx - 1)
        call = args + idx + b"\x11\x01\x00"
        return call if t == I64 else call + b"\xa7"


def gen(seed, nfuncs):
    r = random.Random(seed)
    # a trap seed lets only its later functions trap, so the earlier ones' results are compared
    trap_from = r.randrange(nfuncs // 2, nfuncs + 1) if r.random() < 0.5 else nfuncs + 1
    types = [functype([I32] * 4, [I32]), functype([I32, I64], [I64]), functype([], [])]
    imports = [name("wasi_snapshot_preview1") + name("fd_write") + b"\x00\x00"]
    codes = []
    for i in range(1, nfuncs + 1):
        nl = r.randrange(1, 4)
        g = Gen(r, i, nl, nfuncs, i >= trap_from)
        init = b"".join(b"\x20\x01" + g.expr(I64, 2) + b"\x7c\x21" + leb(2 + k) for k in range(nl))
        codes.append(body([(nl, I64), (3, I32), (1, F32), (1, F64)], init + g.expr(I64, r.randrange(3, 7))))

    def fd_write(base, n):  # iovec at IOV, nwritten after it
        return (b"\x41" + sleb(IOV) + b"\x41" + sleb(base) + b"\x36\x02\x00" +
                b"\x41" + sleb(IOV) + b"\x41" + sleb(n) + b"\x36\x02\x04" +
                b"\x41\x01\x41" + sleb(IOV) + b"\x41\x01\x41" + sleb(IOV + 8) + b"\x10\x00\x1a")

    # _start: each function on a few arguments, its results written at once
    args = [(0, 0), (1, -1), (-7, 2**40 + 3), (2**31 - 1, -2**63), (12345, 987654321)]
    code = b""
    for f in range(1, nfuncs + 1):
        for j, (a, b) in enumerate(args):
            code += b"\x41" + sleb(RES + 8 * j) + b"\x41" + sleb(a) + b"\x42" + sleb(b) + b"\x10" + leb(f) + b"\x37\x03\x00"
        code += fd_write(RES, 8 * len(args))
    # then the globals (floats as canonical bits) and the memory the functions store into
    for g, t in enumerate(GLOBALS):
        get = b"\x23" + leb(g)
        if t in FLOAT:  # locals of _start: f32 at 0, f64 at 1
            get = canon(t, get, 0 if t == F32 else 1) + bytes([FLOAT[t]["reinterp"]])
        if t in (I32, F32):
            get += b"\xad"  # i64.extend_i32_u
        code += b"\x41" + sleb(RES + 8 * g) + get + b"\x37\x03\x00"
    code += fd_write(RES, 8 * len(GLOBALS)) + fd_write(0, 4096 + 16)
    codes.append(body([(1, F32), (1, F64)], code))
    elems = [leb(f) for f in range(1, nfuncs + 2)]  # slot i: function i; _start at FUNCS+1
    out = HDR + section(1, vec(types)) + section(2, vec(imports))
    out += section(3, vec([leb(1)] * nfuncs + [leb(2)]))
    out += section(4, vec([b"\x70\x00" + leb(TABLE)]))
    out += section(5, vec([b"\x01\x01\x08"]))  # 1 page, at most 8: memory.grow fails alike everywhere
    out += section(6, vec([bytes([t]) + b"\x01" + (FLOAT[t]["const"] + bytes(4 if t == F32 else 8) if t in FLOAT else
                                                   (b"\x41" if t == I32 else b"\x42") + b"\x00") + b"\x0b"
                           for t in GLOBALS]))
    out += section(7, vec([name("_start") + b"\x00" + leb(nfuncs + 1), name("memory") + b"\x02\x00"]))
    out += section(9, vec([b"\x00\x41\x01\x0b" + vec(elems)]))  # active, table 0, offset 1
    out += section(10, vec(codes))
    return out


if __name__ == "__main__":
    if len(sys.argv) not in (3, 4):
        raise SystemExit(__doc__)
    with open(sys.argv[2], "wb") as f:
        f.write(gen(int(sys.argv[1]), int(sys.argv[3]) if len(sys.argv) == 4 else 12))
