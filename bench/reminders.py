"""Benchmark of the reminder sweep: time and SQL statements for 1k, 5k and 10k applications.

Each size gets a fresh database with N applications (50 % drafts with 0-7 documents, 10 % returned,
30 % submitted, 10 % already decided) and N roster members (two recommenders per region and
department, the rest experts and committee members): 2N people in all.  Measured at
the 3-day point of the application deadline:

  plan   — `reminders.plan` (who owes what, which offset, what was sent): read-only
  send   — `reminders.run_due` with the real render hook: plan again, claims, outbox rows rendered and
           inserted in bulk, commit (the target: under 5 s for 10,000); "send CPU s" is its CPU time,
           which load from other processes on a shared machine does not inflate
  repeat — the same sweep again a minute later: everything already claimed, nothing sent

Statements are counted with a `before_cursor_execute` listener (a multi-row INSERT batch counts once).
Run: `python -m bench` (or `python -m bench.reminders --sizes 1000,5000,10000 --database-url URL`).
"""
from __future__ import annotations

import argparse
import datetime as dt
import random
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, event, insert, select, func, text

from bot.outbox import install_render_hook
from bot.render import Renderer
from workflows.core import reminders, stages
from workflows.edition import PROVIDERS
from workflows.core.db import make_engine, make_session_factory
from workflows.apply.models import AppStatus, Application, Document
from workflows.tables import Base
from workflows.core.models import OutboxMessage, Person
from workflows.core.settings import Settings, load_settings

