"""The one scheduler: APScheduler 3.11 running a single fixed sweep job, guarded by a lock.

Reminders are rows claimed by the sweep (workflows.reminders), not one APScheduler job each, so
a missed or duplicated firing changes nothing: the next sweep sends what is due, once.  Only one
process may schedule (a file lock on SQLite, `pg_try_advisory_lock` on PostgreSQL); the others
wait in standby and take over when the lock frees.  Before every job run the scheduler checks that
the lock is still its own (on PostgreSQL: its connection is alive and holds the advisory lock in
pg_locks); if not — the connection dropped, so another process may hold the lock now — it stops
scheduling and waits in standby to take the lock again.  Before starting, every persisted job's target
must import: APScheduler would otherwise log and *delete* a job it cannot restore.
"""
from __future__ import annotations

import datetime as dt
import logging
import pickle
import threading
from pathlib import Path
from typing import Any, Callable

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.util import ref_to_obj
from filelock import FileLock, Timeout
from sqlalchemy import Connection, Engine, inspect, text

from workflows.core import reminders
from workflows import review
from workflows import voting
from workflows.publicity import places
from workflows.core.db import advisory_key_sql, is_postgres
from workflows.core.reminders import Planned
from workflows.edition import PROVIDERS

from .runtime import Runtime

log = logging.getLogger(__name__)

JOBS_TABLE = "apscheduler_jobs"
SWEEP_JOB_ID = "reminder-sweep"
SWEEP_TARGET = "bot.scheduler:sweep"
ADVISORY_LOCK_KEY = 0x61776264  # "awbd": the one scheduler's lock namespace; the key also names the schema
STANDBY = "standby: another scheduler holds the lock"
# Other stages' periodic work, called as fn(session, settings, actor=, now=) after the reminders.
# Periodic work of other stages, each run in its own transaction after the reminders.
SWEEP_HOOKS: tuple[tuple[str, Callable[..., Any]], ...] = (
    ("review.expire_due", review.expire_due),   # unanswered supplement requests expire
    ("voting.close_due", voting.close_due),     # ballots close at their deadline
    ("places.settle_votes", places.settle_votes),   # a decided replacement vote fills its place
)

# APScheduler persists only "bot.scheduler:sweep"; the job finds the runtime here, and the check that
# this process still holds the scheduler lock (set by the handle that started the scheduler).
_RUNTIME: Runtime | None = None
_STILL_OURS: Callable[[], bool] | None = None
LOST = "standby: the scheduler lock was lost; retrying"


class SchedulerStartupError(RuntimeError):
    """A persisted job cannot be restored; starting would make APScheduler delete it."""


# --- The job -------------------------------------------------------------------------------------

def sweep() -> None:
    """The fixed sweep job: send due reminders and run the other stages' periodic hooks."""
    rt, still_ours = _RUNTIME, _STILL_OURS
    if rt is None:
        raise RuntimeError("bot.scheduler.sweep ran without a runtime; start() sets it")
    if still_ours is not None and not still_ours():
        return  # the lock is gone: another scheduler may be running; the handle has stopped this one
    try:
        sent = run_sweep(rt)
    except Exception as exc:  # /healthz says not ok until a sweep succeeds again
        rt.services["sweep_error"] = type(exc).__name__
        raise
    rt.services["sweep_error"] = None
    if sent:
        log.info("reminder sweep queued %d reminder(s)", len(sent))


def remind(rt: Runtime, *, now: dt.datetime, dry_run: bool = False) -> list[Planned]:
    """Claim and queue the reminders due at `now` in one transaction (also `python -m bot remind`)."""
    with rt.sessions.begin() as s:
        return reminders.run_due(s, rt.settings, now=now, dry_run=dry_run, providers=PROVIDERS)


