#!/usr/bin/env python3
"""tests/spec/spec.py — the WebAssembly spec-suite harness (called by tests/spec/run.sh).

Runs ../shared/testsuite/spec and the proposal folders of ../shared/testsuite/proposals that
kiln-aot implements (PROPOSALS below: one line per folder); the others are reported as skipped
with the reason. A proposal file is named FOLDER/NAME (its work directory FOLDER.NAME).

For each .wast: wast2json into build/spec/NAME/, compile every module with kiln-aot --name mK,
link them with tests/spec/driver.c into one program, run all its commands, and count each
command as one case. assert_invalid and binary assert_malformed modules must be rejected by
kiln-aot with exit status 1; text-format (.wat) assert_malformed is skipped (kiln-aot reads
binaries only). v128 results are compared byte for byte, or lane by lane where a float lane is
a NaN pattern (nan:canonical, nan:arithmetic).

Usage: spec.py [-v] [-a] [-j N] [FILE.wast | NAME | FOLDER/NAME]...
  -v  print every failing command with expected/actual (default: the first few per file)
  -a  print every command (PASS lines too)
"""
import argparse, concurrent.futures, json, os, re, shutil, subprocess, sys, time

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SUITE = os.path.abspath(os.path.join(TOP, "..", "shared", "testsuite", "spec"))
PROPOSAL_DIR = os.path.abspath(os.path.join(TOP, "..", "shared", "testsuite", "proposals"))
# The proposal folders: None when kiln-aot implements the proposal (its files run), else
# why they are skipped. Adding a proposal is one line here.
PROPOSALS = [
    ("tail-call", None),
    ("extended-const", None),
    ("multi-memory", None),
    ("exception-handling-legacy", None),
    ("threads", None),
]
# assert_invalid expectations of proposal folders written before Wasm 2.0, which 2.0 made
# valid: such a command is skipped with the reason (the threads folder is based on the MVP).
SUPERSEDED = {
    "multiple tables": "the proposal predates reference types; Wasm 2.0 allows several tables",
}
BUILD = os.path.join(TOP, "build", "spec")
AOT = os.path.join(TOP, "build", "kiln-aot")
# Extra kiln-aot options, e.g. "--chunk-bytes 1" (every function in a chunk of its own, as
# tests/aot does); objects are then always recompiled, never taken from an earlier run.
AOT_FLAGS = os.environ.get("KILN_AOT_FLAGS", "").split()
RTLIB = os.path.join(TOP, "build", "host", "libkiln-rt.a")
DRIVER_O = os.path.join(BUILD, "driver.o")
CC = "clang-19"
KNOWN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "known-failures")
FIRST_FAILS = 5          # failing commands shown per file without -v
COMPILE_TIMEOUT = 60     # seconds per module
RUN_TIMEOUT = 300        # seconds per file's driver


def hexs(s):
    return s.encode("utf-8", "surrogatepass").hex() if s else "-"


def value(v):
    t, val = v["type"], v.get("value")
    if t == "v128" and val is not None:
        lanes, lt = val, v["lane_type"]
        if any(not str(x).lstrip("-").isdigit() for x in lanes):
            if lt not in ("f32", "f64"):
                return None
            # NaN patterns per lane: v128:f32:LANE,... with LANE the bits or nan:canonical/arithmetic
            return "v128:%s:%s" % (lt, ",".join(str(x) for x in lanes))
        width = {"i8": 1, "i16": 2, "i32": 4, "f32": 4, "i64": 8, "f64": 8}[lt]
        b = b"".join((int(x) % (1 << (8 * width))).to_bytes(width, "little") for x in lanes)
        return "v128:" + b.hex()
    if val is None:
        return t + ":any"
    return "%s:%s" % (t, val)


def run(cmd, timeout):
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
        return p.returncode, p.stdout.decode("utf-8", "replace")
    except subprocess.TimeoutExpired:
        return "timeout", ""
    except OSError as e:  # e.g. kiln-aot being rebuilt right now
        return "error", str(e)


def last_line(text):
    lines = [l for l in text.strip().splitlines() if l.strip()]
    return lines[-1][:200] if lines else ""


def newer(a, b):
    return os.path.exists(a) and os.path.getmtime(a) >= os.path.getmtime(b)


class Case:
    def __init__(self, line, kind):
        self.line, self.kind, self.status, self.why = line, kind, None, ""


