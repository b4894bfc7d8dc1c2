"""Where the time of one callback goes: the real `serve` sampled by py-spy under a sustained load.

`python -m bench.profile [--db URL] [--n 3000] [--pyspy PATH]` starts a deployment as bench.webhook does
(members not on the roster send 帮助; the sender delivers each reply to the stand-in), samples every thread of
the `serve` process with py-spy (`--threads`, idle waits left out) while 8 clients post the callbacks, and
prints the share of the process's busy samples per stage of a callback's life, with the CPU time per callback
(from /proc) that the shares divide. py-spy is a tool, not a dependency: `pip install py-spy` anywhere and pass
its path (default: `py-spy` on PATH).

Each sample is a thread's stack; it is counted for the first stage (from the innermost frame outwards) whose
pattern its frames match, so "render" inside "routing" counts as render.
"""
from __future__ import annotations

import argparse
import collections
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from bench.live import Callbacks, Deployment, StandIn, cpu_seconds, run_clients

# (stage, substrings of a frame "function (file:line)"), innermost match wins. Order = reading order.
STAGES: list[tuple[str, tuple[str, ...]]] = [
    ("crypto: verify + decrypt", ("bot/wecom/crypto.py", "cryptography/")),
    ("callback XML parse", ("bot/wecom/inbound.py",)),
    ("template rendering", ("jinja2/", "bot/render.py", "markdown")),
    ("outbox insert", ("bot/outbox.py",)),
    ("audit", ("workflows/core/audit.py", "workflows/core/auditchain.py")),
    ("sender: HTTP to WeCom", ("urllib3/", "http/client.py", "requests/", "bot/wecom/client.py")),
    ("sender: claim + record", ("bot/sender",)),
    ("json", ("json/",)),
    ("SQL: driver (execute, fetch, commit)", ("sqlite3/", "psycopg/", "psycopg_pool", "do_execute (", "do_executemany (",
                                             "do_commit (", "do_rollback (", "fetchall (", "fetchone (",
                                             "_connection_for_bind (", "raw_connection (")),
    ("SQL: SQLAlchemy compile + ORM", ("sqlalchemy/",)),
    ("routing + dispatch + workflows", ("bot/routing.py", "bot/dispatch.py", "bot/router.py", "bot/handlers/",
                                        "workflows/")),
    ("webhook (Flask + record)", ("bot/webhook.py", "flask/", "werkzeug/")),
    ("waitress (HTTP server)", ("waitress/",)),
    ("scheduler", ("apscheduler/", "bot/scheduler.py")),
]


def classify(stack: str) -> str:
    """The stage of one sampled stack (frames `;`-separated, outermost first)."""
    frames = stack.split(";")
    best, best_depth = "other", -1
    for stage, patterns in STAGES:
        for depth in range(len(frames) - 1, best_depth, -1):
            if any(p in frames[depth] for p in patterns):
                best, best_depth = stage, depth
                break
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", default="", help="database URL (default: a new SQLite file)")
    ap.add_argument("--n", type=int, default=3000, help="callbacks to post")
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--pyspy", default=shutil.which("py-spy") or "py-spy")
    ap.add_argument("--rate", type=int, default=250, help="py-spy samples per second")
    ap.add_argument("--top", type=int, default=0, help="also list the project's busiest functions")
    ap.add_argument("--gil", action="store_true", help="only samples of the thread holding the GIL (Python CPU work)")
    args = ap.parse_args()
    standin, cbs = StandIn(), Callbacks()
    with tempfile.TemporaryDirectory(prefix="bench-profile-") as tmp:
        dep = Deployment(Path(tmp), args.db or f"sqlite:///{tmp}/bot.sqlite3", standin.url)
        dep.prepare()
        try:
            url = dep.start("serve")
            pid = dep.procs[-1].pid
            run_clients([url], args.clients, cbs.many(100, 200, "warm-"))
            standin.wait_delivered(100, 60)
            work = cbs.many(args.n, 200, "p-")
            out = Path(tmp) / "stacks.txt"
            spy = subprocess.Popen([args.pyspy, "record", "--pid", str(pid), "--threads", "--format", "raw",
                                    "--rate", str(args.rate), "--output", str(out), "--nonblocking", *(["--gil"] if args.gil else [])],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(1.0)
            cpu0, sent0 = cpu_seconds(pid), standin.delivered()
            elapsed, _lat, errors = run_clients([url], args.clients, work)
            standin.wait_delivered(sent0 + args.n, 120)
            total = time.perf_counter()
            cpu = cpu_seconds(pid) - cpu0
            spy.send_signal(2)
            spy.wait(timeout=60)
            del total
            counts: collections.Counter[str] = collections.Counter()
            own: collections.Counter[str] = collections.Counter()
            threads: collections.Counter[str] = collections.Counter()
            for line in out.read_text(encoding="utf-8").splitlines():
                stack, _, n = line.rpartition(" ")
                counts[classify(stack)] += int(n)
                frames = stack.split(";")
                threads[re.sub(r"^thread \(\d+\): ?", "", frames[0]) or "main"] += int(n)
                mine = [f for f in frames if "(bot/" in f or "(workflows/" in f]
                if mine:
                    own[re.sub(r":\d+\)$", ")", mine[-1])] += int(n)
        finally:
            dep.stop()
            standin.close()
    busy = sum(counts.values()) or 1
    per = cpu / args.n * 1000
    print(f"profile of `serve` ({'PostgreSQL' if args.db.startswith('postgresql') else 'SQLite'}): {args.n} callbacks "
          f"(帮助 from 200 members not on the roster), {args.clients} clients, {elapsed:.1f} s, errors {errors}")
    print(f"CPU per callback and reply: {per:.2f} ms (user + system, /proc); py-spy samples (busy threads): {busy}")
    print(f"{'stage':<34} {'share':>6} {'≈ ms/callback':>13}")
    for stage, n in counts.most_common():
        print(f"{stage:<34} {n / busy:>6.1%} {per * n / busy:>13.2f}")
    groups: collections.Counter[str] = collections.Counter()
    for name, n in threads.items():
        groups[re.sub(r"[-_ (]*\d+\)?$", "", name)] += n
    print("\nper thread: " + ", ".join(f"{name} {n / busy:.0%}" for name, n in groups.most_common()))
    if args.top:
        print(f"\nthe project's innermost frame of each busy sample (top {args.top}):")
        for frame, n in own.most_common(args.top):
            print(f"{n / busy:>6.1%}  {frame}")


if __name__ == "__main__":
    main()
