"""Notices: what workflows decide to tell people, queued in the outbox in the same transaction.

A workflow never renders text and never calls WeCom; it adds outbox rows with a `kind` and
`data`.  The bot renders them (templates/) before commit and its sender delivers them.
"""
from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Iterable

from sqlalchemy import insert
from sqlalchemy.orm import Session

from workflows.core.clock import queued_at
from workflows.core.models import CardTask, OutboxMessage

# session.info key of the bot's renderer for bulk queueing: (recipient, kind, data, now) → outbox row dicts,
# rendered (long texts as several rows). Without it, rows are queued one by one and rendered at flush.
RENDER_ROWS = "outbox.render_rows"


def jsonable(value: Any) -> Any:
    """Notice data as JSON: datetimes become ISO strings (templates show them with `|local`)."""
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.timezone.utc).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)  # Fraction, Decimal, enums: their text


def notify(session: Session, to: str | Iterable[str], kind: str, *, now: dt.datetime, **data: Any) -> list[OutboxMessage]:
    """Queue a message of `kind` to one or more members."""
    recipients = [to] if isinstance(to, str) else list(dict.fromkeys(to))
    now = queued_at(session, now)
    rows = [OutboxMessage(recipient=r, kind=kind, data=jsonable(data), action="send", next_attempt_at=now, created_at=now)
            for r in recipients]
    session.add_all(rows)
    return rows


def notify_many(session: Session, items: Iterable[tuple[str, str, dict[str, Any]]], *, now: dt.datetime) -> int:
    """Queue many messages (recipient, kind, data) at once, in order: rendered and inserted in bulk when the
    bot has installed its renderer, else one `notify` each. Returns how many messages were queued."""
    render_rows = session.info.get(RENDER_ROWS)
    items = list(items)
    now = queued_at(session, now)
    if render_rows is None:
        for recipient, kind, data in items:
            notify(session, recipient, kind, now=now, **data)
        return len(items)
    if session.new:  # rows queued earlier in this transaction keep their place (ids are the queue order)
        session.flush()
    rows = [row for recipient, kind, data in items for row in render_rows(recipient, kind, jsonable(data), now)]
    if rows:
        session.execute(insert(OutboxMessage), rows)
    return len(items)


def new_task_id(kind: str) -> str:
    """A globally unique WeCom card task id (only [A-Za-z0-9_-@], ≤128 bytes)."""
    return f"{kind.replace('.', '-')}-{uuid.uuid4().hex}"


def send_card(session: Session, to: str, kind: str, *, subject: str, now: dt.datetime, **data: Any) -> CardTask:
    """Queue an interactive card and remember its task id and subject."""
    task_id = new_task_id(kind.split(".")[-1])
    now = queued_at(session, now)
    row = OutboxMessage(recipient=to, kind=kind, data=jsonable({**data, "task_id": task_id}), action="send",
                        next_attempt_at=now, created_at=now)
    session.add(row)
    session.flush()
    task = CardTask(task_id=task_id, recipient=to, kind=kind, subject=subject, outbox_id=row.id,
                    status="open", created_at=now)
    session.add(task)
    return task


def update_card(session: Session, task: CardTask, kind: str, *, response_code: str | None,
                now: dt.datetime, close: bool = True, **data: Any) -> OutboxMessage:
    """Queue a replacement of a card for its recipient (update_template_card) and close it."""
    now = queued_at(session, now)
    row = OutboxMessage(recipient=task.recipient, kind=kind,
                        data=jsonable({**data, "task_id": task.task_id, "response_code": response_code}),
                        action="update_card", next_attempt_at=now, created_at=now)
    session.add(row)
    if close:
        task.status = "closed"
        task.closed_at = now
    return row


def send_file(session: Session, to: str, *, sha256: str, filename: str, now: dt.datetime) -> OutboxMessage:
    """Queue a stored document to be uploaded to WeCom and sent as a file message."""
    now = queued_at(session, now)
    row = OutboxMessage(recipient=to, kind="file", data={"sha256": sha256, "filename": filename},
                        action="send_file", next_attempt_at=now, created_at=now)
    session.add(row)
    return row


def fetch_media(session: Session, userid: str, *, media_id: str, purpose: str, now: dt.datetime, **data: Any) -> OutboxMessage:
    """Queue a download of a member's chat attachment from WeCom (done outside the request). `now` is the time
    the callback that carried it was received: the file is judged at that time, whenever it is downloaded."""
    received = now
    now = queued_at(session, now)
    row = OutboxMessage(recipient=userid, kind=f"fetch.{purpose}",
                        data=jsonable({"media_id": media_id, **data, "received_at": received.isoformat()}),
                        action="fetch_media", next_attempt_at=now, created_at=now)
    session.add(row)
    return row
