"""The one scheduler: a persisted fixed sweep job, the lock, catch-up after downtime, loud start-up checks."""
from __future__ import annotations

import datetime as dt
import pickle
import subprocess
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, text

import bot.scheduler as scheduler
from bot.runtime import build_runtime
from tests.bot.conftest import deliver, texts
from workflows.core import stages
from workflows.apply.models import AppStatus, Application, Document
from workflows.core.models import OutboxMessage, ReminderSent

ROOT = Path(__file__).resolve().parents[2]
SH = ZoneInfo("Asia/Shanghai")
AT_7D = dt.datetime(2018, 11, 9, 8, 30, tzinfo=SH).astimezone(dt.timezone.utc)  # first reminder of 'apply'


def wait_for(cond, timeout: float = 10.0) -> None:
    """Poll until cond() is true (the scheduler runs jobs in its own thread)."""
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


@pytest.fixture
def handles():
    """Scheduler handles started by a test, shut down afterwards."""
    started: list[scheduler.SchedulerHandle] = []
    yield started
    for h in started:
        h.shutdown(wait=True)


@pytest.fixture
def sweeps(monkeypatch):
    """Count the sweeps the scheduler runs (the job calls run_sweep through the module)."""
    calls: list[dt.datetime] = []
    real = scheduler.run_sweep

    def counting(rt, **kw):
        calls.append(rt.clock())
        return real(rt, **kw)

    monkeypatch.setattr(scheduler, "run_sweep", counting)
    return calls


def start(rt, handles, **kw) -> scheduler.SchedulerHandle:
    h = scheduler.start(rt, **kw)
    handles.append(h)
    return h


def draft_application(rt) -> None:
    now = rt.clock()
    with rt.sessions.begin() as s:
        stages.open_stage(s, rt.settings, "apply", actor="system", now=now)
        app = Application(edition=rt.settings.award.edition_key, applicant="qiye1", status=AppStatus.DRAFT,
                          enterprise_name="韶关钢铁", region_code="440203", created_at=now, updated_at=now)
        s.add(app)
        s.flush()
        s.add(Document(edition=app.edition, application_id=app.id, item_key="application_form", sha256="0" * 64, size=1, kind="pdf",
                       original_name="申报表.pdf", source="upload", uploaded_by="qiye1", uploaded_at=now))


def count(rt, model) -> int:
    with rt.sessions() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_one_sweep_job_is_persisted_and_reloaded_after_a_restart(rt, engine, handles, sweeps):
    h = start(rt, handles)
    assert h.running and rt.scheduler_state == "running"
    job = h.scheduler.get_job(scheduler.SWEEP_JOB_ID)
    assert (job.func_ref, job.coalesce, job.max_instances, job.misfire_grace_time) == (
        scheduler.SWEEP_TARGET, True, 1, rt.settings.scheduler.misfire_grace_seconds)
    assert job.trigger.interval == dt.timedelta(seconds=rt.settings.scheduler.sweep_seconds)
    assert str(h.scheduler.timezone) == "Asia/Shanghai"
    wait_for(lambda: len(sweeps) == 1)
    h.shutdown(wait=True)
    assert scheduler.persisted_jobs(engine) == {scheduler.SWEEP_JOB_ID: scheduler.SWEEP_TARGET}

    rt2 = build_runtime(rt.settings, clock=rt.clock, engine=engine)  # a new process on the same database
    h2 = start(rt2, handles)
    assert h2.running and h2.scheduler.get_job(scheduler.SWEEP_JOB_ID).func_ref == scheduler.SWEEP_TARGET
    assert scheduler.persisted_jobs(engine) == {scheduler.SWEEP_JOB_ID: scheduler.SWEEP_TARGET}
    wait_for(lambda: len(sweeps) == 2)


def test_a_reminder_due_while_the_scheduler_is_down_is_sent_exactly_once(rt, engine, clock, wecom, handles,
                                                                         sweeps):
    draft_application(rt)
    clock.set(AT_7D - dt.timedelta(seconds=5))
    h = start(rt, handles)
    wait_for(lambda: len(sweeps) == 1)
    assert count(rt, ReminderSent) == 0
    h.shutdown(wait=True)

    # Down across the reminder's time, and the persisted job missed many firings.
    clock.set(AT_7D + dt.timedelta(seconds=5))
    with engine.begin() as conn:
        conn.execute(text(f"UPDATE {scheduler.JOBS_TABLE} SET next_run_time = next_run_time - 7200"))
    rt2 = build_runtime(rt.settings, clock=clock, engine=engine)
    start(rt2, handles)
    wait_for(lambda: len(sweeps) == 2)
    wait_for(lambda: count(rt, ReminderSent) == 1)  # the sweep counts when it starts; a loaded machine is slow
    time.sleep(0.3)  # a coalesced catch-up would show up as a third run here
    assert len(sweeps) == 2
    assert count(rt, ReminderSent) == 1 and count(rt, OutboxMessage) == 1
    scheduler.run_sweep(rt2)  # another firing (or another process) at the same time sends nothing more
    assert count(rt, OutboxMessage) == 1

    deliver(rt2)
    [message] = texts(wecom, "qiye1")
    assert "2018年11月15日 23:59" in message and "营业执照" in message and "自评报告" in message
    assert "上传材料：营业执照" in message
    assert "上传材料：申报表" not in message  # received items are not asked for again
    assert "`提交`" in message


def test_a_second_scheduler_waits_in_standby_and_takes_over(rt, engine, handles):
    h1 = start(rt, handles)
    rt2 = build_runtime(rt.settings, clock=rt.clock, engine=engine)
    h2 = start(rt2, handles, retry_seconds=0.05)
    assert h1.running and not h2.running
    assert rt2.scheduler_state == scheduler.STANDBY
    time.sleep(0.2)
    assert not h2.running  # still held
    h1.shutdown(wait=True)
    wait_for(lambda: h2.running)
    assert rt2.scheduler_state == "running" and rt.scheduler_state == "stopped"


