"""The server's clock as a session knows it (RELIABILITY 16 "One clock", docs/operator.md).

Verbs take the moment they act at as `now`; the runtime also puts its own clock in every session's `info`.
Two guards read it:
- a message is queued due at the latest when it is queued (`queued_at`): a caller's later `now` (a command's
  clock, the sample edition's "eleven days later") never parks a member's replies behind it;
- on a real deployment (`[server] time_travel = false`) a record never carries a time later than the server's
  (`recorded_at`: the audit log).
Without an installed clock (workflow tests, scripts) both return `now` unchanged.
"""
from __future__ import annotations

import datetime as dt
from typing import Callable

from sqlalchemy.orm import Session, sessionmaker

SERVER_CLOCK = "clock.server"       # session.info: () -> aware datetime, the server's own clock
TIME_TRAVEL = "clock.time_travel"   # session.info: whether records may carry a caller's later `now`


def install(sessions: sessionmaker[Session], clock: Callable[[], dt.datetime], *, time_travel: bool) -> None:
    """Give every session of this factory the server's clock and the deployment's time-travel setting."""
    info = sessions.kw.setdefault("info", {})
    info[SERVER_CLOCK] = clock
    info[TIME_TRAVEL] = time_travel


def server_now(session: Session) -> dt.datetime | None:
    """The server's clock, if the session has one."""
    clock = session.info.get(SERVER_CLOCK)
    return clock() if clock is not None else None


def queued_at(session: Session, now: dt.datetime) -> dt.datetime:
    """When a message queued by a verb acting at `now` is due (and counts as queued): never after the server's
    clock, so nobody's messages wait for a moment a command or the sample edition only pretended to be."""
    server = server_now(session)
    return now if server is None else min(now, server)


def recorded_at(session: Session, now: dt.datetime) -> dt.datetime:
    """The time a record made by a verb acting at `now` carries: on a real deployment never after the server's
    clock; where time travel is on (the demo, the sample edition), the caller's `now`."""
    if session.info.get(TIME_TRAVEL, True):
        return now
    server = server_now(session)
    return now if server is None else min(now, server)