def file_name(path):
    """NAME for a spec file, FOLDER/NAME for a proposal file (their names overlap)."""
    name = os.path.basename(path)[:-5]
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.dirname(folder) == PROPOSAL_DIR:
        return os.path.basename(folder) + "/" + name
    return name


def run_file(path):
    """Returns (name, cases, note)."""
    name = file_name(path)
    out = os.path.join(BUILD, name.replace("/", "."))
    name_in = os.path.basename(path)[:-5]  # files inside out/
    os.makedirs(out, exist_ok=True)
    js = os.path.join(out, name_in + ".json")
    if not newer(js, path):
        rc, msg = run(["wast2json", "--enable-all", path, "-o", js], 120)
        if rc != 0:
            # wabt 1.0.32 types ref.func as (ref N) under --enable-all (function references) and
            # then rejects Wasm 2.0 text; its default features are exactly Wasm 2.0.
            rc, msg = run(["wast2json", path, "-o", js], 120)
        if rc != 0:
            c = Case(0, "wast2json")
            c.status, c.why = "FAIL", "wast2json failed: " + last_line(msg)
            return name, [c], ""
    commands = json.load(open(js))["commands"]
    cases, lines = [], []
    modules = []  # wasm filenames, index = K of kiln_module_mK
    aot_ok = os.path.exists(AOT)
    # The Wasm 2.0 suite runs without multi-memory, the one proposal kiln-aot implements that
    # changes 2.0's verdicts: a second memory is invalid there, a memory.grow immediate a zero
    # byte (Wasm 3.0 dropped those cases). So does the threads folder, which is based on the MVP
    # and asserts "multiple memories" invalid. Fixed per file, so cached objects stay valid.
    folder = os.path.dirname(os.path.abspath(path))
    flags = (["--disable", "multi-memory"] if folder in (SUITE, os.path.join(PROPOSAL_DIR, "threads")) else []) + AOT_FLAGS

    def compile_module(fn):
        wasm = os.path.join(out, fn)
        obj = os.path.join(out, "m%d.o" % len(modules))
        sym = "m%d" % len(modules)
        modules.append(None)
        if not aot_ok:
            return len(modules) - 1, "build/kiln-aot does not exist"
        if newer(obj, wasm) and newer(obj, AOT) and not AOT_FLAGS:
            modules[-1] = obj
            return len(modules) - 1, None
        rc, msg = run([AOT, "--name", sym, wasm, "-o", obj] + flags, COMPILE_TIMEOUT)
        if rc == 0:
            modules[-1] = obj
            return len(modules) - 1, None
        if os.path.exists(obj):
            os.unlink(obj)
        return len(modules) - 1, "kiln-aot exit %s: %s" % (rc, last_line(msg))

    for c in commands:
        t, ln = c["type"], c["line"]
        case = Case(ln, t)
        cases.append(case)
        if t == "module":
            k, why = compile_module(c["filename"])
            case.why = why or ""
            lines.append((case, "module %d %s" % (k, c.get("name", "-"))))
        elif t in ("assert_uninstantiable", "assert_unlinkable"):
            k, why = compile_module(c["filename"])
            case.why = why or ""
            lines.append((case, "%s %d %s" % (t, k, hexs(c["text"]))))
        elif t == "register":
            lines.append((case, "register %s %s" % (hexs(c["as"]), c.get("name", "-"))))
        elif t in ("action", "assert_return", "assert_trap", "assert_exhaustion", "assert_exception"):
            a = c["action"]
            args = [value(v) for v in a.get("args", [])]
            exps = [value(v) for v in c.get("expected", [])]
            if "either" in json.dumps(c.get("expected", [])) or None in args + exps:
                case.status, case.why = "SKIP", "value form not supported by the harness"
                continue
            toks = [t, a["type"], a.get("module", "-"), hexs(a["field"]), str(len(args))] + args
            toks += [str(len(exps))] + exps + [hexs(c.get("text", ""))]
            lines.append((case, " ".join(toks)))
        elif t in ("assert_invalid", "assert_malformed"):
            if c.get("module_type") == "text":
                case.status, case.why = "SKIP", "text-format module (.wat): kiln-aot reads binaries only"
                continue
            if t == "assert_invalid" and c["text"] in SUPERSEDED:
                case.status, case.why = "SKIP", SUPERSEDED[c["text"]]
                continue
            if not aot_ok:
                case.status, case.why = "FAIL", "build/kiln-aot does not exist"
                continue
            rc, msg = run([AOT, os.path.join(out, c["filename"]), "-o", os.path.join(out, "rejected.o")] + flags,
                          COMPILE_TIMEOUT)
            if rc == 1:
                case.status = "PASS"
            elif rc == 0:
                case.status, case.why = "FAIL", "kiln-aot accepted it; expected \"%s\"" % c["text"]
            else:
                case.status, case.why = "FAIL", "kiln-aot exit %s (expected 1): %s" % (rc, last_line(msg))
        else:
            case.status, case.why = "SKIP", "unknown command " + t

    if lines:
        drive(name, out, modules, lines)
    return name, cases, ""


