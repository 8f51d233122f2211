#!/usr/bin/env python3
"""tests/net/client.py — the host side of the network tests (127.0.0.1 only, except the tso
cases, which run inside the test's own network namespace).

  client.py http PORT STATSPORT DOCROOT   checks the http-server example against DOCROOT
  client.py tso HOST PORT STATSPORT DOCROOT   the same server on a tap device (TSO, zero copy)
  client.py echo PORT                     checks the echo example
  client.py stats STATSPORT               prints the kernel's network counters
  client.py sockcheck PORT LOG UDPPORT    the host side of tests/net/apps/sockcheck.c
  client.py windows HOST PORT N           N silent connections: the receive windows they start with

Prints one line per case: "PASS name" or "FAIL name: why". Every loop is bounded in count
and time."""
import hashlib, os, random, select, socket, subprocess, sys, threading, time

HOST = "127.0.0.1"
results = []


def report(name, ok, why=""):
    results.append(ok)
    print(f"PASS {name}" if ok else f"FAIL {name}: {why}", flush=True)


def recv_exact(s, n):
    buf = bytearray()
    while len(buf) < n:
        c = s.recv(min(1 << 20, n - len(buf)))
        if not c:
            raise EOFError(f"connection closed after {len(buf)} of {n} bytes")
        buf += c
    return bytes(buf)


class Conn:
    """One HTTP/1.1 connection; responses are parsed by Content-Length."""

    def __init__(self, port, timeout=30):
        self.s = socket.create_connection((HOST, port), timeout=timeout)
        self.buf = b""

    def send(self, data):
        self.s.sendall(data)

    def _fill(self):
        c = self.s.recv(1 << 20)
        if not c:
            raise EOFError("connection closed")
        self.buf += c

    def response(self, head=False):
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        hdr, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = hdr.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        h = {}
        for l in lines[1:]:
            k, v = l.split(":", 1)
            h[k.strip().lower()] = v.strip()
        n = 0 if head else int(h.get("content-length", "0"))
        while len(self.buf) < n:
            self._fill()
        body, self.buf = self.buf[:n], self.buf[n:]
        return status, h, body

    def get(self, path, method="GET", extra=""):
        self.send(f"{method} {path} HTTP/1.1\r\nHost: kiln\r\n{extra}\r\n".encode())
        return self.response(head=method == "HEAD")

    def closed_by_peer(self, timeout=10):
        self.s.settimeout(timeout)
        try:
            return self.s.recv(1) == b""
        except (ConnectionResetError, socket.timeout):
            return False

    def close(self):
        self.s.close()


def stats(port):
    with socket.create_connection((HOST, port), timeout=10) as s:
        data = b""
        while True:
            c = s.recv(4096)
            if not c:
                break
            data += c
    return dict(kv.split("=") for kv in data.decode().split())


def check(name, fn):
    try:
        r = fn()
        report(name, r is None or r is True, "" if r in (None, True) else str(r))
    except Exception as e:  # a broken connection is a failure of that case, not of the run
        report(name, False, f"{type(e).__name__}: {e}")