def test_a_scheduler_whose_lock_connection_dies_stops_and_another_takes_over(rt, engine, handles, sweeps,
                                                                            monkeypatch):
    """Issue 12.11: the advisory lock is checked before every job run (PostgreSQL)."""
    if engine.dialect.name != "postgresql":
        pytest.skip("the advisory lock is PostgreSQL's")
    finished: list[bool] = []
    counting = scheduler.run_sweep

    def finishing(rt, **kw):
        try:
            return counting(rt, **kw)
        finally:
            finished.append(True)

    monkeypatch.setattr(scheduler, "run_sweep", finishing)
    h1 = start(rt, handles)
    wait_for(lambda: len(finished) == 1)
    assert h1.lock.held()
    with engine.begin() as conn:  # the holder's connection drops (network, restart, an operator)
        assert conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": h1.lock.backend_pid}).scalar()
    assert not h1.lock.held()
    h1.scheduler.modify_job(scheduler.SWEEP_JOB_ID, next_run_time=dt.datetime.now(SH))  # its next job run
    wait_for(lambda: not h1.running)
    assert len(sweeps) == 1                          # the job did not run without the lock
    assert rt.scheduler_state == scheduler.LOST

    rt2 = build_runtime(rt.settings, clock=rt.clock, engine=engine)
    h2 = start(rt2, handles)                          # another process takes over at once
    assert h2.running and rt2.scheduler_state == "running"
    wait_for(lambda: len(sweeps) == 2)
    assert not h1.running and not h1.lock.acquire()   # and the first one stays in standby


def test_the_file_lock_is_held_while_running(rt, engine, handles):
    if engine.dialect.name == "postgresql":
        pytest.skip("SQLite's file lock")
    h = start(rt, handles)
    assert h.lock.held() and h.still_ours()
    h.shutdown(wait=True)
    assert not h.lock.held()


def test_healthz_reports_the_scheduler_state(rt, http, handles):
    start(rt, handles)
    assert http.get("/healthz").get_json()["scheduler"] == "running"


def test_a_renamed_job_target_fails_start_up_loudly_and_deletes_nothing(rt, engine, handles, monkeypatch):
    start(rt, handles).shutdown(wait=True)
    monkeypatch.delattr(scheduler, "sweep")  # the function was renamed in a refactor
    rt2 = build_runtime(rt.settings, clock=rt.clock, engine=engine)
    with pytest.raises(scheduler.SchedulerStartupError, match="reminder-sweep.*bot.scheduler:sweep"):
        scheduler.start(rt2)
    assert rt2.scheduler_state != "running"
    assert scheduler.persisted_jobs(engine) == {scheduler.SWEEP_JOB_ID: scheduler.SWEEP_TARGET}
    monkeypatch.undo()
    assert start(rt2, handles).running  # restored under its old name: starts again


def test_an_unknown_persisted_job_is_reported_not_dropped(rt, engine, handles):
    start(rt, handles).shutdown(wait=True)
    state = pickle.dumps({**pickle.loads(_job_state(engine)), "id": "old-job", "func": "workflows.gone:job"})
    with engine.begin() as conn:
        conn.execute(text(f"INSERT INTO {scheduler.JOBS_TABLE} (id, next_run_time, job_state) VALUES "
                          "('old-job', 0, :s)"), {"s": state})
    with pytest.raises(scheduler.SchedulerStartupError, match="old-job"):
        scheduler.start(rt)
    assert set(scheduler.persisted_jobs(engine)) == {"old-job", scheduler.SWEEP_JOB_ID}
    assert scheduler.forget_job(engine, "old-job") is True  # the operator's explicit decision
    assert start(rt, handles).running


def _job_state(engine) -> bytes:
    with engine.connect() as conn:
        return conn.execute(text(f"SELECT job_state FROM {scheduler.JOBS_TABLE}")).scalar_one()


SCRIPT = """
import sys, time
from bot import scheduler
from bot.runtime import build_runtime
from workflows.core.settings import load_settings
rt = build_runtime(load_settings(sys.argv[1]))
h = scheduler.start(rt)
print(rt.scheduler_state, flush=True)
sys.stdin.readline()
h.shutdown(wait=True)
"""


def write_config(tmp_path: Path, settings) -> Path:
    """A config file for child processes, pointing at the test database and lock file."""
    text_ = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    text_ = text_.replace('url = "sqlite:///var/awardbot.sqlite3"', f'url = "{settings.database.url}"', 1)
    text_ = text_.replace('lock_file = "var/scheduler.lock"', f'lock_file = "{settings.scheduler.lock_file}"', 1)
    text_ = text_.replace("time_travel = false", "time_travel = true", 1)   # the tests replay the calendar
    path = tmp_path / "config.toml"
    path.write_text(text_, encoding="utf-8")
    return path


def test_two_scheduler_processes_start_only_one(tmp_path, settings, engine):
    config = write_config(tmp_path, settings)
    procs = [subprocess.Popen([sys.executable, "-c", SCRIPT, str(config)], cwd=ROOT, text=True,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for _ in range(2)]
    try:
        states = sorted(p.stdout.readline().strip() for p in procs)
    finally:
        for p in procs:
            p.communicate("\n", timeout=30)
    assert states == ["running", scheduler.STANDBY], [p.stderr for p in procs]
    assert scheduler.persisted_jobs(engine) == {scheduler.SWEEP_JOB_ID: scheduler.SWEEP_TARGET}
