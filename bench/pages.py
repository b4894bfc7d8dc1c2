"""Benchmark of the workbench: each page's server time on a full sample edition (`sample --until award`).

The app runs in-process (Flask's test client, no network) on SQLite, signed in as the secretariat through
the WeCom stand-in; every page is requested `--repeat` times after one warm-up, and the median and the
slowest time are printed against the 100 ms target.  A benchmark, not a test: nothing here fails a build.
Run: `python -m bench` (or `python -m bench.pages --repeat 20 [--database-url URL]`).
"""
from __future__ import annotations

import argparse
import datetime as dt
import statistics
import tempfile
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from bot import sample
from bot.app import create_app
from bot.runtime import build_runtime
from bot.simulator import FakeWeCom, serve_in_thread
from workflows.core.db import make_engine
from workflows.core.settings import load_settings
from workflows.tables import Base

ROOT = Path(__file__).resolve().parent.parent
NOW = dt.datetime(2019, 3, 10, 2, 0, tzinfo=dt.timezone.utc)
TARGET_MS = 100
PAGES = ("/admin/edition", "/admin/applications", "/admin/applications?q=韶关", "/admin/applications/1",
         "/admin/applications/1/documents/1", "/admin/experts", "/admin/scores", "/admin/scores?phase=site",
         "/admin/ranking", "/admin/vote", "/admin/vote?verify=1", "/admin/publicity", "/admin/audit",
         "/admin/audit?verify=1", "/admin/exports", "/admin/exports/applications.xlsx",
         "/admin/exports/scores.xlsx", "/admin/reports/material.html")


def main(argv: list[str] | None = None) -> None:
    """Build the sample edition, sign in, time every page."""
    p = argparse.ArgumentParser()
    p.add_argument("--repeat", type=int, default=20)
    p.add_argument("--database-url", default="")
    a = p.parse_args(argv or [])
    tmp = Path(tempfile.mkdtemp(prefix="bench-pages-"))
    url = a.database_url or f"sqlite:///{tmp / 'award.sqlite3'}"
    example = load_settings(ROOT / "config.example.toml")
    award = example.award.model_dump()
    # Real-looking contacts, as a deployment has (the sample edition's publicity refuses the example ones).
    award["secretariat"] |= {"phone": "0751-8123456", "address": "韶关市武江区 市政府质量奖评审委员会秘书处"}
    award["call"]["contacts"] = [{**c, "phone": "0751-8123457"} for c in award["call"]["contacts"]]
    base = example.with_overrides(server={"secret_key": "bench-" + "k" * 40}, award=award)
    w = base.wecom
    fake = FakeWeCom(corp_id=w.corp_id, corp_secret=w.secret, agent_id=w.agent_id, now=lambda: NOW.timestamp())
    api = serve_in_thread(fake)
    settings = base.with_overrides(database={"url": url}, storage={"dir": str(tmp / "uploads")},
                                   wecom={"api_base_url": api.url, "oauth_base_url": api.url,
                                          "login_base_url": api.url})
    engine = make_engine(url)
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    rt = build_runtime(settings, clock=lambda: NOW, engine=engine)
    with rt.sessions.begin() as s:
        sample.run(s, settings, "award", NOW)
    http = create_app(rt).test_client()
    start = http.get("/admin/login/start?via=qr")
    query = {k: v[0] for k, v in parse_qs(urlsplit(start.headers["Location"]).query).items()}
    code = fake.signin.issue_code("mishu")
    assert http.get(f"/admin/auth/callback?code={code}&state={query['state']}").status_code == 302
    print(f"workbench pages on {engine.dialect.name}, sample edition (8 applications, both phases scored, vote,"
          f" notice, award); {a.repeat} requests each, server time in ms (target < {TARGET_MS})")
    print(f"{'page':44} {'median':>7} {'max':>7}  status")
    worst = 0.0
    for path in PAGES:
        http.get(path)  # warm-up: template compile, caches
        times = []
        for _ in range(a.repeat):
            t0 = time.perf_counter()
            resp = http.get(path)
            times.append((time.perf_counter() - t0) * 1000)
            assert resp.status_code == 200, (path, resp.status_code)
        med = statistics.median(times)
        worst = max(worst, med)
        print(f"{path:44} {med:7.1f} {max(times):7.1f}  {'ok' if med < TARGET_MS else 'SLOW'}")
    print(f"slowest median: {worst:.1f} ms ({'within' if worst < TARGET_MS else 'over'} the {TARGET_MS} ms target)")
    api.stop()
    engine.dispose()


if __name__ == "__main__":
    import sys
    main(sys.argv[1:])
