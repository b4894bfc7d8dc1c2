"""Webhook throughput: the real `serve` vs a bare verify+decrypt app, side by side in one run.

`serve` is the deployed configuration: webhook, sender and scheduler in one process, the calendar
shifted so that the application stage is open, members not on the roster sending 帮助 (each callback
is recorded, routed, answered through the outbox, and the sender delivers the replies to the WeCom
stand-in meanwhile). `bare` is a Flask app under waitress that only verifies and decrypts: the floor.
`app only` is the previous benchmark's configuration (no sender, no scheduler, 2018 calendar where
every stage is closed), kept for comparison. Both servers use waitress with 8 threads, SQLite.
"""
from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

from bench.live import ROOT, Callbacks, Deployment, StandIn, free_port, pct, run_clients

MEMBERS = 200
LEVELS = ((1, 300), (8, 1600))   # (concurrent clients, requests)


def start_bench_server(mode: str, db: str) -> tuple[subprocess.Popen, str]:
    """bench.server: the bare app or the app alone (no sender, no scheduler, 2018 calendar)."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "bench.server", "--mode", mode, "--port", str(port), "--db", db],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/wecom/callback"
    for _ in range(200):
        try:
            requests.post(url, timeout=0.5)
            return proc, url
        except requests.RequestException:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"{mode} server did not start")


def main() -> None:
    """Print callbacks/s, p50/p99 per app and concurrency, and the ratio serve/bare."""
    standin, cbs = StandIn(), Callbacks()
    with tempfile.TemporaryDirectory(prefix="bench-webhook-") as tmp:
        dep = Deployment(Path(tmp), f"sqlite:///{tmp}/bot.sqlite3", standin.url)
        dep.prepare()
        procs = []
        try:
            urls = {"serve": dep.start("serve")}
            for mode, name in (("bare", "bare"), ("full", "app only")):
                proc, urls[name] = start_bench_server(mode, f"sqlite:///{tmp}/{mode}.sqlite3")
                procs.append(proc)
            print(f"webhook throughput: {MEMBERS} members not on the roster send 帮助 (SQLite, waitress 8 threads)")
            print(f"{'clients':>7} {'app':>9} {'req':>5} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>6}")
            for clients, n in LEVELS:
                rates = {}
                for name in ("bare", "serve", "app only"):
                    if name == "app only" and clients == 1:
                        continue
                    run_clients([urls[name]], clients, cbs.many(50, MEMBERS, f"warm{clients}-"))
                    elapsed, lat, errors = run_clients([urls[name]], clients, cbs.many(n, MEMBERS, f"m{clients}-"))
                    rates[name] = n / elapsed
                    print(f"{clients:>7} {name:>9} {n:>5} {rates[name]:>8.0f} {pct(lat, .5):>8.1f} "
                          f"{pct(lat, .99):>8.1f} {errors:>6}")
                print(f"{clients:>7} ratio serve/bare throughput = {rates['serve'] / rates['bare']:.2f}")
        finally:
            dep.stop()
            for proc in procs:
                proc.terminate()
                proc.wait(timeout=10)
            standin.close()


if __name__ == "__main__":
    main()
