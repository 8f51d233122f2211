#!/usr/bin/env python3
"""tests/abuse/attack.py — hostile clients against the VM's http-server (127.0.0.1 only).

  attack.py PORT STATSPORT DOCROOT TIMEOUT_S CASE[,CASE...]

CASEs: slowloris (800 connections), timeouts, pcbs, nonreaders, resets, malformed, traversal.
The server runs with HTTP_TIMEOUT_MS = TIMEOUT_S * 1000. Each attack is followed by two
checks: every file of DOCROOT is still served byte-exact, and the kernel's counters (the
netstat= port) are back to where they were before the attacks. Prints "PASS name" or
"FAIL name: why" per case; every loop is bounded in count and time.

QEMU's user-network forward accepts with a backlog of 1, so hostile connections are opened
one after the other, with retries; the server, not the forwarder, is under test."""
import os, socket, struct, sys, threading, time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "net"))
from client import HOST, Conn, check, report, results, stats  # noqa: E402

IDLE_KEYS = ("sockets", "pending_accept", "rx_queued", "pbuf_ref", "pbuf_pool", "rx_bufs_held", "tcp_seg")


def open_many(port, n, budget_s, workers=16):
    """Up to n connections within budget_s seconds, retrying refused or timed-out connects.
    Several at a time: a SYN the forwarder's full backlog drops costs a 1 s retransmission."""
    socks, lock, t0 = [], threading.Lock(), time.time()

    def worker():
        while time.time() - t0 < budget_s:
            with lock:
                if len(socks) >= n:
                    return
            try:
                s = socket.create_connection((HOST, port), timeout=3)
            except OSError:
                time.sleep(0.02)
                continue
            s.setblocking(False)
            with lock:
                if len(socks) < n:
                    socks.append(s)
                    continue
            s.close()
            return
    ts = [threading.Thread(target=worker) for _ in range(workers)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return socks


def open_confirmed(port, sport, n, budget_s):
    """Up to n connections, one at a time, each kept only once the server has accepted it (the
    counters' "accepted" goes up): a connect through the forwarder can succeed on the host
    while the connection sits in its full backlog and never reaches the guest."""
    socks, t0 = [], time.time()
    last = int(stats(sport)["accepted"])
    while len(socks) < n and time.time() - t0 < budget_s:
        try:
            s = socket.create_connection((HOST, port), timeout=3)
        except OSError:
            time.sleep(0.02)
            continue
        t1 = time.time()
        while time.time() - t1 < 3 and int(stats(sport)["accepted"]) <= last:
            time.sleep(0.02)
        now = int(stats(sport)["accepted"])
        if now > last:
            last = now
            s.setblocking(False)
            socks.append(s)
        else:
            s.close()
    return socks


def close_all(socks, reset=False):
    for s in socks:
        try:
            if reset:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.close()
        except OSError:
            pass


def closed_by_server(s):
    """1 when the server closed s (EOF or reset), 0 when it is still open."""
    try:
        while True:
            d = s.recv(65536)
            if not d:
                return 1
    except BlockingIOError:
        return 0
    except OSError:
        return 1


def main():
    port, sport, root, tmo = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
    cases = sys.argv[5].split(",")
    files = {}
    for d, _, fs in os.walk(root):
        for f in fs:
            p = os.path.join(d, f)
            files["/" + os.path.relpath(p, root)] = open(p, "rb").read()
    big = files["/big.bin"]
    base = stats(sport)

    def fetch(path, timeout=60):
        c = Conn(port, timeout=timeout)
        try:
            return c.get(path)
        finally:
            c.close()

    def serves_all():
        for path, want in sorted(files.items()):
            st, _, body = fetch(path)
            if st != 200 or body != want:
                return f"{path}: status {st}, {len(body)} bytes (want {len(want)})"

    def idle():
        deadline, last = time.time() + 30, None
        while time.time() < deadline:
            now = stats(sport)
            diff = {k: (base[k], now[k]) for k in IDLE_KEYS if now[k] != base[k]}
            if not diff and now["tcp_active"] == base["tcp_active"]:
                return
            last = diff or {"tcp_active": (base["tcp_active"], now["tcp_active"])}
            time.sleep(1)
        return f"not back to idle (before, after): {last}"

    def after(what):
        check(f"{what}: then every file is served byte-exact", serves_all)
        check(f"{what}: then the kernel's counters are back to idle", idle)

    check("before: every file is served byte-exact", serves_all)

    # Slowloris: 800 connections trickling a request head, a byte each per second, while a
    # real client fetches big.bin. The server keeps at most 256: a newcomer evicts the one
    # that has waited longest for its request head.
    def slowloris():
        socks = open_many(port, 800, 90)
        if len(socks) < 700:
            return f"only {len(socks)} of 800 connections opened in 90 s"
        for s in socks:
            try:
                s.send(b"GET / HTTP/1.1\r\nHost: x\r\n")
            except OSError:
                pass
        t0, served, t_served = time.time(), None, 0.0
        while time.time() - t0 < 8:
            for s in socks:
                try:
                    s.send(b"X")
                except OSError:
                    pass
            if served is None and time.time() - t0 > 2:
                # A real client retries a reset, as browsers do: on a host so loaded that its
                # connection waits in the accept queue, a later newcomer may evict it before its
                # request head is read (seen once, with two test runs sharing 2 cores).
                t1 = time.time()
                for attempt in range(3):
                    try:
                        st, _, body = fetch("/big.bin")
                        break
                    except ConnectionResetError:
                        st, body = None, b""
                served, t_served = (st == 200 and body == big), time.time() - t1
            time.sleep(1)
        closed = sum(closed_by_server(s) for s in socks)
        close_all(socks)
        print(f"  {len(socks)} slowloris connections; big.bin for a real client in {t_served:.1f} s meanwhile; "
              f"{closed} evicted or timed out by the server", flush=True)
        if not served:
            return "big.bin was not served byte-exact during the attack"

    # Timeouts (a short HTTP_TIMEOUT_MS): 29 trickling connections and one silent one are all
    # closed by the server once the head timeout has passed, however slowly they trickle.
    def timeouts():
        socks = open_confirmed(port, sport, 30, 30)
        if len(socks) < 20:
            return f"only {len(socks)} of 30 connections reached the server in 30 s"
        t0, open_ = time.time(), set(range(len(socks)))
        while open_ and time.time() - t0 < tmo + 5:
            for i in list(open_):
                if closed_by_server(socks[i]):
                    open_.discard(i)
                elif i:
                    try:
                        socks[i].send(b"G")
                    except OSError:
                        pass
            time.sleep(0.5)
        close_all(socks)
        print(f"  {len(socks) - len(open_)} of {len(socks)} closed by the server within {time.time() - t0:.1f} s", flush=True)
        if open_:
            return f"{len(open_)} of {len(socks)} connections still open after {tmo + 5:.0f} s"
    if "slowloris" in cases:
        check("slowloris: 800 connections trickling request heads", slowloris)
        after("slowloris")
    if "timeouts" in cases:
        check(f"a head timeout of {tmo:.0f} s closes 29 trickling connections and a silent one", timeouts)
        after("timeouts")

    # More connections than the stack has TCP pcbs (512), all silent, held at once.
    def pcbs():
        t0 = time.time()
        socks = open_many(port, 700, 60)
        dt = time.time() - t0
        if len(socks) < 600:
            return f"only {len(socks)} of 700 connections opened in 60 s"
        st, _, body = fetch("/index.html", timeout=30)
        s = stats(sport)
        close_all(socks)
        print(f"  {len(socks)} silent connections opened in {dt:.1f} s and held; tcp_active={s['tcp_active']} sockets={s['sockets']}", flush=True)
        if st != 200 or body != files["/index.html"]:
            return f"index.html during the flood: status {st}"
    if "pcbs" in cases:
        check("700 silent connections (more than the 512 pcbs)", pcbs)
        after("700 connections")

    # Clients that ask for big.bin, never read, and keep pipelining requests: what they may
    # hold is bounded, the others are served and the counter port answers meanwhile.
    def nonreaders(n, max_held):
        def run():
            socks = open_confirmed(port, sport, n, 60)
            if len(socks) < n:
                return f"only {len(socks)} of {n} connections reached the server in 60 s"
            req = b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n"
            stop = time.time() + tmo + 6
            sent = [0]

            def flood():
                while time.time() < stop:
                    for s in socks:
                        try:
                            sent[0] += s.send(req * 64)
                        except OSError:
                            pass
                    time.sleep(0.01)
            th = threading.Thread(target=flood)
            th.start()
            time.sleep(2)
            worst = stats(sport)
            t1 = time.time()
            st, _, body = fetch("/big.bin")
            dt = time.time() - t1
            for _ in range(3):
                s = stats(sport)
                if int(s["rx_bufs_held"]) > int(worst["rx_bufs_held"]):
                    worst = s
                time.sleep(0.5)
            th.join()
            # The server gives up on each once it has made no progress for its send timeout
            # (the host's socket buffers take several MiB before a non-reader stalls).
            t2 = time.time()
            late = stats(sport)
            while int(late["sockets"]) > int(base["sockets"]) and time.time() - t2 < tmo + 10:
                time.sleep(0.5)
                late = stats(sport)
            close_all(socks)
            print(f"  {n} non-readers sent {sent[0] >> 10} KiB; during: rx_bufs_held={worst['rx_bufs_held']} "
                  f"rx_queued={worst['rx_queued']} heap_used={worst['heap_used']} pbuf_pool={worst['pbuf_pool']}; "
                  f"big.bin for another client in {dt:.1f} s; all dropped by the server {time.time() - stop:.1f} s after the flood: "
                  f"sockets={late['sockets']}", flush=True)
            if st != 200 or body != big:
                return f"big.bin during the attack: status {st}, {len(body)} bytes"
            if dt > 30:
                return f"big.bin took {dt:.1f} s during the attack"
            if int(worst["rx_bufs_held"]) > max_held:
                return f"{worst['rx_bufs_held']} receive buffers held by {n} connections (at most {max_held})"
            if int(worst["rx_queued"]) > n * 64 * 1024:
                return f"{worst['rx_queued']} bytes queued for {n} connections"
            if int(late["sockets"]) > int(base["sockets"]):
                return f"the server still held {int(late['sockets']) - int(base['sockets'])} sockets {tmo + 10:.0f} s after the flood"
        return run

    if "nonreaders" in cases:
        # 8 such clients held 224 receive buffers and stalled the VM's network before the
        # kernel bounded what one connection holds.
        check("8 clients pipelining requests for big.bin and never reading", nonreaders(8, 48))
        after("8 non-readers")
        check("32 clients pipelining requests for big.bin and never reading", nonreaders(32, 160))
        after("32 non-readers")

    # Resets in the middle of transfers.
    def resets():
        for i in range(50):
            s = socket.create_connection((HOST, port), timeout=10)
            s.sendall(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
            s.recv(1000 + 997 * i)
            close_all([s], reset=True)
    if "resets" in cases:
        check("50 resets in the middle of big.bin", resets)
        after("resets")

    # Malformed and huge requests: an error status or a close, never a crash.
    def malformed():
        bad = [b"\x00\x01\x02garbage\r\n\r\n", b"GET\r\n\r\n", b"GET / HTTP/1.1\r\n" + b"X: y\r\n" * 5000 + b"\r\n",
               b"GET /" + b"a" * 200000 + b" HTTP/1.1\r\n\r\n", b"G" * 1000000, b"GET /%zz HTTP/1.1\r\n\r\n",
               b"GET /%00 HTTP/1.1\r\n\r\n", b"get / HTTP/1.1\r\n\r\n", b"GET / HTTP/1.1\r\nno colon\r\n\r\n",
               b"GET / HTTP/1.1 extra\r\n\r\n", b"\r\n\r\n", b"GET / HTTP/1.1\n\n"]
        for req in bad:
            s = socket.create_connection((HOST, port), timeout=15)
            try:
                s.sendall(req)
            except OSError:
                pass  # the server may close before it has read everything
            s.settimeout(2 * tmo + 5)
            try:
                r = s.recv(64)
            except OSError:
                r = b""
            s.close()
            if r and not (r.startswith(b"HTTP/1.1 4") or r.startswith(b"HTTP/1.1 5")):
                return f"{req[:30]!r}...: answered {r[:20]!r}"
    if "malformed" in cases:
        check("malformed and huge requests get 4xx or a close", malformed)
        after("malformed")

    # Traversal: never anything but 400 or 404.
    def traversal():
        for t in ("/../../etc/passwd", "/..", "/%2e%2e/%2e%2e/etc/passwd", "/docs/../../x", "/docs/%2e%2e/%2e%2e/",
                  "/.%2e/", "//etc/passwd", "/docs/..%2f..%2fx", "/\\..\\..\\x"):
            st, _, _ = fetch(t)
            if st not in (400, 404):
                return f"{t}: status {st}"
    if "traversal" in cases:
        check("traversal URLs get 400 or 404", traversal)
        after("traversal")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
