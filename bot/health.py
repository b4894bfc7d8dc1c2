"""`/healthz`: ok / not ok for everyone, the details for this machine or the health token holder.

Not ok (503) when the database does not answer, this process's scheduler has failed (start-up failed,
its thread or sweep job is gone, its last sweep raised, it lost its lock), the deployment's sweep is
overdue (no scheduler anywhere runs it), this process's routing or sender thread died, or a recorded
callback has waited more than two minutes to be routed. See docs/operations.md.
"""
from __future__ import annotations

import hmac
import ipaddress
import time
from dataclasses import dataclass, field
from typing import Any

from flask import Request
from sqlalchemy import inspect, text

from . import outbox, routing
from .runtime import Runtime
from .scheduler import JOBS_TABLE, SWEEP_JOB_ID

# A recorded callback not routed after this long: no routing worker runs, or it cannot keep up.
ROUTING_BEHIND_SECONDS = 120
FORWARDING_HEADERS = ("X-Forwarded-For", "X-Real-IP", "Forwarded", "X-Forwarded-Host")


@dataclass
class Health:
    """The verdict and what it rests on."""

    problems: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Whether nothing is wrong."""
        return not self.problems


def may_see_details(request: Request, rt: Runtime) -> bool:
    """The health token (header `Authorization: Bearer …` or `?token=`), or a direct loopback request.

    A request that carries a forwarding header came through a proxy and is never "local", whatever
    address the proxy connects from (with `complaint_page.proxy_hops`, ProxyFix already replaced the
    peer address by the forwarded one; either way the header is still there)."""
    conf = rt.settings.server
    if conf.health_token:
        auth = request.headers.get("Authorization", "")
        given = auth[7:].strip() if auth[:7].lower() == "bearer " else request.args.get("token", "")
        if given and hmac.compare_digest(given.encode(), conf.health_token.encode()):
            return True
    if not conf.health_local_details or any(h in request.headers for h in FORWARDING_HEADERS):
        return False
    try:
        return ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        return False


def check(rt: Runtime) -> Health:
    """Database, outbox backlog, scheduler and sender of this process (and the deployment's sweep)."""
    h = Health()
    now = rt.clock()
    try:
        with rt.sessions() as s:
            s.execute(text("SELECT 1"))
            st = outbox.status(s, now)
            callbacks = routing.backlog(s, now)
        h.details["database"] = "ok"
        h.details["outbox"] = {"pending": st.pending, "sending": st.sending, "sent": st.sent, "dead": st.dead,
                               "oldest_pending_seconds": st.oldest_pending_seconds}
        h.details["callbacks"] = callbacks
        if (callbacks["oldest_pending_seconds"] or 0) > ROUTING_BEHIND_SECONDS:
            h.problems.append(f"routing: a callback has waited {int(callbacks['oldest_pending_seconds'])} s")
    except Exception as exc:  # noqa: BLE001 - report, don't crash
        h.details["database"] = f"error: {type(exc).__name__}"
        h.problems.append("database unreachable")
    h.details["scheduler"] = rt.scheduler_state
    problem = scheduler_problem(rt)
    if problem is None and h.details["database"] == "ok":
        problem = sweep_overdue(rt)
    if problem:
        h.details["scheduler_problem"] = problem
        h.problems.append(f"scheduler: {problem}")
    for part, service in (("router", "router_thread"), ("sender", "sender_thread")):
        thread = rt.services.get(service)
        if thread is not None:
            h.details[part] = "running" if thread.is_alive() else "stopped"
            if not thread.is_alive():
                h.problems.append(f"{part}: thread stopped")
    if h.problems:
        h.details["problems"] = h.problems
    return h


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
