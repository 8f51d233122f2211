#!/usr/bin/env python3
"""tests/lifecycle/client.py — the client side of tests/lifecycle.

  client.py loop PORT SECONDS MIN_RESTARTS
      GET /info on 127.0.0.1:PORT, one connection after the other, for SECONDS: every request
      must be answered (no refused, reset or timed-out connection) while the instance restarts
      under it; a restart shows as `served` starting over; at least MIN_RESTARTS must be seen.
  client.py every PORT PATH PERIOD_MS SECONDS
      GET PATH every PERIOD_MS for SECONDS; prints the last body; fails on any error.
"""
import socket
import sys
import time


def get(port, path, timeout=20):
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(f"GET {path} HTTP/1.0\r\n\r\n".encode())
        data = b""
        while True:
            b = s.recv(4096)
            if not b:
                break
            data += b
    head, _, body = data.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.0 200"):
        raise RuntimeError(f"bad answer {data[:80]!r}")
    return body.decode()


def fields(body):
    return dict(kv.split("=", 1) for kv in body.split())


def loop(port, seconds, min_restarts):
    end = time.monotonic() + seconds
    ok = restarts = 0
    errors = []
    last = None
    while time.monotonic() < end:
        try:
            served = int(fields(get(port, "/info"))["served"])
            ok += 1
            if last is not None and served <= last:
                restarts += 1
            last = served
        except Exception as e:  # refused, reset, timeout, short answer
            errors.append(repr(e))
    name = f"listener kept across restarts: {ok} requests in {seconds} s, {restarts} restarts seen"
    if errors:
        print(f"FAIL {name}: {len(errors)} failed, first {errors[0]}")
    elif restarts < min_restarts:
        print(f"FAIL {name}: fewer than {min_restarts} restarts")
    else:
        print(f"PASS {name}, none refused or failed")


def every(port, path, period_ms, seconds):
    end = time.monotonic() + seconds
    body = ""
    n = 0
    while time.monotonic() < end:
        t = time.monotonic()
        body = get(port, path)
        n += 1
        time.sleep(max(0, period_ms / 1000 - (time.monotonic() - t)))
    print(f"{n} requests, last: {body.strip()}")


if __name__ == "__main__":
    cmd, port = sys.argv[1], int(sys.argv[2])
    if cmd == "loop":
        loop(port, float(sys.argv[3]), int(sys.argv[4]))
    elif cmd == "every":
        every(port, sys.argv[3], int(sys.argv[4]), float(sys.argv[5]))
