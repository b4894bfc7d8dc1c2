"""One callback, one transaction: record and de-duplicate, route, map domain errors to replies."""
from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from sqlalchemy import JSON, bindparam, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from workflows.core import access, audit, people, stages
from workflows.core.errors import DomainError
from workflows.core.models import MEMBER_ID_MAX, InboundCallback
from workflows.core.base import UTCDateTime
from workflows.core.settings import Settings

from .router import Context, Router
from .wecom.inbound import Inbound

log = logging.getLogger(__name__)
PENDING = "pending"  # recorded by the webhook, not yet routed (bot/routing.py)
_SETTLE = (update(InboundCallback)
           .where(InboundCallback.dedupe_key == bindparam("key"), InboundCallback.status == PENDING)
           .values(status=bindparam("status"), error=bindparam("error")))
# Plain SQL (SQLite ≥ 3.35 and PostgreSQL): unlike a dialect insert with on_conflict, a text()
# statement is compiled once and cached, which matters on the path every callback takes.
_INSERT_IGNORING_DUPLICATES = text(
    "INSERT INTO inbound_callback (dedupe_key, userid, kind, payload, received_at, status, error) "
    "VALUES (:dedupe_key, :userid, :kind, :payload, :received_at, :status, :error) "
    "ON CONFLICT (dedupe_key) DO NOTHING RETURNING id"
).bindparams(bindparam("payload", type_=JSON()), bindparam("received_at", type_=UTCDateTime()))


def _word(inbound: Inbound) -> str:
    """The chat word a member typed (for "您之前发送的 `申报`…"), or '' for clicks and files."""
    content = getattr(inbound, "content", None)
    return content.strip().split(" ", 1)[0][:20] if isinstance(content, str) and content.strip() else ""