def http_tests(port, sport, root):
    files = sorted(f for f in os.listdir(root) if os.path.isfile(os.path.join(root, f)) and f.startswith("f_"))
    base = stats(sport)

    def fetch(f):
        def run():
            want = open(os.path.join(root, f), "rb").read()
            c = Conn(port, timeout=120)
            st, h, body = c.get("/" + f)
            c.close()
            if st != 200:
                return f"status {st}"
            if int(h["content-length"]) != len(want) or body != want:
                return f"body differs ({len(body)} bytes, want {len(want)})"
        return run

    for f in files:
        check(f"get {f} ({os.path.getsize(os.path.join(root, f))} B)", fetch(f))

    def types():
        c = Conn(port)
        for path, t in (("/index.html", "text/html"), ("/style.css", "text/css"), ("/f_0.bin", "application/octet-stream"),
                        ("/t.txt", "text/plain"), ("/a.json", "application/json")):
            st, h, _ = c.get(path)
            if st != 200 or not h.get("content-type", "").startswith(t):
                return f"{path}: {st} {h.get('content-type')}"
        c.close()
    check("content-type by extension", types)

    def index():
        c = Conn(port)
        a = c.get("/")
        b = c.get("/sub/")
        d = c.get("/sub")
        c.close()
        want = open(os.path.join(root, "index.html"), "rb").read()
        want_sub = open(os.path.join(root, "sub", "index.html"), "rb").read()
        if (a[0], a[2]) != (200, want) or (b[0], b[2]) != (200, want_sub) or (d[0], d[2]) != (200, want_sub):
            return f"statuses {a[0]} {b[0]} {d[0]}"
    check("index.html for directories", index)

    def head():
        c = Conn(port)
        st, h, _ = c.get("/f_1048576.bin", "HEAD")
        st2, h2, body = c.get("/t.txt")  # the same connection still works: HEAD sent no body
        c.close()
        if st != 200 or h.get("content-length") != "1048576" or st2 != 200 or body != open(os.path.join(root, "t.txt"), "rb").read():
            return f"{st} {h} {st2}"
    check("HEAD", head)

    def keepalive():
        c = Conn(port)
        for i in range(20):
            st, h, body = c.get("/t.txt")
            if st != 200 or h.get("connection") != "keep-alive":
                return f"request {i}: {st} {h}"
        c.close()
    check("keep-alive (20 requests, one connection)", keepalive)

    def pipelining():
        c = Conn(port)
        c.send(b"".join(b"GET /t.txt HTTP/1.1\r\nHost: k\r\n\r\n" for _ in range(10)))
        for i in range(10):
            st, _, body = c.response()
            if st != 200:
                return f"response {i}: {st}"
        c.close()
    check("pipelined requests", pipelining)

    def status(req, code, name):
        def run():
            c = Conn(port)
            c.send(req)
            st, h, _ = c.response()
            if st != code:
                return f"status {st}, want {code}"
            if code >= 400 and code != 404 and not c.closed_by_peer():
                return "connection not closed after the error"
            c.close()
        check(name, run)

    status(b"GET /missing.html HTTP/1.1\r\n\r\n", 404, "404 for a missing file")
    status(b"POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n", 405, "405 for POST")
    status(b"DELETE /t.txt HTTP/1.1\r\n\r\n", 405, "405 for DELETE")
    status(b"garbage\r\n\r\n", 400, "400 for a malformed request line")
    status(b"GET /t.txt HTTP/9.9\r\n\r\n", 400, "400 for a bad version")
    status(b"GET nope HTTP/1.1\r\n\r\n", 400, "400 for a target without /")
    status(b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\n\r\n", 414, "414 for a 9000-byte URI")

    def concurrent():
        n, rounds, errs = 100, 5, []
        want = open(os.path.join(root, "f_65536.bin"), "rb").read()
        conns = [Conn(port, timeout=120) for _ in range(n)]

        def worker(c):
            try:
                for _ in range(rounds):
                    st, _, body = c.get("/f_65536.bin")
                    if st != 200 or body != want:
                        errs.append(f"status {st}, {len(body)} bytes")
                        return
                c.close()
            except Exception as e:
                errs.append(repr(e))

        ts = [threading.Thread(target=worker, args=(c,)) for c in conns]
        t0 = time.time()
        for t in ts:
            t.start()
        for t in ts:
            t.join(300)
        if any(t.is_alive() for t in ts):
            return "not done within 300 s"
        if errs:
            return f"{len(errs)} connections failed: {errs[0]}"
        print(f"  100 concurrent keep-alive connections x {rounds} x 64 KiB in {time.time() - t0:.1f} s", flush=True)
    check("100 concurrent keep-alive connections", concurrent)

    def burst():
        # QEMU's own host forward listens with a backlog of 1, so most of a burst of clients had
        # their SYNs dropped and waited >= 1 s for the retransmission (wrk: socket timeouts).
        # Through kiln-fwd every connect completes at once and every client is served.
        n, want = 200, open(os.path.join(root, "t.txt"), "rb").read()
        socks, slow = [], 0
        for _ in range(n):
            s = socket.socket()
            s.setblocking(False)
            s.connect_ex((HOST, port))
            socks.append(s)
        t0 = time.time()
        pending = set(socks)
        while pending and time.time() - t0 < 5:
            _, w, _ = select.select([], list(pending), [], 0.1)
            for s in w:
                pending.discard(s)
                if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                    return "a connect failed"
                if time.time() - t0 > 0.9:
                    slow += 1
        if pending or slow:
            return f"{len(pending) + slow} of {n} connects took a SYN retransmission (> 0.9 s)"
        errs = []
        for s in socks:
            s.setblocking(True)
            s.settimeout(120)
            s.sendall(b"GET /t.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        for s in socks:
            data = b""
            try:
                while True:
                    b = s.recv(65536)
                    if not b:
                        break
                    data += b
            except OSError as e:
                errs.append(repr(e))
            s.close()
            if not data.startswith(b"HTTP/1.1 200") or not data.endswith(want):
                errs.append(repr(data[:40]))
        if errs:
            return f"{len(errs)} of {n} clients not served: {errs[0]}"
    check("200 clients connecting at once: every connect completes at once, every client is served", burst)

    def sequential():
        n, t0 = 10000, time.time()
        want = open(os.path.join(root, "t.txt"), "rb").read()
        for i in range(n):
            if time.time() - t0 > 600:
                return f"only {i} connections in 600 s"
            c = Conn(port)
            st, _, body = c.get("/t.txt", extra="Connection: close\r\n")
            c.close()
            if st != 200 or body != want:
                return f"connection {i}: {st}"
        dt = time.time() - t0
        print(f"  {n} sequential connections in {dt:.1f} s ({n / dt:.0f}/s)", flush=True)
    check("10000 sequential connections", sequential)

    def port_reuse():
        # The server closes first, so the guest holds each connection in TIME_WAIT; a client
        # port that comes round again (as the host's ephemeral ports do after thousands of
        # connections) must still connect, not be reset or ignored for 2 MSL.
        want = open(os.path.join(root, "t.txt"), "rb").read()
        probe = socket.socket()
        probe.bind((HOST, 0))
        lport = probe.getsockname()[1]
        probe.close()
        for i in range(3):
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.settimeout(15)
            s.bind((HOST, lport))
            s.connect((HOST, port))
            s.sendall(b"GET /t.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            data = b""
            try:
                while len(data) < 1 << 16:
                    b = s.recv(65536)
                    if not b:
                        break
                    data += b
            except OSError as e:
                return f"connection {i} from port {lport}: {e!r}"
            s.close()
            if not data.startswith(b"HTTP/1.1 200") or not data.endswith(want):
                return f"connection {i} from port {lport}: {data[:40]!r}"
            time.sleep(0.1)
    check("a client port reused while its last connection is in TIME_WAIT", port_reuse)

    def idle():
        # Everything the tests opened is closed: the counters return to where they started.
        keys = ("sockets", "pending_accept", "rx_queued", "pbuf_ref", "pbuf_pool", "rx_bufs_held", "tcp_seg")
        deadline, last = time.time() + 30, None
        while time.time() < deadline:
            now = stats(sport)
            diff = {k: (base[k], now[k]) for k in keys if now[k] != base[k]}
            if not diff and now["tcp_active"] == base["tcp_active"]:
                print(f"  counters: {' '.join(k + '=' + now[k] for k in keys + ('tcp_active', 'accepted', 'heap_used'))}", flush=True)
                return
            last = diff or {"tcp_active": (base["tcp_active"], now["tcp_active"])}
            time.sleep(1)
        return f"not back to idle (before, after): {last}"
    check("kernel counters back to idle", idle)


def echo_tests(port):
    def one(size, s=None):
        def run():
            data = random.Random(size).randbytes(size)
            c = s or socket.create_connection((HOST, port), timeout=60)
            return transfer(c, data, size)
        return run

    def transfer(s, data, size):
        got = bytearray()
        t = threading.Thread(target=lambda: (s.sendall(data), s.shutdown(socket.SHUT_WR)))
        t.start()
        while True:
            c = s.recv(1 << 20)
            if not c:
                break
            got += c
        t.join()
        s.close()
        if bytes(got) != data:
            return f"{len(got)} bytes back of {size}, equal prefix: {bytes(got) == data[:len(got)]}"

    for size in (1, 1000, 65536, 1 << 20, 8 << 20):
        check(f"echo {size} B", one(size))

    def many():
        # The connections are opened one after the other, then used all at once: QEMU's host
        # forwarder listens with a backlog of 1, so a burst of simultaneous connects overflows
        # the *host's* accept queue (SYN cookies, resets) before the guest sees anything.
        errs = []
        socks = [socket.create_connection((HOST, port), timeout=60) for _ in range(50)]

        def w(i):
            try:
                r = one(10000 + i, socks[i])()
                if r:
                    errs.append(r)
            except Exception as e:
                errs.append(repr(e))
        ts = [threading.Thread(target=w, args=(i,)) for i in range(50)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(120)
        if errs or any(t.is_alive() for t in ts):
            return f"{len(errs)} failed: {errs[:1]}"
    check("echo 50 concurrent connections", many)

    def reset():
        # A client that resets its connection must not disturb the server.
        s = socket.create_connection((HOST, port), timeout=10)
        s.sendall(b"x" * 100000)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        s.close()
        return one(5000)()
    check("echo after a client reset", reset)


def sockcheck(port, log, udpport):
    """The host side of tests/net/apps/sockcheck.c (see there); the app reports the checks."""
    def udp():
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.bind((HOST, udpport))
        u.settimeout(60)
        try:
            for _ in range(8):  # the app may repeat its first datagram (see sockcheck.c)
                data, peer = u.recvfrom(2048)
                u.sendto(b"pong:" + data, peer)
        except OSError:
            pass
    t = threading.Thread(target=udp, daemon=True)
    t.start()
    deadline = time.time() + 120
    while time.time() < deadline and b"sockcheck: listening" not in open(log, "rb").read():
        time.sleep(0.1)
    time.sleep(0.3)  # the app is in poll_oneoff by now
    try:
        c = socket.create_connection((HOST, port), timeout=30)
        got = recv_exact(c, 6)
        c.sendall(b"world\n")
        time.sleep(0.3)
        c.close()
        c = socket.create_connection((HOST, port), timeout=30)
        time.sleep(0.3)
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        c.close()
        c = socket.create_connection((HOST, port), timeout=30)
        data = b""
        while len(data) < 100:
            b = c.recv(100)
            if not b:
                break
            data += b
        c.sendall(b"bye\n")
        time.sleep(0.5)
        c.close()
        # 4: MSG_WAITALL; each step waits for the app's cue, so the app is in its receive.
        c = socket.create_connection((HOST, port), timeout=30)
        cues = recv_exact(c, 2)
        c.sendall(b"abc")
        time.sleep(0.5)
        c.sendall(b"defgh")
        cues += recv_exact(c, 1)
        c.sendall(b"12")
        cues += recv_exact(c, 1)
        c.sendall(b"xy")
        time.sleep(0.3)
        c.close()
        report("wasmedge api: host side (hello, reset, half close, waitall)",
               got == b"hello\n" and data == b"half\n" and cues == b"gotu", f"got {got!r}, {data!r}, {cues!r}")
    except (OSError, EOFError) as e:
        report("wasmedge api: host side (hello, reset, half close, waitall)", False, repr(e))


def tso_tests(host, port, sport, root):
    """The server on a tap device (tests/net/run.sh): the device segments TCP (TSO) and takes
    checksums, and files leave the image without being copied or summed by the guest."""
    global HOST
    HOST = host
    files = sorted(f for f in os.listdir(root) if os.path.isfile(os.path.join(root, f)) and f.startswith("f_"))
    base = stats(sport)
    check("tso: the device offers TSO and the kernel uses it", lambda: base.get("tso") == "1" or base)
    sent = 0

    def whole():
        nonlocal sent
        c = Conn(port)
        for f in files:
            want = open(os.path.join(root, f), "rb").read()
            st, h, body = c.get("/" + f)
            if st != 200 or body != want:
                return f"{f}: status {st}, {len(body)} of {len(want)} bytes, equal: {body == want}"
            sent += len(body)
        c.close()
    check("tso: every file byte-exact over one keep-alive connection (0 B to 10 MiB)", whole)
    errors, lock = [], threading.Lock()
    want_1m = open(os.path.join(root, "f_1048576.bin"), "rb").read()

    def client(k):
        try:
            c = Conn(port, timeout=120)
            for _ in range(2):
                st, h, body = c.get("/f_1048576.bin" if k % 4 == 0 else "/f_65536.bin")
                if st != 200 or (k % 4 == 0 and body != want_1m) or (k % 4 and len(body) != 65536):
                    raise ValueError(f"status {st}, {len(body)} bytes")
            c.close()
        except Exception as e:
            with lock:
                errors.append(f"client {k} after {time.monotonic() - t0:.1f} s: {type(e).__name__}: {e}")
    t0 = time.monotonic()
    ts = [threading.Thread(target=client, args=(k,)) for k in range(100)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(300)
    report("tso: 100 concurrent connections, 2 responses each (64 KiB, 1 MiB every 4th), 0 errors",
           not errors, "; ".join(errors[:3]) + f" ({len(errors)} in all)")
    sent += 25 * 2 * (1 << 20) + 75 * 2 * 65536
    after = stats(sport)
    d = {k: int(after[k]) - int(base[k]) for k in ("tx_tso", "sent_ref_bytes", "sent_copied_bytes",
                                                   "file_read_bytes", "csum_bytes", "tx_copied_bytes",
                                                   "tx_indirect", "tx_frames")}
    check("tso: large segments handed to the device (%d)" % d["tx_tso"], lambda: d["tx_tso"] > sent // 65536 // 2 or d)
    # QEMU's virtio-net offers indirect descriptors: a frame of header and file pages takes one
    # slot of the transmit ring (drivers/virtio.c virtq_add), not one per buffer.
    check("tso: frames of several buffers take one ring slot (%d of %d frames)" % (d["tx_indirect"], d["tx_frames"]),
          lambda: d["tx_indirect"] > d["tx_tso"] // 2 or d)
    big = sum(os.path.getsize(os.path.join(root, f)) for f in files if os.path.getsize(os.path.join(root, f)) > 16384)
    check("tso: files above 16 KiB go out without a copy (%d bytes referenced, %d read into the app)"
          % (d["sent_ref_bytes"], d["file_read_bytes"]),
          lambda: (d["sent_ref_bytes"] >= big and d["file_read_bytes"] < 16384 * len(files)) or d)
    check("tso: the guest sums almost nothing (%d bytes summed for %d sent)" % (d["csum_bytes"], sent),
          lambda: d["csum_bytes"] < sent // 100 or d)
    check("tso: nothing copied on the way to the device (%d bytes)" % d["tx_copied_bytes"],
          lambda: d["tx_copied_bytes"] < sent // 100 or d)


def windows_tests(host, port, n):
    """N connections opened one after the other and held silent: the window each was offered
    (its SYN|ACK's, snd_wnd in `ss -ti`) is its share of the kernel's 1 MiB of receive memory
    among the open sockets (net/ksock.c ksock_listen_wnd), not 64 KiB each."""
    socks = [socket.create_connection((host, port), timeout=30) for _ in range(n)]
    time.sleep(0.5)
    out = subprocess.run(["ss", "-tin", "dst", f"{host}:{port}"], capture_output=True, text=True).stdout
    wnd, local = {}, None
    for line in out.splitlines():
        f = line.split()
        if f and f[0] == "ESTAB":
            local = int(f[3].rsplit(":", 1)[1])
        elif local is not None and "snd_wnd:" in line:
            wnd[local] = int(line.split("snd_wnd:")[1].split()[0])
    got = [wnd.get(s.getsockname()[1]) for s in socks]
    for s in socks:
        s.close()
    if None in got:
        report(f"windows: {n} connections", False, f"ss shows {len(wnd)} of them")
        return
    check(f"windows: the first of {n} connections is offered a full window ({got[0]} B)", lambda: got[0] >= 60000 or got)
    check(f"windows: the last is offered its share ({got[-1]} B, 1 MiB / {n} at most)",
          lambda: 5840 <= got[-1] <= (1 << 20) // n + 1 or got)
    check(f"windows: together the {n} are offered {sum(got) >> 10} KiB (n x 64 KiB before)",
          lambda: sum(got) <= 4 << 20 or got)


def main():
    if len(sys.argv) >= 5 and sys.argv[1] == "http":
        http_tests(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
    elif len(sys.argv) == 6 and sys.argv[1] == "tso":
        tso_tests(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
    elif len(sys.argv) == 3 and sys.argv[1] == "echo":
        echo_tests(int(sys.argv[2]))
    elif len(sys.argv) == 5 and sys.argv[1] == "sockcheck":
        sockcheck(int(sys.argv[2]), sys.argv[3], int(sys.argv[4]))
    elif len(sys.argv) == 5 and sys.argv[1] == "windows":
        windows_tests(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    elif len(sys.argv) == 3 and sys.argv[1] == "stats":
        print(stats(int(sys.argv[2])))
        return 0
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
