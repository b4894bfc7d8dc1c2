"""Webhook throughput: the real `serve` vs a bare verify+decrypt app, side by side in one run.

`serve` is the deployed configuration: webhook, sender and scheduler in one process, the calendar
shifted so that the application stage is open, members not on the roster sending 帮助 (each callback
is recorded, routed, answered through the outbox, and the sender delivers the replies to the WeCom
stand-in meanwhile). `bare` is a Flask app under waitress that only verifies and decrypts: the floor.
`app only` is the previous benchmark's configuration (no sender, no scheduler, 2018 calendar where
every stage is closed), kept for comparison. All use waitress with 8 threads, SQLite.

The apps take turns in rounds (bare, serve, app only, bare, …) so that load from other processes on a
shared machine falls on all of them alike; besides requests/s the table shows the server process's CPU
time per callback (user + system, from /proc), which other processes' load does not inflate. For `serve`
that CPU time is taken once every reply of the round has reached the stand-in (so it is the callback's
and its reply's), and `in run` is the share of the round's replies delivered before its last callback
was answered: the webhook acknowledges a callback once it is recorded, and the routing worker and the sender
catch up with a burst after it. `rest ms` is how long after a round's last callback its last reply reached
the stand-in (per round), and `replied/s` the rate from the first callback to the last reply: the bot's
sustained rate, bounded by its CPU per callback and reply. The stand-in runs in its own process (like WeCom)
so that answering the bot does not take the load generator's interpreter lock.
"""
from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

from bench.live import ROOT, Callbacks, Deployment, StandIn, cpu_seconds, free_port, pct, run_clients

MEMBERS = 200
# (concurrent clients, requests per app, rounds, members): one client; bursts of 400 at 8 clients; issue 27's
# sustained load, three alternating rounds of 1,500 callbacks at 8 clients (bare and serve only) from the 200
# members, and the same from 1,500 members a round (one callback each). From 200 members, the end-to-end rate
# is capped by WeCom's per-member limit, not by the bot: 30 messages a minute to each of 200 members is 100/s
# once every member has had 30 (the sender parks a member until the minute is over, as WeCom requires).
LEVELS = ((1, 200, 1, MEMBERS), (8, 3200, 8, MEMBERS), (8, 4500, 3, MEMBERS), (8, 4500, 3, 1500))
SUSTAINED = 1500   # callbacks per round from which a level counts as sustained


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


def compare(apps: dict[str, tuple[str, int]], cbs: Callbacks, standin: StandIn, clients: int, n: int, rounds: int,
            names: tuple[str, ...], members: int = MEMBERS, prefix: str = "") -> dict[str, dict[str, float]]:
    """Each app in turn, `rounds` times; totals per app."""
    per = {name: {"elapsed": 0.0, "cpu": 0.0, "errors": 0, "lat": [], "in_run": 0, "after": 0.0, "rounds": []}
           for name in names}
    for name in names:
        before = standin.delivered()
        run_clients([apps[name][0]], clients, cbs.many(50, MEMBERS, f"warm{clients}-"))
        if name == "serve":
            standin.wait_delivered(before + 50, 30)
    for r in range(rounds):
        for name in names:
            url, pid = apps[name]
            work = cbs.many(n // rounds, members, f"{prefix}r{r}-m{clients}-" if members > MEMBERS else f"m{clients}-")
            cpu0, sent0 = cpu_seconds(pid), standin.delivered()
            elapsed, lat, errors = run_clients([url], clients, work)
            per[name]["in_run"] += standin.delivered() - sent0
            if name == "serve":  # the replies' CPU belongs to their callbacks: wait for all of them
                t = time.perf_counter()
                standin.wait_delivered(sent0 + len(work), 30)
                per[name]["after"] += time.perf_counter() - t
            time.sleep(0.1)
            per[name]["cpu"] += cpu_seconds(pid) - cpu0
            per[name]["elapsed"] += elapsed
            per[name]["rounds"].append(elapsed)
            per[name]["errors"] += errors
            per[name]["lat"] += lat
    return per


def main() -> None:
    """Print callbacks/s, p50/p99 and CPU per callback per app and concurrency, and the ratios serve/bare."""
    standin, cbs = StandIn(), Callbacks()
    with tempfile.TemporaryDirectory(prefix="bench-webhook-") as tmp:
        dep = Deployment(Path(tmp), f"sqlite:///{tmp}/bot.sqlite3", standin.url)
        dep.prepare()
        procs = []
        try:
            apps = {"serve": (dep.start("serve"), dep.procs[-1].pid)}
            for mode, name in (("bare", "bare"), ("full", "app only")):
                proc, url = start_bench_server(mode, f"sqlite:///{tmp}/{mode}.sqlite3")
                procs.append(proc)
                apps[name] = (url, proc.pid)
            print(f"webhook throughput: {MEMBERS} members not on the roster send 帮助 (SQLite, waitress 8 threads)")
            print(f"{'clients':>7} {'app':>9} {'req':>5} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'cpu ms/req':>10} "
                  f"{'errors':>6} {'in run':>6} {'rest ms':>7} {'replied/s':>9}")
            for level, (clients, n, rounds, members) in enumerate(LEVELS):
                sustained = n // rounds >= SUSTAINED
                names = ("bare", "serve") if clients == 1 or sustained else ("bare", "serve", "app only")
                if sustained:
                    print(f"sustained: {rounds} rounds of {n // rounds} callbacks at {clients} clients"
                          f" from {members} members" + (" (one callback each)" if members >= n // rounds else ""))
                per = compare(apps, cbs, standin, clients, n, rounds, names, members, f"l{level}-")
                for name in names:
                    p = per[name]
                    print(f"{clients:>7} {name:>9} {n:>5} {n / p['elapsed']:>8.0f} {pct(p['lat'], .5):>8.1f} "
                          f"{pct(p['lat'], .99):>8.1f} {p['cpu'] / n * 1000:>10.2f} {p['errors']:>6} "
                          + (f"{p['in_run'] / n:>6.0%} {p['after'] / rounds * 1000:>7.0f} "
                             f"{n / (p['elapsed'] + p['after']):>9.0f}" if name == "serve" else f"{'':>6}"))
                ratio = per["bare"]["elapsed"] / per["serve"]["elapsed"]
                cpu_ratio = per["bare"]["cpu"] / per["serve"]["cpu"]
                # Each round's bare and serve ran back to back: their ratios, less disturbed by other load.
                each = sorted(b / s for b, s in zip(per["bare"]["rounds"], per["serve"]["rounds"]))
                spread = f" (rounds: median {statistics.median(each):.2f}, {each[0]:.2f}–{each[-1]:.2f})" if rounds > 1 else ""
                print(f"{clients:>7} ratio serve/bare: throughput {ratio:.2f}{spread}, CPU per callback {cpu_ratio:.2f}")
        finally:
            dep.stop()
            for proc in procs:
                proc.terminate()
                proc.wait(timeout=10)
            standin.close()


if __name__ == "__main__":
    main()