def run_sweep(rt: Runtime, *, now: dt.datetime | None = None) -> list[Planned]:
    """One sweep at `now` (default: the runtime's clock): reminders, then each hook in its own transaction."""
    now = now or rt.clock()
    sent = remind(rt, now=now)
    for name, hook in SWEEP_HOOKS:
        try:
            with rt.sessions.begin() as s:
                hook(s, rt.settings, now=now)
        except Exception:  # one failing hook must not stop reminders or the other hooks
            log.exception("sweep hook %s failed", name)
    return sent


# --- Start-up check ------------------------------------------------------------------------------

def persisted_jobs(engine: Engine) -> dict[str, str]:
    """Job id → textual target of every job in the job store (empty when there is no table yet)."""
    if not inspect(engine).has_table(JOBS_TABLE):
        return {}
    with engine.connect() as conn:
        rows = conn.execute(text(f"SELECT id, job_state FROM {JOBS_TABLE}")).all()
    jobs = {}
    for job_id, state in rows:
        try:
            jobs[job_id] = pickle.loads(state)["func"]
        except Exception as exc:  # noqa: BLE001 - an unreadable row is reported, not deleted
            jobs[job_id] = f"<unreadable job state: {type(exc).__name__}: {exc}>"
    return jobs


def check_persisted_jobs(engine: Engine) -> None:
    """Raise SchedulerStartupError naming every persisted job whose target cannot be imported."""
    broken = []
    for job_id, ref in persisted_jobs(engine).items():
        try:
            ref_to_obj(ref)
        except Exception as exc:  # noqa: BLE001 - LookupError, ImportError, ValueError…
            broken.append(f"  job {job_id!r}: target {ref!r} cannot be imported ({exc})")
    if broken:
        raise SchedulerStartupError(
            "persisted scheduler jobs cannot be restored; APScheduler would delete them, so the scheduler "
            "does not start:\n" + "\n".join(broken) +
            "\nRestore the function under its old name, or remove the job deliberately with "
            "`python -m bot scheduler --forget-job ID`.")


def forget_job(engine: Engine, job_id: str) -> bool:
    """Delete one persisted job by id (the operator's explicit decision); True if it existed."""
    if not inspect(engine).has_table(JOBS_TABLE):
        return False
    with engine.begin() as conn:
        return conn.execute(text(f"DELETE FROM {JOBS_TABLE} WHERE id = :id"), {"id": job_id}).rowcount > 0


# --- The lock ------------------------------------------------------------------------------------

class FileSchedulerLock:
    """A non-blocking file lock (SQLite: every process is on this machine)."""

    def __init__(self, path: str) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        # Not thread-local: it is taken by the main or the standby thread, checked by the job's, freed by the main one.
        self._lock = FileLock(path, thread_local=False)

    def acquire(self) -> bool:
        """Take the lock if free."""
        try:
            self._lock.acquire(timeout=0)
        except Timeout:
            return False
        return True

    def release(self) -> None:
        """Free the lock."""
        if self._lock.is_locked:
            self._lock.release(force=True)

    def held(self) -> bool:
        """Whether we still hold it (a file lock lives as long as this process)."""
        return self._lock.is_locked


class AdvisoryLock:
    """A PostgreSQL session advisory lock held on a dedicated connection for the scheduler's life."""

    def __init__(self, engine: Engine, key: int = ADVISORY_LOCK_KEY) -> None:
        self.engine, self.key = engine, key
        self._conn: Connection | None = None
        self._key = 0  # the key taken: the namespace and this deployment's schema
        self.backend_pid: int | None = None

    def acquire(self) -> bool:
        """Take the lock if free."""
        conn = self.engine.connect()
        try:
            key = conn.execute(text(f"SELECT {advisory_key_sql('k')}"), {"k": self.key}).scalar()
            got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar()
            conn.commit()  # the lock is session-level; don't sit idle in a transaction
        except Exception:
            conn.close()
            raise
        if got:
            self._conn, self._key = conn, key
            self.backend_pid = conn.execute(text("SELECT pg_backend_pid()")).scalar()
            conn.commit()
            return True
        conn.close()
        return False

    def held(self) -> bool:
        """Whether the lock is still ours: its connection answers and pg_locks shows the lock granted to it.
        A dropped connection (network, server restart, pg_terminate_backend) has released the lock."""
        conn = self._conn
        if conn is None:
            return False
        try:
            got = conn.execute(text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted "
                "AND classid = CAST(:hi AS oid) AND objid = CAST(:lo AS oid) AND objsubid = 1"),
                {"hi": self._key >> 32, "lo": self._key & 0xFFFFFFFF}).scalar()
            conn.commit()
        except Exception:  # noqa: BLE001 - the connection is gone, and the lock with it
            log.warning("scheduler lock connection lost", exc_info=True)
            return False
        return bool(got)

    def release(self) -> None:
        """Free the lock and its connection."""
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self._key})
            conn.commit()
            conn.close()
        except Exception:  # noqa: BLE001 - a dead connection has released the lock already
            conn.invalidate()


