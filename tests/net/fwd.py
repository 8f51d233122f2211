#!/usr/bin/env python3
"""tests/net/fwd.py — tools/kiln-fwd on the host alone, in front of a stand-in for QEMU's forward.

  fwd.py KILN-FWD

The stand-in listens as QEMU's user network does, with a backlog of 1, and accepts slowly, so
kiln-fwd's connects meet a full queue and are retried. QEMU shows every 127.x.x.x peer to the
guest as 10.0.2.2 with the peer's port: two live connections from one port on two loopback
addresses would be one connection in the guest (their sequence numbers then fight in an ACK
storm that never ends). So every connection must come from 127.0.0.2, and no port may be used
twice at once. Each of 300 clients (all at once) also gets its own bytes back.
With --ready FIFO, clients wait until a byte arrives there (the guest's listeners are up), or
for 3 s when none comes (an image whose kernel does not write it).
Prints "PASS name" or "FAIL name: why"; bounded by a 60 s budget."""
import os, shutil, socket, subprocess, sys, tempfile, threading, time

from client import report

N, BUDGET = 300, 60


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start_fwd(*args):
    """kiln-fwd ARGS... on a free port: (process, public port, private port)."""
    port = free_port()
    fwd = subprocess.Popen([sys.argv[1], *args, str(port)], stdout=subprocess.PIPE, text=True)
    return fwd, port, int(fwd.stdout.readline())


def main():
    fwd, port, target = start_fwd()
    try:
        run(port, target)
    finally:
        fwd.terminate()
        fwd.wait()
    ready()


def ready():
    """--ready: nothing reaches the forward before the byte; without it, after 3 s."""
    d = tempfile.mkdtemp()
    try:
        for send_byte in (True, False):
            fifo = os.path.join(d, "ready%d" % send_byte)
            os.mkfifo(fifo)
            fwd, port, target = start_fwd("--ready", fifo)
            lst = socket.socket()
            lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            lst.bind(("127.0.0.1", target))
            lst.listen(8)
            lst.settimeout(0.5)
            w = os.open(fifo, os.O_WRONLY)  # as QEMU's COM4 does
            t0 = time.time()
            c = socket.create_connection(("127.0.0.1", port), timeout=10)
            early = None
            try:
                early = lst.accept()[0]  # within 0.5 s: too early
            except socket.timeout:
                pass
            if send_byte:
                os.write(w, b"l")
            lst.settimeout(5)
            try:
                got, dt = lst.accept()[0], time.time() - t0
            except socket.timeout:
                got, dt = None, time.time() - t0
            if send_byte:
                name = "kiln-fwd --ready: a client waits for the guest's byte, then is forwarded"
                ok = early is None and got is not None and dt < 2
            else:
                name = "kiln-fwd --ready: without the byte, a client is forwarded after 3 s"
                ok = early is None and got is not None and 2.5 < dt < 5
            report(name, ok, f"forwarded {'before the byte' if early else 'after %.1f s' % dt if got else 'never'}")
            for x in (early, got, c, lst):
                if x:
                    x.close()
            os.close(w)
            fwd.terminate()
            fwd.wait()
    finally:
        shutil.rmtree(d)


def run(port, target):
    t0 = time.time()
    lst = socket.socket()
    lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lst.bind(("127.0.0.1", target))
    lst.listen(1)
    lst.settimeout(0.5)
    peers, live, clash, lock = [], {}, [], threading.Lock()

    def serve(c, peer):
        with c:
            try:
                c.settimeout(20)
                d = c.recv(64)
                c.sendall(d)
                c.recv(1)  # until the client closes
            except OSError:
                pass
        with lock:
            live.pop(peer[1], None)

    def backend():
        n = 0
        while n < N and time.time() - t0 < BUDGET:
            try:
                c, peer = lst.accept()
            except socket.timeout:
                continue
            n += 1
            with lock:
                peers.append(peer)
                if peer[1] in live:
                    clash.append((live[peer[1]], peer))
                live[peer[1]] = peer
            threading.Thread(target=serve, args=(c, peer), daemon=True).start()
            if n % 8 == 0:
                time.sleep(0.05)  # slower than the clients: the backlog of 1 overflows

    echoed, waits = [0], []

    deepest, done = [0], threading.Event()

    def watch_queue():
        """The deepest the stand-in's accept queue gets: TCP_INFO of a listener gives its length
        (tcpi_unacked, at byte 24) and its backlog (tcpi_sacked)."""
        while not done.is_set():
            info = lst.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
            deepest[0] = max(deepest[0], int.from_bytes(info[24:28], "little"))
            time.sleep(0.0005)

    def client(i):
        try:
            c0 = time.time()
            s = socket.create_connection(("127.0.0.1", port), timeout=BUDGET)
            msg = b"client %d" % i
            s.sendall(msg)
            got = b""
            while len(got) < len(msg):
                d = s.recv(64)
                if not d:
                    break
                got += d
            if got == msg:
                with lock:
                    echoed[0] += 1
                    waits.append(time.time() - c0)
            time.sleep(0.2)  # held a little, so connections overlap
            s.close()
        except OSError:
            pass

    b = threading.Thread(target=backend)
    b.start()
    w = threading.Thread(target=watch_queue)
    w.start()
    cs = [threading.Thread(target=client, args=(i,)) for i in range(N)]
    for c in cs:
        c.start()
    for c in cs:
        c.join(BUDGET)
    b.join(BUDGET)
    done.set()
    w.join()
    lst.close()
    other = [p for p in peers if p[0] != "127.0.0.2"]
    name = f"kiln-fwd: {N} clients at once through a backlog of 1, each gets its bytes back"
    report(name, echoed[0] == N, f"{echoed[0]} of {N} ({len(peers)} accepted)")
    # A connect while the queue holds one already could complete on kiln-fwd's side while the
    # kernel drops its last ACK (the queue full by then): a client then waits for SYN-ACK
    # retransmissions, up to half a minute. kiln-fwd connects only into an empty queue.
    report("kiln-fwd: the forward's accept queue never holds two (no handshake meets a full queue)",
           deepest[0] <= 1, f"it held {deepest[0]}; the slowest client waited {max(waits or [0]):.1f} s")
    report("kiln-fwd: every forwarded connection comes from 127.0.0.2, no port twice at once",
           not other and not clash, f"{len(other)} of {len(peers)} from elsewhere (e.g. {other[:2]}), clashes {clash[:2]}")


main()