ROOT = Path(__file__).resolve().parent.parent
NOW = dt.datetime(2018, 11, 13, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")).astimezone(dt.timezone.utc)


class Counter:
    """Counts statements sent to the database."""

    def __init__(self, engine: Engine) -> None:
        self.n = 0
        event.listen(engine, "before_cursor_execute", self._count)

    def _count(self, *_args: object) -> None:
        self.n += 1


def populate(engine: Engine, settings: Settings, n: int, rng: random.Random) -> None:
    """N applications with documents and N roster members, inserted in bulk."""
    t0 = dt.datetime(2018, 10, 1, tzinfo=dt.timezone.utc)
    units = [r.name for r in settings.award.regions] + list(settings.award.departments)
    people = []
    for j, unit in enumerate(units):  # two members per recommending unit, however many applications
        region = unit if unit in {r.name for r in settings.award.regions} else "市直"
        for k in range(2):
            people.append({"userid": f"rec{j}-{k}", "name": f"推荐{j}-{k}", "role": "recommender",
                           "organization": unit, "region": region, "active": True, "updated_at": t0})
    for i in range(n - len(people)):
        people.append({"userid": f"p{i}", "name": f"成员{i}", "role": rng.choice(["expert", "committee"]),
                       "organization": "某单位", "region": "广州市", "active": True, "updated_at": t0})
    statuses = ([AppStatus.DRAFT] * 5 + [AppStatus.RETURNED] + [AppStatus.SUBMITTED] * 3
                + [AppStatus.RECOMMENDED])
    apps = []
    for i in range(n):
        st = statuses[i % len(statuses)]
        in_region = i % 3 != 0
        apps.append({"id": i + 1, "edition": settings.award.edition_key, "applicant": f"qiye{i}", "status": st,
                     "enterprise_name": f"韶关示例企业{i}有限公司", "number": f"SG2018-{i + 1:05d}",
                     "region_code": rng.choice(settings.award.regions).code if in_region else None,
                     "department": None if in_region else rng.choice(settings.award.departments),
                     "eligibility": {}, "created_at": t0, "updated_at": t0,
                     "submitted_at": t0 if st == AppStatus.SUBMITTED else None})
    keys = [m.key for m in settings.award.materials if m.provided_by == "applicant"]
    docs = []
    for a in apps:
        if a["status"] in (AppStatus.DRAFT, AppStatus.RETURNED):
            for key in rng.sample(keys, rng.randint(0, min(7, len(keys)))):
                docs.append({"application_id": a["id"], "edition": a["edition"], "item_key": key, "sha256": "0" * 64, "size": 1000,
                             "kind": "pdf", "original_name": f"{key}.pdf", "source": "upload",
                             "status": "rejected" if rng.random() < 0.05 else "received", "reason": None,
                             "uploaded_by": a["applicant"], "uploaded_at": t0})
    with engine.begin() as conn:
        conn.execute(insert(Person), people)
        conn.execute(insert(Application), apps)
        if docs:
            conn.execute(insert(Document), docs)
    sessions = make_session_factory(engine)
    with sessions.begin() as s:
        stages.open_stage(s, settings, "apply", actor="system", now=t0)


CPU: dict[str, float] = {}  # the last measure()'s CPU seconds (this process: SQLite works in it)


def measure(engine: Engine, fn) -> tuple[float, int, object]:  # noqa: ANN001
    """Seconds and statements one call takes (its CPU seconds in CPU["last"])."""
    counter = Counter(engine)
    start, cpu = time.perf_counter(), time.process_time()
    result = fn()
    seconds = time.perf_counter() - start
    CPU["last"] = time.process_time() - cpu
    event.remove(engine, "before_cursor_execute", counter._count)
    return seconds, counter.n, result


def run_size(settings: Settings, n: int, url: str | None, workdir: Path) -> dict[str, object]:
    """Build a database of size n and measure plan, send and repeat."""
    db_url = url or f"sqlite:///{workdir / f'bench-{n}.sqlite3'}"
    settings = settings.with_overrides(database={"url": db_url})
    engine = make_engine(db_url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    Base.metadata.create_all(engine)
    populate(engine, settings, n, random.Random(n))
    sessions = make_session_factory(engine)
    install_render_hook(sessions, Renderer(settings))

    def plan():
        with sessions() as s:
            return reminders.plan(s, settings, now=NOW, providers=PROVIDERS)

    def send(now: dt.datetime):
        def go():
            with sessions.begin() as s:
                return reminders.run_due(s, settings, now=now, providers=PROVIDERS)
        return go

    t_plan, q_plan, planned = measure(engine, plan)
    t_send, q_send, sent = measure(engine, send(NOW))
    cpu_send = CPU["last"]
    t_rep, q_rep, again = measure(engine, send(NOW + dt.timedelta(minutes=1)))
    with sessions() as s:
        outbox_rows = s.scalar(select(func.count()).select_from(OutboxMessage))
    engine.dispose()
    assert len(sent) == len(planned) and not again
    return {"apps": n, "people": 2 * n, "reminders": len(sent), "outbox": outbox_rows,
            "plan_s": t_plan, "plan_q": q_plan, "send_s": t_send, "send_q": q_send, "send_cpu": cpu_send,
            "repeat_s": t_rep, "repeat_q": q_rep}


def main(argv: list[str] | None = None) -> None:
    """Print a table of timings and statement counts per size."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000,5000,10000", help="application counts (comma-separated)")
    ap.add_argument("--database-url", default=None,
                    help="a scratch PostgreSQL database (its public schema is DROPPED); default: SQLite files")
    args = ap.parse_args(argv)
    settings = load_settings(ROOT / "config.example.toml")
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-reminders-") as tmp:
        for n in (int(x) for x in args.sizes.split(",")):
            rows.append(run_size(settings, n, args.database_url, Path(tmp)))
    backend = (args.database_url or "sqlite").split(":")[0]
    print(f"reminder sweep at the 3-day point ({backend}); time in seconds, q = SQL statements")
    print(f"{'apps':>6} {'people':>7} {'sent':>6} {'outbox':>7} | {'plan':>7} {'q':>4} | {'send':>7} {'q':>4} | "
          f"{'repeat':>7} {'q':>4} | {'send µs/app':>11} {'send CPU s':>10}")
    for r in rows:
        print(f"{r['apps']:>6} {r['people']:>7} {r['reminders']:>6} {r['outbox']:>7} | {r['plan_s']:>7.3f} "
              f"{r['plan_q']:>4} | {r['send_s']:>7.3f} {r['send_q']:>4} | {r['repeat_s']:>7.3f} {r['repeat_q']:>4} | "
              f"{r['send_s'] / r['apps'] * 1e6:>11.0f} {r['send_cpu']:>10.3f}")


if __name__ == "__main__":
    main()