def make_lock(rt: Runtime) -> FileSchedulerLock | AdvisoryLock:
    """The lock that fits the database."""
    if is_postgres(rt.engine):
        return AdvisoryLock(rt.engine)
    return FileSchedulerLock(rt.settings.scheduler.lock_file)


# --- Running -------------------------------------------------------------------------------------

class _SharedEngineJobStore(SQLAlchemyJobStore):
    """The job store on the runtime's engine, which it must not dispose (the runtime owns it)."""

    def shutdown(self) -> None:
        """Leave the shared engine alone."""


def build_scheduler(rt: Runtime) -> BackgroundScheduler:
    """An APScheduler with its job store in the application database and the one sweep job."""
    conf = rt.settings.scheduler
    sched = BackgroundScheduler(
        jobstores={"default": _SharedEngineJobStore(engine=rt.engine, tablename=JOBS_TABLE)},
        executors={"default": ThreadPoolExecutor(1)},
        timezone=rt.settings.award.timezone)
    # Runs once right away (catching up on downtime), then every sweep_seconds.
    sched.add_job(SWEEP_TARGET, trigger="interval", seconds=conf.sweep_seconds, id=SWEEP_JOB_ID,
                  name="reminder sweep", replace_existing=True, coalesce=True, max_instances=1,
                  misfire_grace_time=conf.misfire_grace_seconds,
                  next_run_time=dt.datetime.now(rt.settings.award.tz))
    return sched