def drive(name, out, modules, lines):
    """Link the modules with the driver, run the command lines, record results."""
    modc = os.path.join(out, "modules.c")
    with open(modc, "w") as f:
        f.write('#include "aot/abi.h"\n')
        for k, o in enumerate(modules):
            if o:
                f.write("extern const kiln_module kiln_module_m%d;\n" % k)
        f.write("const kiln_module *const spec_modules[] = {\n")
        for k, o in enumerate(modules):
            f.write("  %s,\n" % ("&kiln_module_m%d" % k if o else "0"))
        f.write("  0};\nconst unsigned spec_nmodules = %d;\n" % len(modules))
    cmdf = os.path.join(out, "commands.txt")
    with open(cmdf, "w") as f:
        for _, l in lines:
            f.write(l + "\n")
    exe = os.path.join(out, os.path.basename(name) + ".bin")
    objs = [o for o in modules if o]
    rc, msg = run([CC, "-I", TOP, "-o", exe, DRIVER_O, modc] + objs + [RTLIB, "-lm"], 300)
    if rc != 0:
        for case, _ in lines:
            case.status, case.why = "FAIL", "link failed: " + last_line(msg)
        return
    try:
        p = subprocess.run([exe, cmdf], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=RUN_TIMEOUT)
        res, rc, err = p.stdout.decode("utf-8", "replace").splitlines(), p.returncode, p.stderr.decode()
    except subprocess.TimeoutExpired as e:
        res, rc, err = (e.stdout or b"").decode("utf-8", "replace").splitlines(), "timeout", ""
    for i, (case, _) in enumerate(lines):
        if i < len(res):
            r = res[i]
            if r == "PASS":
                case.status = "PASS"
            else:
                why = r[5:] if r.startswith("FAIL ") else r
                case.status, case.why = "FAIL", (case.why + "; " if case.why else "") + why
        else:
            stop = "timed out" if rc == "timeout" else "exit status %s" % rc
            case.status, case.why = "FAIL", "driver stopped before this command (%s%s)" % (
                stop, ": " + last_line(err) if err.strip() else "")


