"""Three answers about health, each "ok / not ok" to the world and with details for this machine or the token.

* `/livez` — this process: it answers, and the routing and sender threads it started still run. A process
  supervisor restarts a process that fails it. Nothing outside the process counts (the database, a backlog, the
  scheduler): restarting would not mend those.
* `/readyz` — this process can serve requests now: it is live and its database answers. **The load balancer's
  check.** A routing backlog or an overdue sweep does not fail it: they are the deployment's, and taking every
  web process out at once would only stop the callbacks too.
* `/healthz` — the deployment, for monitoring and alerts: also a callback waiting more than two minutes to be
  routed, this process's scheduler (start-up failed, its thread or sweep job is gone, its last sweep raised, it
  lost its lock) and the deployment's sweep (overdue: no scheduler anywhere runs it).

The public answer runs only cheap queries (`SELECT 1`, the pending callbacks through their partial index, one
job-store row); the outbox's counts by status (a GROUP BY over the whole table) only go into the details.
See docs/operations.md.
"""
from __future__ import annotations

import hmac
import ipaddress
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from flask import Request
from sqlalchemy import inspect, text

from . import outbox, routing
from .runtime import Runtime
from .scheduler import JOBS_TABLE, SWEEP_JOB_ID

# A recorded callback not routed after this long: no routing worker runs, or it cannot keep up.
ROUTING_BEHIND_SECONDS = 120
# A request carrying one of these came through a proxy (waitress keeps them: bot/serve.py `waitress_options`).
FORWARDING_HEADERS = ("X-Forwarded-For", "X-Real-IP", "Forwarded", "X-Forwarded-Host", "X-Forwarded-Proto")


@dataclass
class Health:
    """The verdict and what it rests on."""

    problems: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Whether nothing is wrong."""
        return not self.problems


def proxied(request: Request) -> bool:
    """Whether the request came through a reverse proxy (it names the client it forwards for)."""
    return any(h in request.headers for h in FORWARDING_HEADERS)


def may_see_details(request: Request, rt: Runtime) -> bool:
    """The health token in the `Authorization: Bearer …` header, or a direct loopback request.

    Never a token in the address (it would sit in every proxy's access log). A request that came through a proxy
    is never "local", whatever address the proxy connects from or forwards (`proxied`)."""
    conf = rt.settings.server
    if conf.health_token:
        auth = request.headers.get("Authorization", "")
        given = auth[7:].strip() if auth[:7].lower() == "bearer " else ""
        if given and hmac.compare_digest(given.encode(), conf.health_token.encode()):
            return True
    if not conf.health_local_details or proxied(request):
        return False
    try:
        return ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        return False


def liveness(rt: Runtime) -> Health:
    """This process: the routing and sender threads it started are alive (no database, no backlog)."""
    h = Health()
    for part, service in (("router", "router_thread"), ("sender", "sender_thread")):
        thread = rt.services.get(service)
        if thread is not None:
            h.details[part] = "running" if thread.is_alive() else "stopped"
            if not thread.is_alive():
                h.problems.append(f"{part}: thread stopped")
    return _listed(h)


def readiness(rt: Runtime) -> Health:
    """This process can serve now: live, and its database answers."""
    h = liveness(rt)
    try:
        with rt.sessions() as s:
            s.execute(text("SELECT 1"))
        h.details["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - report, don't crash
        h.details["database"] = f"error: {type(exc).__name__}"
        h.problems.append("database unreachable")
    return _listed(h)


def check(rt: Runtime, *, details: bool = False) -> Health:
    """The deployment: readiness, the routing backlog, the scheduler and the sweep; the outbox only in details."""
    h = readiness(rt)
    if h.details["database"] == "ok":
        try:
            with rt.sessions() as s:
                callbacks = routing.backlog(s, rt.clock())
                if details:
                    st = outbox.status(s, rt.clock())
                    h.details["outbox"] = {"pending": st.pending, "sending": st.sending, "sent": st.sent,
                                           "dead": st.dead, "oldest_pending_seconds": st.oldest_pending_seconds}
            h.details["callbacks"] = callbacks
            if (callbacks["oldest_pending_seconds"] or 0) > ROUTING_BEHIND_SECONDS:
                h.problems.append(f"routing: a callback has waited {int(callbacks['oldest_pending_seconds'])} s")
        except Exception as exc:  # noqa: BLE001
            h.details["database"] = f"error: {type(exc).__name__}"
            h.problems.append("database unreachable")
    h.details["scheduler"] = rt.scheduler_state
    problem = scheduler_problem(rt)
    if problem is None and h.details["database"] == "ok":
        problem = sweep_overdue(rt)
    if problem:
        h.details["scheduler_problem"] = problem
        h.problems.append(f"scheduler: {problem}")
    return _listed(h)


def _listed(h: Health) -> Health:
    h.details.pop("problems", None)
    if h.problems:
        h.details["problems"] = list(h.problems)
    return h


# What each health path answers (bot/app.py): path → the check, given whether details may be shown.
VIEWS: dict[str, Callable[[Runtime, bool], Health]] = {
    "/livez": lambda rt, details: liveness(rt),
    "/readyz": lambda rt, details: readiness(rt),
    "/healthz": lambda rt, details: check(rt, details=details),
}


def scheduler_problem(rt: Runtime) -> str | None:
    """What is wrong with this process's scheduler, if anything (standby and 'not running' are fine)."""
    if rt.scheduler_state.startswith("failed"):
        return rt.scheduler_state.splitlines()[0][:200]
    handle = rt.services.get("scheduler")
    health = getattr(handle, "health", None)
    return health() if callable(health) else None


def sweep_overdue(rt: Runtime) -> str | None:
    """The persisted sweep job's next run lies well in the past: no scheduler of the deployment runs it.
    (APScheduler keeps `next_run_time` as wall-clock epoch seconds; a live scheduler moves it on.)"""
    conf = rt.settings.scheduler
    try:
        if not inspect(rt.engine).has_table(JOBS_TABLE):
            return None
        with rt.engine.connect() as conn:
            next_run = conn.execute(text(f"SELECT next_run_time FROM {JOBS_TABLE} WHERE id = :id"),
                                    {"id": SWEEP_JOB_ID}).scalar()
    except Exception as exc:  # noqa: BLE001
        return f"job store unreadable ({type(exc).__name__})"
    late = time.time() - float(next_run) if next_run is not None else 0.0
    if late > 3 * conf.sweep_seconds + 60:
        return f"sweep overdue by {int(late)} s (no scheduler is running it)"
    return None