class Dispatcher:
    """Runs a parsed callback through the router exactly once.

    With a routing worker in the process (`serve`), the webhook only records a callback as `pending` (one
    durable insert) and answers; the worker routes the pending rows in id order, each member's one at a time,
    the routing's effects and the row's outcome in one transaction (bot/routing.py). Inline — without a worker,
    for a private card click (a ballot is never stored with its selection) and for a card page's click (the
    page shows the outcome) — the callback is recorded and routed in one transaction during the request, after
    the member's earlier pending callbacks."""

    def __init__(self, sessions: sessionmaker[Session], settings: Settings, router: Router,
                 services: dict[str, Any] | None = None) -> None:
        self.sessions = sessions
        self.settings = settings
        self.router = router
        self.services = services or {}
        self.engine = sessions.kw["bind"]
        self.worker: Any = None  # bot.routing.RoutingWorker when one runs in this process

    def handle(self, inbound: Inbound, now: dt.datetime, *, inline: bool = False) -> str:
        """Record, de-duplicate and route (or queue for the worker); return 'done', 'queued', 'duplicate',
        'refused' or 'error'. `inline` routes in this call even when a worker runs (a page that shows the result)."""
        record = self.record_of(inbound, now)
        if inbound.userid in access.RESERVED_ACTORS:
            # The bot's own actor names are never a WeCom member's (WeCom ids start with a letter or digit,
            # and the roster refuses them); a callback claiming one is recorded and does nothing.
            log.warning("callback from reserved userid %r ignored", inbound.userid)
            with self.sessions.begin() as s:
                audit.lock_first(s)
                return "refused" if self._record(s, {**record, "status": "refused"}) else "duplicate"
        worker = self.worker
        if worker is not None and not inline and not self.router.is_private(inbound):
            # One durable insert on a plain connection (no session: nothing audited, no outbox, no audit lock).
            with self.engine.begin() as conn:
                if conn.execute(_INSERT_IGNORING_DUPLICATES, {"error": None, **record, "status": PENDING}).first() is None:
                    return "duplicate"
            worker.wake()
            return "queued"
        if worker is not None:
            worker.drain(inbound.userid)  # the member's earlier callbacks first, in their order
        return self.route(inbound, now, record, recorded=False)

    def record_of(self, inbound: Inbound, now: dt.datetime) -> dict[str, Any]:
        """The inbound log's row for a callback (a private card's selection redacted before it is stored)."""
        payload = inbound.as_record()
        if self.router.is_private(inbound) and "SelectedItems" in payload:
            # Redacted before it is stored, whatever the handler then does (a crash included).
            payload["SelectedItems"] = "redacted"
        return {"dedupe_key": inbound.dedupe_key[:300], "userid": inbound.userid[:MEMBER_ID_MAX], "kind": inbound.kind,
                "payload": payload, "received_at": now, "status": "done"}

    def route(self, inbound: Inbound, now: dt.datetime, record: dict[str, Any], *, recorded: bool) -> str:
        """Route one callback exactly once; 'done', 'refused', 'error', 'duplicate' or (recorded) 'taken'.

        Not yet `recorded`: it is inserted (status done) in the routing transaction itself. `recorded`: its
        pending row is settled at the start of the routing transaction (which locks it until commit; another
        worker's attempt waits, then finds it settled); 'taken' if it is no longer pending. On a domain error
        or a bug the routing is rolled back and the outcome recorded, with the reply, in a second transaction."""
        key = record["dedupe_key"]
        failure: DomainError | Exception | None = None
        try:
            with self.sessions.begin() as s:
                # The audit lock before any row lock (the callback's own row first of all): docs/reliability.md.
                audit.lock_first(s)
                if recorded:
                    # Taken and settled in one statement (a PostgreSQL row lock until commit): a failure below
                    # rolls it back to pending, and the outcome is then settled in the second transaction.
                    if not self._settle(s, key, "done"):
                        return "taken"
                elif not self._record(s, record):
                    return "duplicate"
                self.router.route(self._context(s, inbound, now), inbound)
            return "done"
        except DomainError as exc:
            failure = exc
        except Exception as exc:
            log.exception("handler failed for %s", key)
            failure = exc
        # The handler's changes were rolled back; record the outcome and explain, in a new transaction.
        if isinstance(failure, DomainError):
            outcome = {"status": "refused", "error": None}
        else:
            outcome = {"status": "error", "error": f"{type(failure).__name__}: {failure}"[:2000]}
        with self.sessions.begin() as s:
            audit.lock_first(s)
            if recorded:
                if not self._settle(s, key, **outcome):
                    return "taken"
            elif not self._record(s, {**record, **outcome}):
                return "duplicate"
            if isinstance(failure, DomainError):
                if failure.code == "not_allowed":  # the gate refused: who tried what is kept
                    audit.record(s, actor=inbound.userid[:MEMBER_ID_MAX], action="access.refused", now=now,
                                 subject=str(failure.data.get("action", "")), role=failure.data.get("role"))
                if failure.wait_for:  # the reply promises a notice when that stage opens: keep the promise
                    stages.promise_notice(s, self.settings, failure.wait_for, inbound.userid[:MEMBER_ID_MAX], now=now,
                                          word=_word(inbound))
                self._context(s, inbound, now).reply(f"errors.{failure.code}", **failure.data)
                return "refused"
            self._context(s, inbound, now).reply("errors.internal")
        return "error"

    def settle_failed(self, key: str, userid: str, now: dt.datetime, error: str) -> bool:
        """A pending callback the routing could not settle (a damaged row, or a failure in the error path
        itself): settled as an error and its member told, so that the queue goes on. The reply is queued
        without the routing's context (no roster look-up: that may be what failed); if even queueing it fails,
        the row is settled without one (logged). False if the row was no longer pending."""
        error = error[:2000]
        try:
            with self.sessions.begin() as s:
                audit.lock_first(s)
                if not self._settle(s, key, "error", error):
                    return False
                Context(session=s, settings=self.settings, now=now, userid=userid, person=None,
                        services=self.services).reply("errors.internal")
            return True
        except Exception:
            log.exception("the error reply for %s cannot be queued; settled without one", key)
        with self.sessions.begin() as s:
            audit.lock_first(s)
            return self._settle(s, key, "error", error)

    def _context(self, s: Session, inbound: Inbound, now: dt.datetime) -> Context:
        person, removed = people.standing(s, inbound.userid)
        return Context(session=s, settings=self.settings, now=now, userid=inbound.userid,
                       person=person, removed=removed, services=self.services)

    @staticmethod
    def _record(s: Session, record: dict[str, Any]) -> bool:
        """Insert the callback record; False if its dedupe key was already there (a retry)."""
        if s.get_bind().dialect.name in ("sqlite", "postgresql"):
            params = {"error": None, **record}
            return s.connection().execute(_INSERT_IGNORING_DUPLICATES, params).first() is not None
        try:
            with s.begin_nested():
                s.add(InboundCallback(**record))
            return True
        except IntegrityError:
            return False

    @staticmethod
    def _settle(s: Session, key: str, status: str, error: str | None = None) -> bool:
        """Record a pending callback's outcome; False if it was no longer pending."""
        return s.connection().execute(_SETTLE, {"key": key, "status": status, "error": error}).rowcount == 1
