"""Issue 12 item 14: /healthz says only ok / not ok to the world, details to this machine or the token holder,
and not ok (503) when the database is away, the scheduler failed, the sweep is overdue or the sender died."""
from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import sessionmaker

import bot.scheduler as scheduler
from bot.app import create_app
from bot.simulator import CallbackClient

WORLD = {"REMOTE_ADDR": "203.0.113.7"}
TOKEN = "health-token-0123456789abcdef"


@pytest.fixture
def settings(settings):
    return settings.with_overrides(server={"health_token": TOKEN})


@pytest.fixture
def handles():
    started: list[scheduler.SchedulerHandle] = []
    yield started
    for h in started:
        h.shutdown(wait=True)


def start(rt, handles) -> scheduler.SchedulerHandle:
    h = scheduler.start(rt)
    handles.append(h)
    assert h.running
    return h


def local(http) -> tuple[int, dict]:
    r = http.get("/healthz")
    return r.status_code, r.get_json()


def test_the_world_hears_only_ok_this_machine_and_the_token_get_details(http):
    r = http.get("/healthz", environ_base=WORLD)
    assert (r.status_code, r.get_json()) == (200, {"ok": True}) and r.headers["Cache-Control"] == "no-store"
    status, body = local(http)
    assert status == 200 and body["database"] == "ok" and "outbox" in body and "scheduler" in body
    # through a reverse proxy on this machine: not local, whatever the peer address
    for header in ({"X-Forwarded-For": "127.0.0.1"}, {"X-Real-IP": "198.51.100.1"}, {"Forwarded": "for=1.2.3.4"}):
        assert http.get("/healthz", headers=header).get_json() == {"ok": True}
    assert "outbox" in http.get("/healthz", environ_base=WORLD, headers={"Authorization": f"Bearer {TOKEN}"}).get_json()
    # the token only in the header: in the address it would sit in every proxy's access log
    for bad in ({"headers": {"Authorization": "Bearer nope"}}, {"query_string": {"token": TOKEN}},
                {"headers": {"Authorization": TOKEN}}):
        assert http.get("/healthz", environ_base=WORLD, **bad).get_json() == {"ok": True}


def test_no_token_configured_means_no_remote_details(rt, settings):
    rt.settings = settings.with_overrides(server={"health_token": ""})
    http = create_app(rt).test_client()
    assert http.get("/healthz", environ_base=WORLD, query_string={"token": ""}).get_json() == {"ok": True}
    rt.settings = settings.with_overrides(server={"health_local_details": False})
    assert http.get("/healthz").get_json() == {"ok": True}


def test_an_unreachable_database_is_503(rt, http, tmp_path):
    rt.sessions = sessionmaker(create_engine(f"sqlite:///{tmp_path}/missing/dir/x.db"))
    r = http.get("/healthz", environ_base=WORLD)
    assert (r.status_code, r.get_json()) == (503, {"ok": False})
    status, body = local(http)
    assert status == 503 and body["database"].startswith("error:") and "database unreachable" in body["problems"]


def test_a_failed_scheduler_is_503(rt, http):
    rt.scheduler_state = "failed: persisted scheduler jobs cannot be restored…"
    assert http.get("/healthz", environ_base=WORLD).status_code == 503
    assert local(http)[1]["scheduler_problem"].startswith("failed")
    rt.scheduler_state = scheduler.STANDBY     # another process schedules: fine
    assert local(http)[0] == 200


def dead_thread() -> threading.Thread:
    t = threading.Thread(target=lambda: None)
    t.start()
    t.join()
    return t


def test_a_running_scheduler_is_ok_until_its_thread_dies(rt, http, handles, monkeypatch):
    h = start(rt, handles)
    status, body = local(http)
    assert (status, body["scheduler"]) == (200, "running") and "scheduler_problem" not in body
    monkeypatch.setattr(h.scheduler, "_thread", dead_thread())  # the handle still thinks it runs
    status, body = local(http)
    assert status == 503 and body["scheduler_problem"] == "scheduler thread stopped"


def test_a_failing_sweep_a_lost_lock_or_a_missing_job_is_503(rt, http, handles, monkeypatch):
    h = start(rt, handles)
    end = time.monotonic() + 10
    while "sweep_error" not in rt.services and time.monotonic() < end:  # the start-up sweep is done
        time.sleep(0.02)
    monkeypatch.setattr(scheduler, "run_sweep", lambda rt, **kw: (_ for _ in ()).throw(RuntimeError("db away")))
    with pytest.raises(RuntimeError):
        scheduler.sweep()
    status, body = local(http)
    assert status == 503 and body["scheduler_problem"] == "last sweep failed (RuntimeError)"
    monkeypatch.setattr(scheduler, "run_sweep", lambda rt, **kw: [])
    scheduler.sweep()
    assert local(http)[0] == 200
    monkeypatch.setattr(h.lock, "held", lambda: False, raising=False)   # the lock's connection dropped
    assert local(http)[1].get("scheduler_problem") == "lock lost"
    monkeypatch.setattr(h.lock, "held", lambda: True, raising=False)
    h.scheduler.remove_job(scheduler.SWEEP_JOB_ID)
    assert local(http)[1].get("scheduler_problem") == "sweep job missing"


