"""Actions waiting for their member's confirmation: one tap is never final without a second, informed one.

A member asks for something consequential (a recommendation, 受理, 需补正, 延期 全部 …); the bot proposes it
(`propose`), shows a card that says what will happen, and runs it only when the same member confirms
(`take`). Nothing changes before that. A newer proposal for the same action and subject supersedes the older
one, so an old card cannot run a decision the member has since revised. The bot side is `bot/confirm.py`.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.core import notices
from workflows.core.errors import AlreadyDone, NotFound
from workflows.core.models import Confirmation


def propose(session: Session, *, userid: str, action: str, subject: str, params: dict[str, Any],
            now: dt.datetime) -> Confirmation:
    """Record an action waiting for `userid`'s confirmation (older open ones for the same subject are superseded)."""
    for old in session.scalars(select(Confirmation).where(Confirmation.userid == userid,
                                                          Confirmation.action == action,
                                                          Confirmation.subject == subject,
                                                          Confirmation.status == "open")):
        old.status, old.decided_at = "superseded", now
    conf = Confirmation(userid=userid, action=action, subject=subject, params=notices.jsonable(params),
                        status="open", created_at=now)
    session.add(conf)
    session.flush()
    return conf


def take(session: Session, confirmation_id: int, *, userid: str) -> Confirmation:
    """The member's open confirmation; NotFound if it is not theirs, AlreadyDone if it was settled."""
    conf = session.get(Confirmation, confirmation_id)
    if conf is None or conf.userid != userid:
        raise NotFound("confirmation_unknown")
    if conf.status != "open":
        raise AlreadyDone("confirmation_closed", status=conf.status)
    return conf


def settle(conf: Confirmation, status: str, *, now: dt.datetime) -> None:
    """Mark a confirmation confirmed, cancelled or failed."""
    conf.status, conf.decided_at = status, now