class SchedulerHandle:
    """What start() returns: the running scheduler, or a standby waiting for the lock."""

    def __init__(self, rt: Runtime, lock: FileSchedulerLock | AdvisoryLock, retry_seconds: float) -> None:
        self.rt, self.lock, self.retry_seconds = rt, lock, retry_seconds
        self.scheduler: BackgroundScheduler | None = None
        self._stop = threading.Event()
        self._mutex = threading.Lock()
        self._standby: threading.Thread | None = None

    @property
    def state(self) -> str:
        """'running', the standby text, 'failed: …' or 'stopped' (also in rt.scheduler_state)."""
        return self.rt.scheduler_state

    @property
    def running(self) -> bool:
        """Whether this process is the scheduler."""
        return self.scheduler is not None

    def try_start(self) -> bool:
        """Take the lock and start scheduling; False (standby) if another process holds it."""
        global _RUNTIME, _STILL_OURS
        with self._mutex:
            if self.scheduler is not None:
                return True
            if self._stop.is_set() or not self.lock.acquire():
                return False
            try:
                check_persisted_jobs(self.rt.engine)
                _RUNTIME, _STILL_OURS = self.rt, self.still_ours
                sched = build_scheduler(self.rt)
                sched.start()
            except BaseException:
                self.lock.release()
                raise
            self.scheduler = sched
            self.rt.scheduler_state = "running"
            log.info("scheduler started (job %s every %ss)", SWEEP_JOB_ID, self.rt.settings.scheduler.sweep_seconds)
            return True

    def still_ours(self) -> bool:
        """Checked before every job run: the lock is still held; if not, stop scheduling and wait in standby
        (another process may have taken the lock: two schedulers must never run at once)."""
        if self.lock.held():
            return True
        log.error("scheduler lock lost (its database connection dropped): stopping jobs, waiting in standby")
        self.rt.scheduler_state = LOST
        self._stop_scheduling()
        if not self._stop.is_set():
            self.wait_in_standby(LOST)
        return False

    def _stop_scheduling(self) -> None:
        global _RUNTIME, _STILL_OURS
        with self._mutex:
            sched, self.scheduler = self.scheduler, None
            if _RUNTIME is self.rt:
                _RUNTIME, _STILL_OURS = None, None
            self.lock.release()  # a dead connection is discarded, not returned to the pool
        if sched is not None:
            sched.shutdown(wait=False)  # called from the job's own thread: don't wait for it

    def wait_in_standby(self, state: str = STANDBY) -> None:
        """Retry the lock in a daemon thread until it is ours or shutdown() is called."""
        self.rt.scheduler_state = state
        log.info("scheduler in standby: another process holds the lock; retrying every %ss", self.retry_seconds)

        def retry() -> None:
            while not self._stop.wait(self.retry_seconds):
                try:
                    if self.try_start():
                        return
                except SchedulerStartupError as exc:
                    self.rt.scheduler_state = f"failed: {exc}"
                    log.critical("%s", exc)
                    return
                except Exception:  # noqa: BLE001 - e.g. the database briefly away: keep waiting
                    log.exception("scheduler lock retry failed")

        self._standby = threading.Thread(target=retry, name="scheduler-standby", daemon=True)
        self._standby.start()

    def health(self) -> str | None:
        """What is wrong with the running scheduler (for /healthz), or None: its thread and sweep job are
        there, its last sweep did not raise, and its lock (if the lock can tell, `held()`) is still held."""
        sched = self.scheduler
        if sched is None:
            return None
        thread = getattr(sched, "_thread", None)
        if not sched.running or (thread is not None and not thread.is_alive()):
            return "scheduler thread stopped"
        if self.rt.services.get("sweep_error"):
            return f"last sweep failed ({self.rt.services['sweep_error']})"
        held = getattr(self.lock, "held", None)
        if callable(held) and not held():
            return "lock lost"
        try:
            if sched.get_job(SWEEP_JOB_ID) is None:
                return "sweep job missing"
        except Exception as exc:  # noqa: BLE001 - the job store is the database
            return f"job store unreadable ({type(exc).__name__})"
        return None

    def shutdown(self, wait: bool = False) -> None:
        """Stop scheduling (or waiting) and free the lock."""
        global _RUNTIME, _STILL_OURS
        self._stop.set()
        with self._mutex:
            if self.scheduler is not None:
                self.scheduler.shutdown(wait=wait)
                self.scheduler = None
                if _RUNTIME is self.rt:
                    _RUNTIME, _STILL_OURS = None, None
                self.lock.release()
                log.info("scheduler stopped")
            self.rt.scheduler_state = "stopped"


def start(rt: Runtime, *, retry_seconds: float | None = None) -> SchedulerHandle:
    """Start the scheduler if this process gets the lock, else wait in standby; raise if a job is broken."""
    check_persisted_jobs(rt.engine)  # fail loudly at start-up, even in standby
    handle = SchedulerHandle(rt, make_lock(rt), retry_seconds or rt.settings.scheduler.sweep_seconds)
    rt.services["scheduler"] = handle  # /healthz asks it (bot/health.py)
    if not handle.try_start():
        handle.wait_in_standby()
    return handle


def run_foreground(rt: Runtime, stop: threading.Event, *, on_state: Callable[[str], None] = log.info) -> None:
    """Run the scheduler (or its standby) until `stop` is set (`python -m bot scheduler`)."""
    handle = start(rt)
    last = None
    try:
        while True:
            if handle.state != last:
                last = handle.state
                on_state(last)
            if stop.wait(1.0):
                break
    finally:
        handle.shutdown(wait=True)
