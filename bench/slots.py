#!/usr/bin/env python3
"""The slot attack of issue 18, against a tallyd of its own.

Connections that never sign in each send a frame without a token (six
bytes: an envelope with only an id) every --every seconds; whatever the
server closes is opened again at once. Meanwhile the real client (tally
whoami, from 127.0.0.1) asks every 0.5 s. Prints one line:

  attack=ADDRSxPER served=OK/CALLS busy=B server_fds_peak=F rss_peak_kib=K

served: the real client's calls that succeeded (busy: refused as busy);
server_fds_peak: tallyd's most open file descriptors seen (about one a
connection); rss_peak_kib: tallyd's largest VmRSS seen.

  bench/slots.py --build DIR [--addresses 1] [--per-address 1000] \\
      [--seconds 30] [--every 1] [-- TALLYD-OPTIONS...]

DIR holds tallyd and tally (a Release build); tallyd runs with a fresh
store in a temporary directory, on 127.0.0.1 with its default limits
unless options are given after --.

The attackers' sockets are bound to 127.0.0.2 and up (one per address),
so the real client on 127.0.0.1 is another sender.
"""
import argparse
import os
import selectors
import shutil
import socket
import subprocess
import sys
import tempfile
import time

FRAME = bytes([0, 0, 0, 2, 0x08, 0x01])


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--build", required=True)
    p.add_argument("--addresses", type=int, default=1)
    p.add_argument("--per-address", type=int, default=1000)
    p.add_argument("--seconds", type=float, default=30)
    p.add_argument("--every", type=float, default=1.0)
    p.add_argument("tallyd_options", nargs="*")
    o = p.parse_args()
    work = tempfile.mkdtemp(prefix="tally-slots.")
    try:
        server = start(o, work)
        try:
            attack(o, server, work)
        finally:
            server.terminate()
            server.wait()
    finally:
        shutil.rmtree(work)


def start(o, work):
    """tallyd on a fresh store; sets o.server, o.pid, o.token, o.tally."""
    tallyd = os.path.join(o.build, "tallyd")
    with open(os.path.join(work, "token"), "w") as t:
        subprocess.run([tallyd, "init", "--data", work + "/store"], stdout=t,
                       stderr=subprocess.DEVNULL, check=True)
    o.token = open(os.path.join(work, "token")).read().strip()
    o.tally = os.path.join(o.build, "tally")
    out = open(os.path.join(work, "out"), "w+")
    server = subprocess.Popen([tallyd, "--data", work + "/store", "--listen",
                               "127.0.0.1:0"] + o.tallyd_options, stdout=out,
                              stderr=subprocess.DEVNULL)
    for _ in range(100):
        out.seek(0)
        line = out.readline()
        if line.startswith("listening on "):
            o.server = line.split()[-1]
            o.pid = server.pid
            return server
        time.sleep(0.1)
    server.kill()
    sys.exit("slots: tallyd did not start")


def attack(o, server, work):
    host, port = o.server.rsplit(":", 1)
    sources = [f"127.0.{(i + 2) // 256}.{(i + 2) % 256}"
               for i in range(o.addresses)]
    sel = selectors.DefaultSelector()
    socks = {}  # slot -> socket

    def connect(slot):
        s = socket.socket()
        s.setblocking(False)
        s.bind((sources[slot % len(sources)], 0))
        try:
            s.connect((host, int(port)))
        except BlockingIOError:
            pass
        socks[slot] = s
        sel.register(s, selectors.EVENT_READ, slot)

    def drop(slot):
        s = socks.pop(slot)
        sel.unregister(s)
        s.close()

    n = o.addresses * o.per_address
    for slot in range(n):
        connect(slot)
    env = dict(os.environ, TALLY_TOKEN=o.token,
               TALLY_CONFIG=os.path.join(work, "no-config"))
    calls = served = busy = 0
    peak = rss_kib(o.pid)
    fds_peak = 0
    start = time.monotonic()
    next_send = next_call = start
    while time.monotonic() - start < o.seconds:
        now = time.monotonic()
        if now >= next_send:
            for slot, s in list(socks.items()):
                try:
                    s.send(FRAME)
                except OSError:
                    pass
            next_send = now + o.every
        if now >= next_call:
            r = subprocess.run([o.tally, "--server", o.server, "--timeout", "5",
                                "whoami"], env=env, capture_output=True,
                               text=True)
            calls += 1
            served += r.returncode == 0
            busy += "busy" in r.stderr or "too many" in r.stderr
            next_call = now + 0.5
            peak = max(peak, rss_kib(o.pid))
            fds_peak = max(fds_peak, len(os.listdir(f"/proc/{o.pid}/fd")))
        for key, _ in sel.select(timeout=0.05):
            slot = key.data
            try:
                data = key.fileobj.recv(65536)
            except OSError:
                data = b""
            if not data:  # closed by the server: opened again
                drop(slot)
                connect(slot)
    print(f"attack={o.addresses}x{o.per_address} served={served}/{calls} "
          f"busy={busy} server_fds_peak={fds_peak} rss_peak_kib={peak}")


if __name__ == "__main__":
    sys.exit(main())