def command_count(path, name):
    """Commands in a skipped file (unsupported proposal), from its JSON conversion."""
    out = os.path.join(BUILD, name.replace("/", "."))
    os.makedirs(out, exist_ok=True)
    js = os.path.join(out, os.path.basename(name) + ".json")
    if not newer(js, path):
        rc, _ = run(["wast2json", "--enable-all", path, "-o", js], 120)
        if rc != 0:
            run(["wast2json", path, "-o", js], 120)
    try:
        return len(json.load(open(js))["commands"])
    except (OSError, ValueError):
        return sum(1 for l in open(path) if re.match(r"\s*\((module|assert_|register|invoke|get)", l))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-v", action="store_true")
    ap.add_argument("-a", action="store_true")
    ap.add_argument("-j", type=int, default=2)
    ap.add_argument("files", nargs="*")
    o = ap.parse_args()
    skipped = []  # (file, reason): whole files not run
    if not o.files and not os.path.isdir(SUITE):
        # A user's clone has no ../shared: the external suite is data we cannot ship (not a failure).
        print("SKIP spec-suite: no spec test suite at %s; to run it, put the .wast files of "
              "github.com/WebAssembly/testsuite at commit 3a04b2c (the Wasm 2.0 suite wabt 1.0.32 "
              "was released against) there" % SUITE)
        print("SKIP proposals: no proposal tests at %s; to run them, put the folders %s of the "
              "same repository's proposals/ there" % (PROPOSAL_DIR, ", ".join(p for p, _ in PROPOSALS)))
        print("0 passed, 0 failed, 2 skipped")
        return
    files = []
    for f in o.files or sorted(x for x in os.listdir(SUITE) if x.endswith(".wast")):
        if not f.endswith(".wast"):
            f += ".wast"
        p = f if os.path.exists(f) else os.path.join(SUITE, os.path.basename(f))
        if not os.path.exists(f) and os.path.dirname(f) in [x for x, _ in PROPOSALS]:  # FOLDER/NAME
            p = os.path.join(PROPOSAL_DIR, f)
        if not os.path.exists(p):
            print("spec: no such file %s" % f, file=sys.stderr)
            sys.exit(2)
        files.append(os.path.abspath(p))
    if not o.files:
        for folder, why in PROPOSALS:
            d = os.path.join(PROPOSAL_DIR, folder)
            if not os.path.isdir(d):
                print("SKIP proposals/%s: no such folder %s" % (folder, d))
                skipped.append((None, "proposals/%s: folder missing" % folder))
                continue
            for x in sorted(x for x in os.listdir(d) if x.endswith(".wast")):
                files.append(os.path.join(d, x))
                if why:
                    skipped.append((files[-1], why))
    # Run a private copy of the compiler: its engineer may rebuild build/kiln-aot meanwhile.
    # copy2 keeps the mtime, which decides whether cached objects are still valid.
    global AOT
    if os.path.exists(AOT):
        os.makedirs(BUILD, exist_ok=True)
        snap = os.path.join(BUILD, "kiln-aot")
        shutil.copy2(AOT, snap + ".tmp")
        os.replace(snap + ".tmp", snap)
        AOT = snap
    known = {}
    if os.path.exists(KNOWN):
        for l in open(KNOWN):
            l = l.split("#")[0].strip()
            if l:
                key, _, why = l.partition(" ")
                known[key] = why.strip()

    skip_why = {f: why for f, why in skipped if f}
    rest = [f for f in files if f not in skip_why]
    start = time.time()
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, o.j)) as ex:
        results = list(ex.map(run_file, rest))
    results = {r[0]: r for r in results}

    tot = {"PASS": 0, "FAIL": 0, "SKIP": 0}
    kinds = {}
    rows = []
    tot["SKIP"] += sum(1 for f, _ in skipped if not f)  # missing proposal folders
    for f in files:
        name = file_name(f)
        if f in skip_why:
            n = command_count(f, name)
            print("SKIP %s.wast: %s (%d commands)" % (name, skip_why[f], n))
            tot["SKIP"] += n
            kinds.setdefault("proposals (whole files)", {"PASS": 0, "FAIL": 0, "SKIP": 0})["SKIP"] += n
            rows.append((name, 0, 0, n))
            continue
        _, cases, _ = results[name]
        shown = 0
        cnt = {"PASS": 0, "FAIL": 0, "SKIP": 0}
        for c in cases:
            key = "%s:%d" % (name, c.line)
            if c.status == "FAIL" and key in known:
                c.why += " [known: %s]" % known[key]
            cnt[c.status] += 1
            k = kinds.setdefault(c.kind, {"PASS": 0, "FAIL": 0, "SKIP": 0})
            k[c.status] += 1
            if c.status == "FAIL" and (o.v or o.a or shown < FIRST_FAILS):
                print("FAIL %s:%d %s: %s" % (name, c.line, c.kind, c.why))
                shown += 1
            elif o.a:
                print("%s %s:%d %s%s" % (c.status, name, c.line, c.kind, ": " + c.why if c.why else ""))
        if cnt["FAIL"] > shown and not o.v:
            print("FAIL %s: ... %d more failing commands (-v shows all)" % (name, cnt["FAIL"] - shown))
        for s in tot:
            tot[s] += cnt[s]
        rows.append((name, cnt["PASS"], cnt["FAIL"], cnt["SKIP"]))

    print()
    print("%-44s %8s %8s %8s" % ("file", "passed", "failed", "skipped"))
    for r in rows:
        print("%-44s %8d %8d %8d" % r)
    print()
    print("%-44s %8s %8s %8s" % ("command", "passed", "failed", "skipped"))
    for k in sorted(kinds):
        print("%-44s %8d %8d %8d" % (k, kinds[k]["PASS"], kinds[k]["FAIL"], kinds[k]["SKIP"]))
    print("known-failures entries: %d (%s)" % (len(known), KNOWN if known else "none"))
    print("spec: %d files in %.0f s" % (len(files), time.time() - start))
    print("%d passed, %d failed, %d skipped" % (tot["PASS"], tot["FAIL"], tot["SKIP"]))
    sys.exit(1 if tot["FAIL"] else 0)


if __name__ == "__main__":
    main()
