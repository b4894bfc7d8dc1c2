"""Rendering queued notices inside the deciding transaction, and outbox status queries."""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, func, insert, select
from sqlalchemy.orm import Session, sessionmaker

from workflows.core import clock, sealed
from workflows.core.models import MEMBER_ID_MAX, OutboxMessage
from workflows.core.settings import Settings
from workflows.core.notices import RENDER_ROWS, jsonable

from . import wakeup
from .render import Renderer

log = logging.getLogger(__name__)


def install_render_hook(sessions: sessionmaker[Session], renderer: Renderer) -> None:
    """Render every new outbox row before it is flushed, so text is fixed in the same transaction."""

    # Bulk queueing (notices.notify_many: reminders, announcements) renders through the session's info.
    sessions.kw.setdefault("info", {})[RENDER_ROWS] = (
        lambda recipient, kind, data, now: rendered_rows(renderer, recipient, kind, data, now))

    @event.listens_for(sessions, "before_flush")
    def _render(session: Session, _ctx: object, _instances: object) -> None:
        for obj in list(session.new):
            if isinstance(obj, OutboxMessage) and obj.payload is None:
                render_row(session, renderer, obj)


def body_key(body: dict[str, Any]) -> str:
    """A message body as WeCom's duplicate check compares it: the SHA-256 of its canonical JSON. Stored with an
    unsealed `send` row when it is queued (`body_key`), so the sender's claim compares keys without hashing."""
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def render_row(session: Session, renderer: Renderer, row: OutboxMessage) -> None:
    """Fill a row's payload; long texts become several rows, in order."""
    if row.action == "send":
        bodies = renderer.message(row.recipient, row.kind, row.data)
        row.payload = {"body": bodies[0]}
        sealed_row = bool(row.data.get(SEALED))
        if not sealed_row:  # a sealed row is never keyed (its key would tell equal choices apart)
            row.body_key = body_key(bodies[0])
        for i, body in enumerate(bodies[1:], start=2):
            part = OutboxMessage(recipient=row.recipient, kind=row.kind, data={**row.data, "_part": i},
                                 action="send", payload={"body": body}, next_attempt_at=row.next_attempt_at,
                                 created_at=row.created_at, body_key=None if sealed_row else body_key(body))
            if sealed_row:
                seal_row(renderer.settings, part)
            session.add(part)
    elif row.action == "update_card":
        row.payload = {"body": renderer.card_update(row.recipient, row.kind, row.data)}
    else:  # send_file and fetch_media carry their data as is
        row.payload = {}
    if (row.data or {}).get(SEALED):
        seal_row(renderer.settings, row, seal_size(renderer, row))


# A row whose data names a key (`_sealed`) is stored encrypted under it: data and payload become
# {"_sealed": name, "box": …}; the sender opens it just before the call and blanks it afterwards.
# Its plaintext is padded: to `seal_size` when the data says what the longest such row looks like
# (`_seal_like`, e.g. a round's "已投票" card: one size for every member, whatever was chosen), else
# to a multiple of SEAL_BLOCK.
SEALED = "_sealed"
SEAL_LIKE = "_seal_like"
SEAL_BLOCK = 1024
# Room kept for the per-member strings of a sealed row (its recipient, task id, response code).
_PERSONAL = ("task_id", "response_code")
_PERSONAL_ROOM = MEMBER_ID_MAX
SCRUBBED = {"scrubbed": True}


def _aad(row: OutboxMessage) -> str:
    return f"outbox:{row.recipient}:{row.kind}:{row.action}"


def _plaintext(data: dict[str, Any], payload: dict[str, Any] | None) -> bytes:
    return json.dumps({"data": data, "payload": payload}).encode()


