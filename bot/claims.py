"""Claiming the sender's rows (bot/sender.py): which due rows one sender takes now, and how.

A claim takes due rows in id order and keeps each member's order (only the member's oldest open visible row
may go; the rest are parked behind it) and WeCom's per-member limits (30 a minute, 1000 an hour: a member
over them is parked until enough sends have aged out). Each claim carries a fresh token and a lease
(`Sender.lease`). A claimed message whose body equals one WeCom would drop as a duplicate within the
interval gets a repeat mark, stored with the row so that its own resend stays identical.
"""
from __future__ import annotations

import datetime as dt
import logging
import secrets
from dataclasses import dataclass, fields
from typing import Any, Callable

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session, sessionmaker

from workflows.core import audit
from workflows.core.db import is_postgres
from workflows.core.models import OutboxMessage
from workflows.core.settings import SenderSettings

from .outbox import body_key

log = logging.getLogger("bot.sender")

MESSAGE_ACTIONS = ("send", "send_file")  # what counts against WeCom's per-member limits
VISIBLE_ACTIONS = (*MESSAGE_ACTIONS, "update_card")  # what the member sees, so its order is kept
T = OutboxMessage.__table__


@dataclass(slots=True, eq=False)
class Claimed:
    """A claimed outbox row as the sender works with it: the row's columns as plain attributes (the same names
    as `OutboxMessage`'s), bound to no session. Not its outcome columns (result, last_error, sent_at)."""

    id: int
    recipient: str
    kind: str
    data: dict[str, Any]
    action: str
    payload: dict[str, Any] | None
    status: str
    attempts: int
    next_attempt_at: dt.datetime
    claimed_until: dt.datetime | None
    claim_token: str | None
    body_key: str | None
    created_at: dt.datetime


CLAIM_COLUMNS = tuple(T.c[f.name] for f in fields(Claimed))
# The claim's statements, built once (bound values by name; `expanding` lists).
_STILL_DUE = (((T.c.status == "pending") & (T.c.next_attempt_at <= bindparam("now")))
              | ((T.c.status == "sending") & (T.c.claimed_until < bindparam("now"))))
_DUE = select(*CLAIM_COLUMNS).where(_STILL_DUE).order_by(T.c.id).limit(bindparam("limit"))
_DUE_SKIP_LOCKED = _DUE.with_for_update(skip_locked=True)   # PostgreSQL: rows another sender holds are skipped
_OPEN = (select(T.c.recipient, T.c.id, T.c.status, T.c.next_attempt_at)
         .where(T.c.recipient.in_(bindparam("recipients", expanding=True)), T.c.action.in_(VISIBLE_ACTIONS),
                T.c.status.in_(("pending", "sending")))
         .order_by(T.c.id))
_TAKE = (update(T).where(T.c.id.in_(bindparam("ids", expanding=True)), _STILL_DUE)
         .values(status="sending", claimed_until=bindparam("until"), claim_token=bindparam("token"))
         .returning(T.c.id))
_REQUEUE = update(T).where(T.c.id.in_(bindparam("ids", expanding=True))).values(status="pending")
_PARK = (update(T).where(T.c.recipient == bindparam("b_recipient"), T.c.status == "pending",
                         T.c.next_attempt_at < bindparam("until"))
         .values(next_attempt_at=bindparam("until")))
_RECENT_SENDS = (select(T.c.recipient, T.c.sent_at)
                 .where(T.c.recipient.in_(bindparam("recipients", expanding=True)), T.c.status == "sent",
                        T.c.action.in_(MESSAGE_ACTIONS), T.c.sent_at > bindparam("since"))
                 .order_by(T.c.sent_at))
_RECENT_KEYS = (select(T.c.id, T.c.recipient, T.c.body_key)
                .where(T.c.recipient.in_(bindparam("recipients", expanding=True)), T.c.action == "send",
                       ((T.c.status == "sent") & (T.c.sent_at > bindparam("since"))) | (T.c.status == "sending")))
_PAYLOADS = select(T.c.id, T.c.payload).where(T.c.id.in_(bindparam("ids", expanding=True)))
_SET_KEY = update(T).where(T.c.id == bindparam("b_id")).values(body_key=bindparam("b_key"))
_SET_MARKED = (update(T).where(T.c.id == bindparam("b_id"))
               .values(body_key=bindparam("b_key"), payload=bindparam("b_payload", type_=T.c.payload.type)))


class ClaimRaced(RuntimeError):
    """A due row changed between the claim's SELECT and its UPDATE (no row lock on SQLite): the claim is undone."""