def test_an_overdue_sweep_means_no_scheduler_runs_anywhere(rt, http, handles, engine):
    start(rt, handles).shutdown(wait=True)     # e.g. the dedicated scheduler process was killed
    assert local(http)[0] == 200               # its next run is still ahead
    late = time.time() - 3 * rt.settings.scheduler.sweep_seconds - 120
    with engine.begin() as conn:
        conn.execute(text(f"UPDATE {scheduler.JOBS_TABLE} SET next_run_time = :t"), {"t": late})
    status, body = local(http)
    assert status == 503 and "overdue" in body["scheduler_problem"]


def test_a_dead_sender_thread_is_503(rt, http):
    rt.services["sender_thread"] = dead_thread()
    status, body = local(http)
    assert (status, body["sender"]) == (503, "stopped")


def test_a_dead_router_thread_or_a_callback_waiting_two_minutes_is_503(rt, http, clock):
    rt.services["router_thread"] = dead_thread()
    status, body = local(http)
    assert (status, body["router"]) == (503, "stopped")
    del rt.services["router_thread"]
    raw = create_app(rt).test_client()               # nothing routes after these requests: the worker is behind
    w = rt.settings.wecom
    cb = CallbackClient(w.token, w.encoding_aes_key, w.corp_id, w.agent_id, raw, now=lambda: clock().timestamp())
    assert cb.send(cb.text("qiye1", "帮助")).status == 200
    clock.advance(seconds=100)
    status, body = local(raw)
    assert status == 200 and body["callbacks"] == {"pending": 1, "oldest_pending_seconds": 100.0}
    clock.advance(seconds=30)
    status, body = local(raw)
    assert status == 503 and "routing: a callback has waited 130 s" in body["problems"]


# --- issue 21 item 8: liveness and readiness apart from the deployment's health ----------------------------------

def answers(http, path: str, **kw) -> tuple[int, dict]:
    r = http.get(path, environ_base=WORLD, **kw)
    assert r.headers["Cache-Control"] == "no-store"
    return r.status_code, r.get_json()


def test_a_backlog_or_an_overdue_sweep_fails_healthz_but_no_web_process_leaves_the_load_balancer(rt, clock, handles,
                                                                                               engine):
    raw = create_app(rt).test_client()               # nothing routes after these requests: the worker is behind
    w = rt.settings.wecom
    cb = CallbackClient(w.token, w.encoding_aes_key, w.corp_id, w.agent_id, raw, now=lambda: clock().timestamp())
    assert cb.send(cb.text("qiye1", "帮助")).status == 200
    clock.advance(seconds=130)
    start(rt, handles).shutdown(wait=True)           # … and the dedicated scheduler was killed long ago
    with engine.begin() as conn:
        conn.execute(text(f"UPDATE {scheduler.JOBS_TABLE} SET next_run_time = :t"),
                     {"t": time.time() - 3 * rt.settings.scheduler.sweep_seconds - 120})
    assert answers(raw, "/healthz") == (503, {"ok": False})
    assert answers(raw, "/readyz") == (200, {"ok": True}) and answers(raw, "/livez") == (200, {"ok": True})
    status, body = answers(raw, "/healthz", headers={"Authorization": f"Bearer {TOKEN}"})
    assert status == 503 and "routing: a callback has waited 130 s" in body["problems"] and "overdue" in \
        body["scheduler_problem"]


def test_a_dead_thread_fails_liveness_and_a_lost_database_readiness_only(rt, http, tmp_path):
    rt.services["sender_thread"] = dead_thread()
    assert answers(http, "/livez") == (503, {"ok": False}) and answers(http, "/readyz")[0] == 503
    status, body = answers(http, "/livez", headers={"Authorization": f"Bearer {TOKEN}"})
    assert (status, body["sender"], body["problems"]) == (503, "stopped", ["sender: thread stopped"])
    del rt.services["sender_thread"]
    rt.sessions = sessionmaker(create_engine(f"sqlite:///{tmp_path}/missing/dir/x.db"))
    assert answers(http, "/livez") == (200, {"ok": True})   # restarting the process would not bring the database back
    assert answers(http, "/readyz") == (503, {"ok": False}) and answers(http, "/healthz") == (503, {"ok": False})


def test_the_public_answer_counts_no_outbox_rows(rt, http, engine):
    from sqlalchemy import event

    statements: list[str] = []

    def seen(conn, cursor, statement, *args):  # noqa: ANN001
        statements.append(statement.upper())
    event.listen(engine, "before_cursor_execute", seen)
    try:
        for _ in range(3):
            assert answers(http, "/healthz") == (200, {"ok": True})
        public = list(statements)
        status, body = answers(http, "/healthz", headers={"Authorization": f"Bearer {TOKEN}"})
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert public and not [s for s in public if "GROUP BY" in s or "OUTBOX_MESSAGE" in s]
    assert status == 200 and body["outbox"]["pending"] == 0     # the details still count the outbox
    assert any("GROUP BY" in s for s in statements[len(public):])