def seal_size(renderer: Renderer, row: OutboxMessage) -> int | None:
    """The padded plaintext length of a sealed card update whose data names its longest form (`_seal_like`).

    The longest form is rendered with room for the longest member id, task id and response code, so
    the size depends on the round alone, never on the member or on what he chose.
    """
    like = row.data.pop(SEAL_LIKE, None)
    if like is None or row.action != "update_card":
        return None
    room = "x" * _PERSONAL_ROOM
    worst = {**row.data, **like,
             **{k: room.ljust(len(str(row.data.get(k) or "")), "x") for k in _PERSONAL}}
    body = renderer.card_update(room.ljust(len(row.recipient), "x"), row.kind, worst)
    return -(-len(_plaintext(worst, {"body": body})) // SEAL_BLOCK) * SEAL_BLOCK


def seal_row(settings: Settings, row: OutboxMessage, size: int | None = None) -> None:
    """Encrypt a rendered row's data and payload under the key its data names, padded to `size` bytes."""
    name = row.data[SEALED]
    key = sealed.load_key(settings, name)
    plain = _plaintext(row.data, row.payload)
    fit = -(-len(plain) // SEAL_BLOCK) * SEAL_BLOCK
    if size is not None and len(plain) > size:
        log.warning("sealed %s row longer than its round's size (%d > %d): padded to blocks", row.kind,
                    len(plain), size)
    padded = plain.ljust(max(size or 0, fit), b" ")
    box = base64.b64encode(sealed.encrypt(key, padded, _aad(row))).decode()
    row.data, row.payload = {SEALED: name, "box": box}, {SEALED: name}


def open_row(settings: Settings, row: OutboxMessage) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """A row's data and payload, opened if sealed (sealed.KeyUnavailable once its key is shredded)."""
    if not (row.data or {}).get(SEALED) or "box" not in row.data:
        return row.data, row.payload
    key = sealed.load_key(settings, row.data[SEALED])
    opened = json.loads(sealed.decrypt_text(key, row.data["box"], _aad(row)))
    return opened["data"], opened["payload"]


def queue_rendered(session: Session, renderer: Renderer, recipient: str, kind: str, *, now: dt.datetime,
                   **data: Any) -> None:
    """Queue a message rendered now with one Core insert: the same rows as `notices.notify` and the render
    hook (long texts become several rows), without the ORM unit of work (every callback's reply takes this)."""
    now = clock.queued_at(session, now)
    if SEALED in data:  # a sealed row is encrypted by the render hook: take the ORM path
        session.add(OutboxMessage(recipient=recipient, kind=kind, data=jsonable(data), action="send",
                                  status="pending", attempts=0, next_attempt_at=now, created_at=now))
        return
    if session.new:  # rows queued earlier in this transaction keep their place (ids are the queue order)
        session.flush()
    session.connection().execute(insert(OutboxMessage), rendered_rows(renderer, recipient, kind, jsonable(data), now))
    wakeup.queued(session)


def rendered_rows(renderer: Renderer, recipient: str, kind: str, data: dict[str, Any],
                  now: dt.datetime) -> list[dict[str, Any]]:
    """The outbox rows (as Core insert values) of one message: what `render_row` makes of an ORM row."""
    bodies = renderer.message(recipient, kind, data)
    return [{"recipient": recipient, "kind": kind, "data": data if i == 1 else {**data, "_part": i},
             "action": "send", "payload": {"body": body}, "status": "pending", "attempts": 0,
             "body_key": None if SEALED in data else body_key(body), "next_attempt_at": now, "created_at": now}
            for i, body in enumerate(bodies, start=1)]


@dataclass(frozen=True)
class OutboxStatus:
    """Counts by status and the oldest pending row's age."""

    pending: int
    sending: int
    sent: int
    dead: int
    oldest_pending_seconds: float | None


def status(session: Session, now: dt.datetime) -> OutboxStatus:
    """How the outbox stands."""
    counts = dict(session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all())
    oldest = session.scalar(select(func.min(OutboxMessage.created_at)).where(OutboxMessage.status == "pending"))
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=dt.timezone.utc)
    return OutboxStatus(counts.get("pending", 0), counts.get("sending", 0), counts.get("sent", 0),
                        counts.get("dead", 0), (now - oldest).total_seconds() if oldest else None)


def dead_rows(session: Session, limit: int = 50) -> list[OutboxMessage]:
    """The most recent permanently failed rows."""
    return list(session.scalars(select(OutboxMessage).where(OutboxMessage.status == "dead")
                                .order_by(OutboxMessage.id.desc()).limit(limit)))