class Claims:
    """The sender's claiming half (a mixin of `bot.sender.Sender`, which sets the attributes below)."""

    sessions: sessionmaker[Session]
    conf: SenderSettings
    lease: dt.timedelta
    duplicate_window: dt.timedelta
    mark_repeat: Callable[[dict[str, Any], int, dt.datetime], dict[str, Any] | None] | None

    # -- claiming -------------------------------------------------------------------------
    def claim(self, now: dt.datetime) -> list[Claimed]:
        """Take due rows in id order, keeping each member's order and WeCom's per-member limits.

        Core statements, not ORM objects: one SELECT of the due rows' columns (on PostgreSQL `FOR UPDATE SKIP
        LOCKED`), one `UPDATE … WHERE id IN (…) AND <still due> RETURNING id` for the claimed rows, and an UPDATE
        by id only for the rows whose repeat mark or body key the claim changed. The rows returned are `Claimed`
        (plain attributes carrying the claim, bound to no session)."""
        try:
            return self._claim(now)
        except ClaimRaced as exc:
            log.warning("claim undone: rows %s changed meanwhile (taken by another sender)", exc.args[0])
            return []

    def _claim(self, now: dt.datetime) -> list[Claimed]:
        with self.sessions.begin() as s:
            audit.exempt(s)  # never audits: no audit lock for its row locks
            conn = s.connection()
            due = _DUE_SKIP_LOCKED if is_postgres(s) else _DUE
            rows = [Claimed(*r) for r in conn.execute(due, {"now": now, "limit": self.conf.batch_size})]
            if not rows:
                return []
            recipients = {r.recipient for r in rows}
            open_rows = conn.execute(_OPEN, {"recipients": list(recipients)}).all()
            queues: dict[str, list[tuple[int, str, dt.datetime]]] = {}
            for recipient, row_id, status, due_at in open_rows:
                queues.setdefault(recipient, []).append((row_id, status, due_at))
            sent_at = self._recent_sends(s, {r.recipient for r in rows if r.action in MESSAGE_ACTIONS}, now)
            claimed: list[Claimed] = []
            blocked: set[str] = set()
            parks: list[tuple[str, dt.datetime]] = []  # (member, until): its pending rows wait until then
            requeued: list[int] = []  # lapsed claims that must wait (rate limit): back to pending
            for row in rows:
                if row.action not in VISIBLE_ACTIONS:  # downloads and look-ups need no order
                    claimed.append(row)
                    continue
                if row.recipient in blocked:
                    continue
                queue = queues.get(row.recipient, [])
                head_id, head_status, head_due = queue[0] if queue else (row.id, "pending", now)
                if head_id != row.id:
                    # Only the member's oldest open row may go; park the rest behind it so they
                    # neither overtake it nor crowd other members out of the batch.
                    blocked.add(row.recipient)
                    if head_status == "pending":
                        parks.append((row.recipient, head_due))
                    continue
                if row.action in MESSAGE_ACTIONS:
                    wait_until = self._rate_limited_until(sent_at.get(row.recipient, []), row.recipient, now, claimed)
                    if wait_until is not None:
                        blocked.add(row.recipient)
                        if row.status != "pending":  # a lapsed claim goes back to the queue, then waits
                            requeued.append(row.id)
                        parks.append((row.recipient, wait_until))
                        continue
                queue.pop(0)
                claimed.append(row)
            if claimed:  # first, so that parking a member's rows (pending only) leaves its claimed ones alone
                token = secrets.token_hex(16)  # this claim's; a reclaim after the lease gets a new one
                until = now + self.lease
                ids = [r.id for r in claimed]
                taken = set(conn.execute(_TAKE, {"ids": ids, "now": now, "until": until, "token": token}).scalars())
                if len(taken) != len(ids):  # another sender changed a row since the SELECT: take nothing now
                    raise ClaimRaced(sorted(set(ids) - taken))
                for row in claimed:
                    row.status, row.claimed_until, row.claim_token = "sending", until, token
            if requeued:
                conn.execute(_REQUEUE, {"ids": requeued})
            for recipient, park_until in parks:
                self._park(s, recipient, park_until)
            self._unique_within_interval(s, claimed, now)
            return claimed

    # -- WeCom's duplicate check ------------------------------------------------------------
    # The body as WeCom's duplicate check compares it: a hash of its canonical JSON (stored as `body_key`).
    _key = staticmethod(body_key)

    def _unique_within_interval(self, s: Session, claimed: list[Claimed], now: dt.datetime) -> None:
        """Give a claimed message whose body equals one sent (or being sent) to the same member within the
        duplicate-check interval a repeat mark, so WeCom delivers it; stored, so its own resend stays equal.

        Runs in the claim transaction; a member's messages are claimed by one sender at a time (only the
        member's oldest open row may go), so two repeats cannot both pass unmarked. Earlier bodies are compared
        by their stored `body_key` (a row claimed before keys were stored is hashed from its payload)."""
        checked = [r for r in claimed if r.action == "send" and r.payload
                   and (r.payload.get("body") or {}).get("enable_duplicate_check")]
        if not checked or self.mark_repeat is None:
            return
        recipients = {r.recipient for r in checked}
        since = now - self.duplicate_window
        ours = {r.id for r in claimed}
        conn = s.connection()
        recent = [(row_id, recipient, key) for row_id, recipient, key in conn.execute(
            _RECENT_KEYS, {"recipients": list(recipients), "since": since}) if row_id not in ours]
        unkeyed = [row_id for row_id, _, key in recent if key is None]
        if unkeyed:
            bodies = {row_id: (payload or {}).get("body") for row_id, payload in conn.execute(
                _PAYLOADS, {"ids": unkeyed})}
            recent = [(row_id, recipient, key if key is not None else
                       (self._key(bodies[row_id]) if bodies.get(row_id) else None))
                      for row_id, recipient, key in recent]
        seen: dict[str, set[str]] = {}  # recipient -> keys of the bodies WeCom would not deliver again
        for _row_id, recipient, key in recent:
            if key is not None:
                seen.setdefault(recipient, set()).add(key)
        marks: list[dict[str, Any]] = []   # rows given a repeat mark: their new body and key
        keys: list[dict[str, Any]] = []    # rows queued without a key (before keys were stored at queueing)
        for row in checked:  # in id order: the first of equal messages goes as it is, the next ones marked
            mine, body = seen.setdefault(row.recipient, set()), row.payload["body"]
            key = row.body_key or self._key(body)  # queued rows carry their key (bot/outbox.py)
            if key in mine:
                marked = None
                for n in range(2, 1000):
                    marked = self.mark_repeat(body, n, now)
                    if marked is None or self._key(marked) not in mine:
                        break
                if marked is not None:
                    row.payload = {**row.payload, "body": marked, "repeat": n}
                    key = self._key(marked)
                    marks.append({"b_id": row.id, "b_key": key, "b_payload": row.payload})
                else:
                    log.warning("outbox row %s repeats a message WeCom will not deliver twice", row.id)
            if key != row.body_key and not (marks and marks[-1]["b_id"] == row.id):
                keys.append({"b_id": row.id, "b_key": key})
            row.body_key = key
            mine.add(key)
        if marks:  # the marked body is stored, so the row's own resend stays identical
            conn.execute(_SET_MARKED, marks)
        if keys:
            conn.execute(_SET_KEY, keys)

    @staticmethod
    def _park(s: Session, recipient: str, until: dt.datetime) -> None:
        s.connection().execute(_PARK, {"b_recipient": recipient, "until": until})

    @staticmethod
    def _recent_sends(s: Session, recipients: set[str], now: dt.datetime) -> dict[str, list[dt.datetime]]:
        """Each recipient's messages sent within the longest limit window (an hour), oldest first: one query
        for the whole claim (the claim changes no sent row, so it reads what per-row queries would)."""
        if not recipients:
            return {}
        sent: dict[str, list[dt.datetime]] = {}
        for recipient, at in s.connection().execute(_RECENT_SENDS, {"recipients": list(recipients),
                                                                    "since": now - dt.timedelta(hours=1)}):
            sent.setdefault(recipient, []).append(at)
        return sent

    def _rate_limited_until(self, recent: list[dt.datetime], recipient: str, now: dt.datetime,
                            claimed: list[Claimed]) -> dt.datetime | None:
        in_batch = sum(1 for r in claimed if r.recipient == recipient and r.action in MESSAGE_ACTIONS)
        for window, limit in ((dt.timedelta(minutes=1), self.conf.max_per_minute),
                              (dt.timedelta(hours=1), self.conf.max_per_hour)):
            sent = [at for at in recent if at > now - window]
            if len(sent) + in_batch >= limit:
                # Wait until enough of the window's sends have aged out.
                index = min(len(sent) - 1, max(0, len(sent) + in_batch - limit))
                oldest = sent[index] if sent else now
                return max(now, oldest + window) + dt.timedelta(milliseconds=1)
        return None
