"""Clients for tests/threads/echo_mt.c: N connections at once, each sends M messages of random
sizes (1 byte to 16 KiB, seeded per connection) and checks that every byte comes back in order.
Prints PASS/FAIL lines (tests/lib.sh relays them). Usage: echo_client.py PORT N M"""
import random
import socket
import sys
import threading
import time

port, nconn, nmsg = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
errors, done = [], [0] * nconn


def connect():
    """The VM is started just before: until kiln run's forwarder listens, connects are refused
    (retried for at most 90 s)."""
    t_end = time.time() + 90
    while True:
        try:
            return socket.create_connection(("127.0.0.1", port), timeout=60)
        except ConnectionRefusedError:
            if time.time() > t_end:
                raise
            time.sleep(0.2)


def client(i):
    rng = random.Random(i)
    try:
        s = connect()
        for _ in range(nmsg):
            msg = rng.randbytes(rng.randint(1, 16384))
            s.sendall(msg)
            got = b""
            while len(got) < len(msg):
                d = s.recv(len(msg) - len(got))
                if not d:
                    raise RuntimeError(f"connection {i}: closed after {len(got)} of {len(msg)} bytes")
                got += d
            if got != msg:
                raise RuntimeError(f"connection {i}: echoed bytes differ")
            done[i] += 1
        s.close()
    except Exception as e:  # reported below, as one failure per connection
        errors.append(f"{e}")


t0 = time.time()
threads = [threading.Thread(target=client, args=(i,)) for i in range(nconn)]
for t in threads:
    t.start()
for t in threads:
    t.join()
name = f"echo: {nconn} connections x {nmsg} messages of 1 B-16 KiB, concurrently, each echoed byte for byte"
if errors:
    print(f"FAIL {name}: {len(errors)} connections failed: {errors[0]}")
else:
    print(f"PASS {name} ({sum(done)} messages, {time.time() - t0:.1f} s)")
