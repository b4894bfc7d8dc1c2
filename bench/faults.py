"""Fault benchmark (issue 12.10): senders killed with SIGKILL while WeCom calls are in flight.

N members each get one notice, and a third of them the same notice again (a different row that reads the
same: it must still arrive, with its repeat mark).  `--senders` sender processes deliver through the WeCom
stand-in served by this process (every message/send takes `--delay` seconds, so a kill almost always lands
between "WeCom accepted" and "recorded"); after a quarter of the rows are sent one sender is killed with
SIGKILL, after half another one is killed and a fresh sender started (a supervisor's restart).  The survivors
re-claim the dead senders' rows after the lease (`--lease` seconds here instead of 2 minutes) and re-send them.

Reported: rows, re-sends WeCom's duplicate check dropped, members who saw a message twice (must be 0) or missed
one (must be 0), wall time.  `--interval 0` turns the duplicate check's window off, to show what it prevents.
Run: `python -m bench.faults [--members 300] [--database-url URL]` (also part of `python -m bench`).
"""
from __future__ import annotations

import argparse
import collections
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from sqlalchemy import delete, func, select

ROOT = Path(__file__).resolve().parent.parent


def _settings(overrides: dict):
    from workflows.core.settings import load_settings
    return load_settings(ROOT / "config.example.toml").with_overrides(**overrides)


def child(overrides_json: str, lease: float) -> None:
    """One sender process: deliver until SIGTERM (or SIGKILL, which is the point)."""
    from bot.runtime import build_runtime

    rt = build_runtime(_settings(json.loads(overrides_json)))
    # A short lease (the stand-in answers in milliseconds); renewed before a row when less than half is left.
    rt.sender.lease, rt.sender.row_budget = dt.timedelta(seconds=lease), dt.timedelta(seconds=lease / 2)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    rt.sender.run_forever(stop)


def run(members: int, senders: int, database_url: str | None, delay: float, lease: float, interval: int) -> dict:
    from bot.runtime import build_runtime
    from bot.simulator import FakeWeCom, serve_in_thread
    from workflows.core import notices
    from workflows.core.models import OutboxMessage
    from workflows.tables import Base

    tmp = tempfile.mkdtemp(prefix="bench-faults-")
    url = database_url or f"sqlite:///{tmp}/faults.sqlite3"
    base = _settings({})
    w = base.wecom
    fake = FakeWeCom(corp_id=w.corp_id, corp_secret=w.secret, agent_id=w.agent_id)
    fake.set_delay("message/send", delay)
    handle = serve_in_thread(fake)
    overrides = {"database": {"url": url}, "storage": {"dir": f"{tmp}/uploads"},
                 "wecom": {"api_base_url": handle.url, "request_timeout_seconds": 5},
                 "sender": {"duplicate_check_interval": interval, "poll_seconds": 0.05}}
    rt = build_runtime(_settings(overrides))
    Base.metadata.create_all(rt.engine)  # a bench database: its outbox is emptied first
    with rt.sessions.begin() as s:
        s.execute(delete(OutboxMessage))
    users = [f"m{i:04d}" for i in range(members)]
    expected = collections.Counter()
    with rt.sessions.begin() as s:
        for i, user in enumerate(users):
            for _ in range(2 if i % 3 == 0 else 1):
                notices.notify(s, user, "common.card_unknown", now=rt.clock())
                expected[user] += 1
    with rt.sessions() as s:
        total = s.scalar(select(func.count()).select_from(OutboxMessage))

    def spawn() -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-c", "import sys, bench.faults as f; f.child(sys.argv[1], "
                                 f"{lease})", json.dumps(overrides)], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})

    def sent() -> int:
        with rt.sessions() as s:
            return s.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "sent"))

    started = time.monotonic()
    procs = [spawn() for _ in range(senders)]
    kills = 0
    try:
        for fraction in (0.25, 0.5):
            while sent() < total * fraction and time.monotonic() - started < 120:
                time.sleep(0.02)
            victim = procs.pop(0)
            victim.send_signal(signal.SIGKILL)
            victim.wait()
            kills += 1
            procs.append(spawn())
        while sent() < total and time.monotonic() - started < 180:
            time.sleep(0.05)
        elapsed = time.monotonic() - started
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait()
        handle.stop()
    got = {u: len(fake.messages_to(u)) for u in users}
    return {"members": members, "rows": total, "senders": senders, "sigkills": kills, "interval_s": interval,
            "sent_rows": sent(), "resends_dropped_by_wecom": len(fake.duplicates_dropped()),
            "members_with_a_duplicate": sum(got[u] > expected[u] for u in users),
            "members_missing_a_message": sum(got[u] < expected[u] for u in users),
            "repeat_marked_rows": sum(expected[u] - 1 for u in users), "seconds": round(elapsed, 1)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=300)
    parser.add_argument("--senders", type=int, default=2)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    parser.add_argument("--delay", type=float, default=0.02, help="seconds each message/send takes")
    parser.add_argument("--lease", type=float, default=2.0, help="claim lease in seconds (2 minutes in production)")
    parser.add_argument("--interval", type=int, default=1800, help="duplicate_check_interval (0: no window)")
    args = parser.parse_args(argv if argv is not None else [])
    for interval in ([args.interval] if args.interval != 1800 else [1800, 0]):
        print(json.dumps(run(args.members, args.senders, args.database_url, args.delay, args.lease, interval)))


if __name__ == "__main__":
    main(sys.argv[1:])
