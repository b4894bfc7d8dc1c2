"""PostgreSQL with several workers: one and two `serve --no-scheduler --no-sender` web workers behind a
round-robin client (8 clients), with separate `sender` processes (as many as web workers), and the reply
latency there (a sender in another process is woken by LISTEN/NOTIFY when a web worker's transaction that
queued a reply commits).

The database is BENCH_DATABASE_URL (default: postgresql+psycopg://postgres@127.0.0.1:5432/awardbot_bench,
created if missing); its public schema is DROPPED first. Skipped when no PostgreSQL answers.
Run: `python -m bench` (or `python -m bench.workers`).
"""
from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench.live import Callbacks, Deployment, StandIn, burst, pct, reply_latency, run_clients

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/awardbot_bench"
MEMBERS, CLIENTS, REQUESTS = 200, 8, 1000


def fresh_database(url: str) -> bool:
    """Create the database if missing and empty its public schema; False if PostgreSQL is not there."""
    parsed = make_url(url)
    try:
        admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT",
                              connect_args={"connect_timeout": 3})
        with admin.connect() as conn:
            if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :d"), {"d": parsed.database}):
                conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
        admin.dispose()
    except Exception as exc:  # no server, no rights: say so and skip
        print(f"PostgreSQL benchmark skipped: {type(exc).__name__}: {str(exc).splitlines()[0]}")
        return False
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()
    return True


def drain(url: str, limit: float = 120.0) -> None:
    """Wait until the outbox has nothing pending or being sent (the senders caught up)."""
    engine = create_engine(url)
    deadline = time.monotonic() + limit
    try:
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                if not conn.scalar(text("SELECT count(*) FROM outbox_message WHERE status IN ('pending', 'sending')")):
                    return
            time.sleep(0.1)
    finally:
        engine.dispose()


def main() -> None:
    """Print throughput, latency percentiles and reply latency for 1 and 2 web workers."""
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    if not fresh_database(url):
        return
    standin, cbs = StandIn(), Callbacks()
    print(f"PostgreSQL, web workers `serve --no-scheduler --no-sender` + `sender` processes; {MEMBERS} members "
          f"not on the roster send 帮助, {CLIENTS} clients round robin")
    print(f"{'workers':>7} {'senders':>7} {'req':>5} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>6} | "
          f"{'replies/s':>9} | {'reply p50':>9} {'p90':>6} {'max':>6} | burst of 30: last reply")
    with tempfile.TemporaryDirectory(prefix="bench-workers-") as tmp:
        dep = Deployment(Path(tmp), url, standin.url)
        dep.prepare()
        try:
            for workers in (1, 2):
                urls = [dep.start("serve", "--no-scheduler", "--no-sender") for _ in range(workers)]
                for _ in range(workers):
                    dep.start("sender")
                time.sleep(1.0)  # the senders connect and LISTEN
                run_clients(urls, CLIENTS, cbs.many(100, MEMBERS, f"warm{workers}-"))
                drain(url)
                start = time.monotonic()
                elapsed, lat, errors = run_clients(urls, CLIENTS, cbs.many(REQUESTS, MEMBERS, f"w{workers}-"))
                drain(url)  # the senders catch up before the bot is idle again
                delivered = time.monotonic() - start
                idle = reply_latency(urls[0], standin, cbs, n=20, prefix=f"idle{workers}-")
                _acked, last, got = burst(urls[-1], standin, cbs, members=30, prefix=f"burst{workers}-")
                print(f"{workers:>7} {workers:>7} {REQUESTS:>5} {REQUESTS / elapsed:>8.0f} {pct(lat, .5):>8.1f} "
                      f"{pct(lat, .99):>8.1f} {errors:>6} | {REQUESTS / delivered:>9.0f} | {pct(idle, .5):>7.1f}ms {pct(idle, .9):>6.1f} "
                      f"{pct(idle, 1):>6.1f} | {got}/30 in {last * 1000:.0f} ms")
                dep.stop()
        finally:
            dep.stop()
            standin.close()


if __name__ == "__main__":
    main()
