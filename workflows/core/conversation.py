"""Conversation state per member, stored in the database (restarts and retries continue it)."""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from workflows.core.models import Conversation


def current(session: Session, userid: str) -> Conversation | None:
    """The member's active conversation, if any."""
    return session.get(Conversation, userid)


def start(session: Session, userid: str, flow: str, step: str, *, now: dt.datetime, **data: Any) -> Conversation:
    """Begin (or restart) a flow at a step."""
    conv = session.get(Conversation, userid)
    if conv is None:
        conv = Conversation(userid=userid, flow=flow, step=step, data=dict(data), updated_at=now)
        session.add(conv)
    else:
        conv.flow, conv.step, conv.data, conv.updated_at = flow, step, dict(data), now
    return conv


def advance(conv: Conversation, step: str, *, now: dt.datetime, **data: Any) -> Conversation:
    """Move to another step, merging data."""
    conv.step = step
    conv.data = {**(conv.data or {}), **data}
    conv.updated_at = now
    return conv


def end(session: Session, userid: str) -> bool:
    """Leave any flow; True if there was one."""
    conv = session.get(Conversation, userid)
    if conv is None:
        return False
    session.delete(conv)
    session.flush()
    return True
